"""Messages to people outside the chat: email now; SMS and preferences come later."""
