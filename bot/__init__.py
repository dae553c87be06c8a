"""The Telegram front end: relays users' messages to Rasa and Rasa's replies back."""
