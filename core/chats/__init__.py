"""Chat session state kept in the database: an opaque document per chat, with idle expiry."""
