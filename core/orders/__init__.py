"""Orders: placed from a cart, with a snapshot of lines and an explicit state machine."""
