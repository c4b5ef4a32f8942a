import pytest

from bot import actions
from bot.messages import Button, ChatRef, Reply


def test_actions_round_trip_and_fit_telegram_callback_data():
    for text in ["menu", "cat:12:3", "add:999999999:99", "qty:5:0", "ord:CC-7KX3MQ"]:
        action = actions.decode(text)
        assert action is not None and action.encode() == text
        assert len(text.encode()) <= 64


@pytest.mark.parametrize("junk", ["", "nope", "add:1", "add:a:b", "add:-1:2", "ord:CC-0000OO",
                                  "menu:1", "x" * 65, "cat:1:2:3", "ord"])
def test_ids_we_never_issued_are_unknown(junk):
    assert actions.decode(junk) is None


def test_a_button_refuses_an_oversized_action():
    with pytest.raises(ValueError):
        Button("Too long", "cat:" + "9" * 70)


def test_replies_render_to_the_web_chat_shape():
    reply = Reply("Pick one", buttons=((Button("Mugs", "cat:1:1"), Button("Lamps", "cat:2:1")),
                                       (Button("Menu", "menu"),)))
    assert reply.to_json() == {
        "text": "Pick one", "image": None, "links": [],
        "buttons": [{"label": "Mugs", "action": "cat:1:1"},
                    {"label": "Lamps", "action": "cat:2:1"}, {"label": "Menu", "action": "menu"}]}
    assert ChatRef("web", "abc", "abc").session_key == "web:abc"
