"""How `safemig run` starts its processes: the command line Rasa parses, and the order."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rasa.__main__ import create_argument_parser

from safemig.config import load_settings
from safemig.stack import rasa_server, services, stack_env


@pytest.mark.parametrize("token", ["-starts-with-a-dash", "plain_token-123"])
def test_rasa_gets_its_token_whatever_characters_it_starts_with(token: str,
                                                                tmp_path: Path) -> None:
    """Random tokens (secrets.token_urlsafe) start with "-" one time in 64."""
    settings = dataclasses.replace(load_settings(), rasa_token=token, data_dir=tmp_path)
    args = create_argument_parser().parse_args(rasa_server(settings).argv[1:])
    assert args.auth_token == token and args.enable_api
    assert args.interface == "127.0.0.1"  # never the open 0.0.0.0 default


def test_workers_and_lock_file_reach_rasa(tmp_path: Path) -> None:
    settings = dataclasses.replace(load_settings(), rasa_workers=3, data_dir=tmp_path)
    env = stack_env(settings)
    assert env["SANIC_WORKERS"] == "3"
    assert env["SAFEMIG_LOCK_DB"] == str(tmp_path / "rasa_locks.db")


def test_the_front_end_starts_beside_rasa_not_after_it(tmp_path: Path) -> None:
    """It imports and sets up while Rasa loads its model (about 2 s of the cold start)."""
    settings = dataclasses.replace(load_settings(), data_dir=tmp_path)
    names = [(s.name, s.start_with_next) for s in services(settings, with_telegram=True)]
    assert names == [("actions", True), ("rasa", True), ("telegram", False)]
    assert [s.name for s in services(settings, with_telegram=False)] == ["actions", "rasa"]

