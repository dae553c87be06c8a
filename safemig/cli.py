"""`safemig`: one command for running, chatting, training, evaluating and content checks."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from safemig.config import Settings, load_settings


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry tokens


async def _run_stack(settings: Settings, with_telegram: bool, console: bool) -> int:
    from safemig.stack import services
    from safemig.supervisor import Supervisor

    supervisor = Supervisor(services(settings, with_telegram))
    supervisor.catch_signals()
    try:
        if not await supervisor.start():
            return 0  # stopped by a signal while starting
    except RuntimeError as exc:
        logging.getLogger("safemig").error("%s", exc)
        return 1
    if console:
        from safemig.console import chat

        supervisor.release_signals()

        try:
            await chat(settings)
        finally:
            await supervisor.stop()
        return 0
    await supervisor.wait_for_signal()
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from safemig.training import train

    if not args.no_train:
        train(settings)
    with_telegram = bool(settings.telegram_token)
    if not with_telegram:
        print("TELEGRAM_BOT_TOKEN is not set: opening the console chat instead.", flush=True)
    return asyncio.run(_run_stack(settings, with_telegram, console=not with_telegram))


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    if args.attach:
        from safemig.console import chat

        asyncio.run(chat(settings))
        return 0
    from safemig.training import train

    if not args.no_train:
        train(settings)
    return asyncio.run(_run_stack(settings, with_telegram=False, console=True))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Rasa and the action server only (for tests, benchmarks and other front ends)."""
    return asyncio.run(_run_stack(settings, with_telegram=False, console=False))


def cmd_train(args: argparse.Namespace, settings: Settings) -> int:
    from safemig.training import train

    train(settings, force=args.force)
    return 0


def cmd_nlu_eval(args: argparse.Namespace, settings: Settings) -> int:
    from safemig.nlu.evaluate import main as eval_main

    return eval_main(args.paths, as_json=args.json, model=args.model, settings=settings)


def cmd_content(args: argparse.Namespace, settings: Settings) -> int:
    from safemig.content_check import main as check_main

    return check_main(settings.project_root, strict=args.strict)


def cmd_queue(args: argparse.Namespace, settings: Settings) -> int:
    from safemig.queue.cli import main as queue_main

    return queue_main(args.queue_args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="safemig", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="all services plus the Telegram bot (console without token)")
    run.add_argument("--no-train", action="store_true", help="do not train even if out of date")
    run.set_defaults(func=cmd_run)

    chat = sub.add_parser("chat", help="console chat against the full stack")
    chat.add_argument("--attach", action="store_true", help="use servers already running")
    chat.add_argument("--no-train", action="store_true")
    chat.set_defaults(func=cmd_chat)

    serve = sub.add_parser("serve", help="Rasa server and action server only")
    serve.set_defaults(func=cmd_serve)

    train = sub.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true")
    train.set_defaults(func=cmd_train)

    nlu = sub.add_parser("nlu-eval", help="evaluate the NLU on Rasa NLU YAML test files")
    nlu.add_argument("paths", nargs="+")
    nlu.add_argument("--json", action="store_true", help="machine-readable output")
    nlu.add_argument("--model", default=None, help="model file (default: models/safemig.tar.gz)")
    nlu.set_defaults(func=cmd_nlu_eval)

    content = sub.add_parser("content", help="content tools")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="check catalogs, domain and hotlines")
    check.add_argument("--strict", action="store_true", help="warnings fail too")
    check.set_defaults(func=cmd_content)

    queue = sub.add_parser("queue", help="the escalation queue (staff)", add_help=False)
    queue.add_argument("queue_args", nargs=argparse.REMAINDER)
    queue.set_defaults(func=cmd_queue)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["queue"]:  # the queue has its own parser (and its own --help)
        settings = load_settings()
        _setup_logging(settings)
        from safemig.queue.cli import main as queue_main

        return queue_main(argv[1:], settings)
    args = build_parser().parse_args(argv)
    settings = load_settings()
    _setup_logging(settings)
    return int(args.func(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
