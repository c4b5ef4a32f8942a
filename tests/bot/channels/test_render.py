"""Rendering neutral replies for Telegram and Slack within their limits."""

from __future__ import annotations

from bot.channels.slack.render import BLOCK_LIMIT, MESSAGE_LIMIT, SECTION_LIMIT
from bot.channels.slack.render import render as slack_render
from bot.channels.telegram.render import CAPTION_LIMIT, TEXT_LIMIT
from bot.channels.telegram.render import render as telegram_render
from bot.channels.text import is_public_url, split_text
from bot.channels.webchat import TEXT_LIMIT as WEB_TEXT_LIMIT
from bot.channels.webchat import render as webchat_render
from bot.messages import Button, Link, ProductCard, Reply

ROW = ((Button("Menu", "menu"), Button("Cart", "cart")),)


def test_telegram_escapes_html_so_names_show_as_typed():
    (out,) = telegram_render(Reply("Tom & Jerry <b>mug</b>", buttons=ROW))
    assert out.text == "Tom &amp; Jerry &lt;b&gt;mug&lt;/b&gt;"
    assert [[b.callback_data for b in row] for row in out.keyboard.inline_keyboard] == [
        ["menu", "cart"]]


def test_telegram_splits_long_text_and_keeps_the_keyboard_on_the_last_piece():
    text = "\n".join(f"{n}. A line about a product with <angle> & ampersand" for n in range(400))
    pieces = telegram_render(Reply(text, buttons=ROW, edit=True))
    assert len(pieces) >= 5
    assert all(len(p.text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
               <= TEXT_LIMIT for p in pieces)
    assert [p.keyboard is not None for p in pieces] == [False] * (len(pieces) - 1) + [True]
    assert not any(p.edit for p in pieces), "a split reply is sent, not edited into one message"
    assert pieces[1].text.startswith(tuple("0123456789")), "cut at a line, not mid-word"


def test_telegram_card_is_a_photo_with_caption_or_a_photo_then_the_text():
    card = ProductCard(1, "Blue mug", "€12.50", "In stock", image_url="https://x.example/m.png")
    (photo,) = telegram_render(Reply("Blue mug — €12.50\nSturdy.", buttons=ROW, card=card))
    assert photo.photo == "https://x.example/m.png" and photo.keyboard is not None
    long = "Blue mug — €12.50\n" + "Very sturdy indeed. " * 80
    first, *rest = telegram_render(Reply(long, buttons=ROW, card=card))
    assert first.photo and first.text == "Blue mug — €12.50" and first.keyboard is None
    assert len(first.text) <= CAPTION_LIMIT and rest[-1].keyboard is not None


def test_links_are_buttons_where_telegram_can_open_them_else_written_out():
    reply = Reply("Pay here", links=(Link("Pay", "https://pay.example/s/1"),
                                     Link("Local", "http://127.0.0.1:8000/x")))
    (out,) = telegram_render(reply)
    assert [b.url for row in out.keyboard.inline_keyboard for b in row] == [
        "https://pay.example/s/1"]
    assert "Local: http://127.0.0.1:8000/x" in out.text


def test_slack_blocks_escape_split_and_number_their_buttons():
    text = "<!here> & " + "word " * 1300
    (message,) = slack_render(Reply(text, buttons=ROW + ((Button("x" * 100, "help"),),)))
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) == 3 and all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert sections[0]["text"]["text"].startswith("&lt;!here&gt; &amp;")
    buttons = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [e["action_id"] for e in buttons] == ["cc1", "cc2", "cc3"]
    assert [e["value"] for e in buttons] == ["menu", "cart", "help"]
    assert len(buttons[2]["text"]["text"]) == 75


def test_slack_shows_a_picture_only_where_slack_can_fetch_it():
    public = ProductCard(1, "Blue mug", "€12.50", "In stock", image_url="https://x.example/m.png")
    local = ProductCard(1, "Blue mug", "€12.50", "In stock",
                        image_url="http://127.0.0.1:8000/media/m.png")
    (shown,) = slack_render(Reply("Blue mug", card=public))
    assert shown.blocks[0]["accessory"]["image_url"] == "https://x.example/m.png"
    assert "accessory" not in shown.without_images().blocks[0]
    assert "accessory" not in slack_render(Reply("Blue mug", card=local))[0].blocks[0]


