"""`chatcart chat`: the shop in a terminal. Buttons become numbered choices."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable

from bot.messages import Button, ChatRef, Incoming, Kind, Reply

Handle = Callable[[Incoming], Awaitable[list[Reply]]]


def render(replies: list[Reply]) -> tuple[str, list[Button]]:
    """Text for the terminal and the buttons in the order they were numbered."""
    lines: list[str] = []
    numbered: list[Button] = []
    for reply in replies:
        lines.append(reply.text)
        if reply.image:
            lines.append(f"  [picture: {reply.image}]")
        for link in reply.links:
            lines.append(f"  {link.label}: {link.url}")
        for row in reply.buttons:
            for button in row:
                numbered.append(button)
                lines.append(f"  {len(numbered)}) {button.label}")
    return "\n".join(lines), numbered


def incoming(chat: ChatRef, line: str, buttons: list[Button]) -> Incoming:
    """A bare number picks a button from the last reply; anything else is typed text."""
    text = line.strip()
    if text.isdigit() and 1 <= int(text) <= len(buttons):
        return Incoming(chat, Kind.ACTION, action=buttons[int(text) - 1].action)
    if text.startswith("/") and " " not in text:
        return Incoming(chat, Kind.COMMAND, text=text)
    return Incoming(chat, Kind.TEXT, text=line)


async def converse(handle: Handle, read: Callable[[], str | None],
                   write: Callable[[str], None], chat: ChatRef | None = None) -> None:
    """Talk until end of input or "quit"."""
    user = getpass.getuser()
    chat = chat or ChatRef("terminal", user, user, user)
    text, buttons = render(await handle(Incoming(chat, Kind.COMMAND, text="/start")))
    write(text)
    while (line := read()) is not None:
        if line.strip().lower() in ("quit", "exit"):
            break
        text, buttons = render(await handle(incoming(chat, line, buttons)))
        write(text)
