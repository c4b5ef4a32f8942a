"""The web chat journeys in the shopper's own words, with Rasa classifying every message
(the `trained` fixture of this folder: a RasaNlu that may not fall back)."""

from tests.e2e.test_webchat_text import *  # noqa: F403 - the same journeys, collected here
