"""How shoppers ask the demo shop's FAQ (core/demo/faq.py) in their own words: the
evaluation set for FAQ matching (core/support/faq_search.py). Written before tuning, each
as a shopper might type it; none repeats its question's wording. NOT_IN_FAQ are questions
a shop hears that its FAQ does not answer: they must fall through to "I don't know".
"""

DELIVERY = "How long does delivery take?"
SHIPPING = "How much is shipping?"
PAYMENT = "Which payment methods do you accept?"
RETURNS = "Can I return something?"
ABROAD = "Do you ship internationally?"
HOURS = "When is customer service available?"

PARAPHRASES: dict[str, str] = {
    "when will my parcel arrive": DELIVERY,
    "how many days until my order gets here": DELIVERY,
    "how fast do you deliver": DELIVERY,
    "how quickly will i receive my package": DELIVERY,
    "what is the delivery time": DELIVERY,
    "how soon is it dispatched": DELIVERY,
    "how long will it take to get to me": DELIVERY,
    "how much does postage cost": SHIPPING,
    "what are the shipping fees": SHIPPING,
    "is delivery free": SHIPPING,
    "what do you charge for delivery": SHIPPING,
    "how much is postage to germany": SHIPPING,
    "is there a delivery charge on small orders": SHIPPING,
    "price of shipping": SHIPPING,
    "can i pay with paypal": PAYMENT,
    "do you take credit cards": PAYMENT,
    "what ways can i pay": PAYMENT,
    "is amex accepted": PAYMENT,
    "how do i pay for my order": PAYMENT,
    "which cards do you take": PAYMENT,
    "can i get my money back": RETURNS,
    "i want to send something back": RETURNS,
    "what is your refund policy": RETURNS,
    "can i exchange an item": RETURNS,
    "i don't like it, can i give it back": RETURNS,
    "how do returns work": RETURNS,
    "do i get a refund if it does not fit": RETURNS,
    "do you ship to canada": ABROAD,
    "do you deliver abroad": ABROAD,
    "can i order from australia": ABROAD,
    "which countries do you send to": ABROAD,
    "do you ship overseas": ABROAD,
    "is worldwide delivery possible": ABROAD,
    "what are your opening hours": HOURS,
    "when can i talk to a real person": HOURS,
    "are your staff around at the weekend": HOURS,
    "what time does support open": HOURS,
    "when are you open": HOURS,
    "is anyone from the team available now": HOURS,
}

NOT_IN_FAQ: list[str] = [
    "zebra quantum",
    "do you sell gift cards",
    "is the blue mug dishwasher safe",
    "what is the weather like",
    "are your products vegan",
    "do you have a shop in berlin",
    "who makes the lamps",
    "can i change my email address",
    "tell me a joke",
    "are the candles scented",
]
