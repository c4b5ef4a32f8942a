"""Chat sessions: each chat's dialog state, where it is kept, and one turn at a time per chat."""
