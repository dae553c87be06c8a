"""Build the PTB Application and run it (polling, or a webhook when configured)."""

from __future__ import annotations

import importlib.util
import logging
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

from bot import outbox, staff
from bot.flood import FloodGate
from bot.handlers import register
from bot.retry import RetryLimiter
from bot.services import SERVICES_KEY, BotContext, Services
from bot.store import Store
from safemig.config import Settings
from safemig.i18n import Catalogs
from safemig.languages import default_language, supported_languages
from safemig.rasa_client import RasaClient
from safemig.render import Renderer

log = logging.getLogger(__name__)

# The command menu: command -> the front-end text describing it.
MENU = {
    "help": "fe_cmd_help",
    "hotline": "fe_cmd_hotline",
    "check": "fe_cmd_check",
    "report": "fe_cmd_report",
    "language": "fe_cmd_language",
    "privacy": "fe_cmd_privacy",
    "delete_my_data": "fe_cmd_delete",
}


def services_of(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]


def menu(services: Services, lang: str) -> list[BotCommand]:
    return [BotCommand(command, services.text(name, lang)[:256]) for command, name in MENU.items()]


async def set_commands(app: Application) -> None:
    """The command menu in every language; failures are logged, start-up goes on."""
    services = services_of(app)
    targets: list[str | None] = [None, *supported_languages()]
    for lang in targets:
        try:
            await app.bot.set_my_commands(menu(services, lang or default_language()),
                                          language_code=lang)
        except TelegramError as exc:
            log.warning("set_my_commands(%s) failed: %s", lang or "default", type(exc).__name__)


async def start_background(app: Application) -> None:
    """post_init: the command menu, the staff outbox (when a staff chat is configured), then
    wait for Rasa: the front end starts beside it, and takes no updates (polling or webhook
    starts after this) before Rasa can answer them; the messages Telegram kept while the bot
    was down would otherwise all be told to try again later."""
    await set_commands(app)
    services = services_of(app)
    if staff.staff_chat_ids(services):
        outbox.start(app)
    else:
        log.info("no staff chat configured: reports stay in the queue (safemig queue list)")
    seconds = services.settings.rasa_start_seconds
    if not await services.rasa.wait_until_up(seconds):
        log.warning("Rasa did not answer within %.0f s; taking updates anyway (each gets the "
                    "'try later' answer with hotlines until it does)", seconds)


async def close_services(app: Application) -> None:
    """Stop the staff outbox; close the Rasa client, the queue and the database."""
    await outbox.stop(app)
    staff.close_queue(app)
    services = services_of(app)
    await services.rasa.close()
    services.store.close()


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rasa: RasaClient | None = None,
    store: Store | None = None,
) -> Application:
    """The Application with its services and handlers (requests injectable for tests)."""
    if not settings.telegram_token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .rate_limiter(RetryLimiter())
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(True)
        .post_init(start_background)
        .post_shutdown(close_services)
    )
    if request is not None:
        builder = builder.request(request)
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)
    app = builder.build()
    app.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        store=store or Store(settings.db_path),
        rasa=rasa or RasaClient(settings.rasa_url, timeout=settings.rasa_timeout),
        renderer=Renderer(settings.project_root, Catalogs(settings.locales_dir)),
        flood=FloodGate(settings.flood_messages, settings.flood_seconds),
    )
    register(app, settings.staff_chat_id)
    return app


def run(app: Application, settings: Settings) -> None:
    """Block until stopped: long polling, or the webhook server when TELEGRAM_MODE=webhook."""
    if settings.telegram_mode == "webhook":
        if not settings.webhook_url:
            raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL")
        if importlib.util.find_spec("tornado") is None:
            raise RuntimeError("TELEGRAM_MODE=webhook needs python-telegram-bot[webhooks]")
        app.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
