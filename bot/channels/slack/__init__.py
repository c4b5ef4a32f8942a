"""Slack through slack-bolt (async): Events API and interactivity, Block Kit replies."""
