"""Which team gets a report, and how urgent it is, from the editors' `content/routing.yml`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from safemig.nlu.normalize import normalize

KINDS = ("emergency", "abuse", "missing_person")
BASE_URGENCY = {"emergency": 3, "abuse": 2, "missing_person": 1}


@dataclass(frozen=True)
class Team:
    name: str
    chat_id: int | None = None


@dataclass(frozen=True)
class Rule:
    """A rule matches when every key it names matches; an empty set means any value."""

    team: str
    kinds: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()
    destinations: frozenset[str] = frozenset()

    def matches(self, kind: str, origin: str | None, destination: str | None) -> bool:
        return (
            (not self.kinds or kind in self.kinds)
            and (not self.origins or (origin or "").upper() in self.origins)
            and (not self.destinations or (destination or "").upper() in self.destinations)
        )


@dataclass(frozen=True)
class Routing:
    teams: Mapping[str, Team]
    rules: tuple[Rule, ...]
    default: str
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    outcomes: tuple[str, ...] = ()

    def team_for(self, kind: str, origin: str | None, destination: str | None) -> Team:
        """The first matching rule's team, else the default team."""
        for rule in self.rules:
            if rule.matches(kind, origin, destination):
                return self.teams[rule.team]
        return self.teams[self.default]

    def urgency(self, kind: str, texts: Iterable[str]) -> int:
        """The kind's base urgency, plus one when any text holds an urgent keyword."""
        if kind not in BASE_URGENCY:
            raise ValueError(f"unknown report kind: {kind!r}")
        return BASE_URGENCY[kind] + int(self.is_urgent(texts))

    def is_urgent(self, texts: Iterable[str]) -> bool:
        text = normalize(" ".join(texts)).casefold()
        return any(_keyword_in(keyword, text) for words in self.keywords.values()
                   for keyword in words)


def _keyword_in(keyword: str, text: str) -> bool:
    """Latin keywords match whole words ("beat" is not "beatles"); other scripts are written
    without spaces between words, so they match anywhere."""
    if keyword.isascii():
        return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text) is not None
    return keyword in text


def _codes(raw: object, upper: bool = True) -> frozenset[str]:
    if raw is None:
        return frozenset()
    values = list(raw) if isinstance(raw, (list, tuple, set)) else [raw]
    return frozenset(str(v).upper() if upper else str(v) for v in values)


def parse_routing(data: Mapping, env: Mapping[str, str] | None = None,
                  fallback_chat_id: int | None = None) -> Routing:
    """Build a Routing from the YAML's data; chat ids come from the named environment variables.

    Raises ValueError on a rule naming an unknown team or kind, so a typo in the YAML fails
    at start-up instead of silently sending reports to the default team.
    """
    env = os.environ if env is None else env
    teams: dict[str, Team] = {}
    for name, raw in (data.get("teams") or {}).items():
        var = (raw or {}).get("chat_id_env")
        value = env.get(var, "").strip() if var else ""
        teams[str(name)] = Team(str(name), int(value) if value else fallback_chat_id)
    default = str(data.get("default", "default"))
    teams.setdefault(default, Team(default, fallback_chat_id))
    rules = []
    for raw in data.get("rules") or []:
        rule = Rule(team=str(raw["team"]), kinds=_codes(raw.get("kind"), upper=False),
                    origins=_codes(raw.get("origin")),
                    destinations=_codes(raw.get("destination")))
        if rule.team not in teams:
            raise ValueError(f"routing rule names an unknown team: {rule.team!r}")
        if unknown := rule.kinds - set(KINDS):
            raise ValueError(f"routing rule names an unknown kind: {sorted(unknown)}")
        rules.append(rule)
    keywords = {
        str(lang): tuple(normalize(str(w)).casefold() for w in words or [])
        for lang, words in (data.get("urgent_keywords") or {}).items()
    }
    outcomes = tuple(str(o) for o in data.get("outcomes") or [])
    return Routing(teams, tuple(rules), default, keywords, outcomes)


def load_routing(path: Path, env: Mapping[str, str] | None = None,
                 fallback_chat_id: int | None = None) -> Routing:
    """Read `content/routing.yml`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return parse_routing(data, env, fallback_chat_id)
