"""The chat side of Chatcart: channels, handlers, dialogs, NLU, the server and the CLI."""
