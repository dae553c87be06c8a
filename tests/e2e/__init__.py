"""End-to-end tests through the telemelya Bot API emulator (see conftest.py)."""
