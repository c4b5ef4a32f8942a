"""Telegram through aiogram 3: webhook or long polling, rendering neutral replies."""
