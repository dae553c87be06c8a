"""`python -m bot`: run the Telegram front end with the settings from the environment."""

from __future__ import annotations

import logging
import sys

from bot.app import build_application, run
from safemig.config import load_settings


def main() -> int:
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not settings.telegram_token:
        logging.getLogger("bot").error("TELEGRAM_BOT_TOKEN is not set")
        return 2
    run(build_application(settings), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
