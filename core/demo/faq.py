"""The demo shop's FAQ: what shoppers ask most, answered once."""

DEMO_FAQ: list[tuple[str, str, str]] = [
    ("How long does delivery take?",
     "Orders leave our workshop within 1 working day; delivery takes 2-4 working days in "
     "the EU and 5-8 days elsewhere.", "shipping delivery arrive time days long ship"),
    ("How much is shipping?",
     "Shipping is €4.95 in the EU and free on orders over €50. International shipping "
     "starts at €12.", "cost price postage free shipping delivery charge international"),
    ("Which payment methods do you accept?",
     "Cards (Visa, Mastercard, Amex) and PayPal, on a secure payment page. We never see "
     "your card details.", "pay payment card paypal visa mastercard methods"),
    ("Can I return something?",
     "Yes: unused items can be returned within 30 days for a full refund. Ask for a return "
     "in the chat and we'll send a label.", "return refund exchange policy send back"),
    ("Do you ship internationally?",
     "We ship to most countries in Europe, North America and Oceania.",
     "international abroad worldwide countries overseas ship"),
    ("When is customer service available?",
     "People answer chats Monday to Friday, 9:00-17:00 CET; the bot is here any time.",
     "hours opening open support service available people staff"),
]
