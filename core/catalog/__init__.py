"""Catalog: categories, products, images, search."""
