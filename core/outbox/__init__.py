"""Messages the shop sends to a chat on its own (an order confirmed, a reservation lapsed),
written in the same transaction as the change that caused them and delivered by the bot.
"""
