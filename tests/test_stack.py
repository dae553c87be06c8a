"""How `safemig run` starts Rasa: the command line Rasa itself will parse."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from rasa.__main__ import create_argument_parser

from safemig.config import load_settings
from safemig.stack import rasa_server, stack_env


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
