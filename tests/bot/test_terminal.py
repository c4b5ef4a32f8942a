"""The terminal chat: numbers pick buttons, text goes to the bot, quit ends it."""

from bot.channels.terminal import converse, incoming, render
from bot.messages import Button, ChatRef, Kind, Reply


def test_buttons_are_numbered_across_replies():
    text, buttons = render([Reply("Pick", buttons=((Button("Mugs", "cat:1:1"),),)),
                            Reply("Or", buttons=((Button("Cart", "cart"),
                                                  Button("Menu", "menu")),))])
    assert "  1) Mugs" in text and "  3) Menu" in text
    chat = ChatRef("terminal", "me", "me")
    assert incoming(chat, "3", buttons).action == "menu"
    assert incoming(chat, "4", buttons).kind is Kind.TEXT  # not a choice on screen
    assert incoming(chat, "/help", buttons).kind is Kind.COMMAND


async def test_a_conversation_runs_until_quit():
    said, seen = iter(["1", "hello there", "quit", "never read"]), []

    async def bot(msg):
        return [Reply(f"{msg.kind}:{msg.action or msg.text}",
                      buttons=((Button("Cart", "cart"),),))]

    await converse(bot, lambda: next(said), seen.append, ChatRef("terminal", "t", "t"))
    assert [line.splitlines()[0] for line in seen] == ["command:/start", "action:cart",
                                                       "text:hello there"]
