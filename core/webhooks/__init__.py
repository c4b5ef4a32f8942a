"""Deliveries from outside (platform updates, gateway events), each processed once."""
