"""Guest checkout, payment, cancellation and the stock race through the web chat, with Rasa
classifying every message (the `trained` fixture of this folder)."""

from tests.e2e.test_checkout import *  # noqa: F403 - the same journeys, collected here
