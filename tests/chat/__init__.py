"""A resident's first chat (issue 22): greetings, the bot's own examples, lists by number, one vocabulary."""
