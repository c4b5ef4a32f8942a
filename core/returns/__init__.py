"""Returns asked for by shoppers: a record per request, its lines, photos and states."""
