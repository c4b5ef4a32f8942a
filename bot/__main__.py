"""`python -m bot` is the `chatcart` command."""

from bot.cli import main

main()