def test_split_text_and_public_urls():
    assert split_text("short", 10) == ["short"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert all(len(p) <= 7 for p in split_text("x" * 20, 7))
    assert is_public_url("https://shop.example/pay")
    for url in ("http://localhost:8000/x", "http://127.0.0.1/x", "http://10.0.0.5/x",
                "ftp://shop.example/x", "https://shop.local/x", "not a url"):
        assert not is_public_url(url), url


def test_slack_markup_in_what_people_type_is_read_as_plain_text():
    from bot.channels.slack.channel import plain_text

    assert plain_text("<mailto:Ann@Example.com|Ann@Example.com>") == "Ann@Example.com"
    assert plain_text("<@U0BOT> show me mugs &lt; 15 &amp; blue") == "show me mugs < 15 & blue"
    assert plain_text("see <https://shop.example/p/1|the mug> or <https://x.example>") == (
        "see the mug or https://x.example")
    assert plain_text("<!here> hi <#C123|general>") == "hi general"


AGENT_ESSAY = "\n\n".join(f"Paragraph {n}: " + "a patient & <careful> answer " * 60
                          for n in range(60))  # about 100,000 characters


def _unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_an_agents_long_answer_is_split_into_several_slack_messages_within_its_limits():
    messages = slack_render(Reply(AGENT_ESSAY, buttons=ROW, edit=True))
    assert len(messages) >= 3
    for message in messages:
        assert len(message.blocks) <= BLOCK_LIMIT
        sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
        assert all(len(text) <= SECTION_LIMIT for text in sections)
        assert sum(len(b["text"]["text"]) for b in message.blocks
                   if b["type"] == "section") <= MESSAGE_LIMIT
        assert len(message.text) <= 3000 and not message.edit
    assert [any(b["type"] == "actions" for b in m.blocks) for m in messages] == [
        False] * (len(messages) - 1) + [True]
    said = " ".join(_unescaped(b["text"]["text"]) for m in messages for b in m.blocks
                    if b["type"] == "section")
    assert said.split() == AGENT_ESSAY.split(), "nothing lost, nothing repeated"


def test_an_agents_long_answer_is_split_for_telegram_without_losing_a_word():
    pieces = telegram_render(Reply(AGENT_ESSAY, buttons=ROW))
    assert all(len(_unescaped(p.text)) <= TEXT_LIMIT for p in pieces)
    assert " ".join(_unescaped(p.text) for p in pieces).split() == AGENT_ESSAY.split()


def test_an_agents_long_answer_is_split_into_web_chat_bubbles():
    card = ProductCard(1, "Blue mug", "€12.50", "In stock", image_url="https://x.example/m.png")
    shown = webchat_render([Reply(AGENT_ESSAY, buttons=ROW, card=card), Reply("Next")])
    *essay, after = shown
    assert len(essay) >= 25 and all(len(b["text"]) <= WEB_TEXT_LIMIT for b in essay)
    assert " ".join(b["text"] for b in essay).split() == AGENT_ESSAY.split()
    assert essay[0]["image"] == "https://x.example/m.png" and essay[1]["image"] is None
    assert [bool(b["buttons"]) for b in essay] == [False] * (len(essay) - 1) + [True]
    assert after == {"text": "Next", "buttons": [], "image": None, "links": []}


def test_slack_notification_text_is_escaped_but_reads_as_typed():
    """The plain `text` of a post is what notifications show, and Slack reads mentions in
    it: escaped like the blocks (Slack shows `&lt;` as `<`), short or split."""
    said = "<!channel> Tom & Jerry: is 2 < 3?"
    (short,) = slack_render(Reply(said))
    long = slack_render(Reply(said + " word" * 9000))
    assert len(long) >= 2
    for message in [short, *long]:
        assert "<" not in message.text and ">" not in message.text
        assert len(message.text) <= 3000
    assert _unescaped(short.text) == said and _unescaped(long[0].text).startswith(said)
