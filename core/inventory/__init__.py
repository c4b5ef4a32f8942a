"""Inventory: stock per product, low-stock alerts, reservations that expire."""
