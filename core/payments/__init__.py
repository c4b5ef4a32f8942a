"""Payments through hosted gateways (Stripe, PayPal, the offline test gateway).

Card data never reaches Chatcart: a shopper pays on the gateway's page behind a link,
and the outcome arrives as a verified, de-duplicated event.
"""
