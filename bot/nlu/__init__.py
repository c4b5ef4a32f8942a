"""Natural language understanding: text to intent and entities, embedded or via Rasa."""
