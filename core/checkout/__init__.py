"""From a cart to an order: addresses, shipping methods, totals, saved addresses."""
