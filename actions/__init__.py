"""Custom actions served by the rasa-sdk action server (`python -m rasa_sdk --actions actions`)."""

from actions import language, red_flags, reports, topics  # noqa: F401  (registers the actions)
