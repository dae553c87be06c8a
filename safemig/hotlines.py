"""The hotline directory (content/hotlines.yml), chosen by country and rendered per language."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError

from safemig.i18n import Catalogs

ORIGIN_COUNTRIES = ("KH", "LA", "MM")


@dataclass(frozen=True)
class Hotline:
    id: str
    country: str
    number: str
    organisation: str
    source: str
    last_checked: dt.date
    alt_numbers: tuple[str, ...] = ()
    hours: str = ""
    languages: tuple[str, ...] = ()
    emergency: bool = False
    free: bool = False

    @property
    def numbers(self) -> tuple[str, ...]:
        return (self.number, *self.alt_numbers)


@dataclass(frozen=True)
class Directory:
    hotlines: tuple[Hotline, ...]
    default_countries: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def for_countries(self, countries: list[str], emergency_first: bool = True) -> list[Hotline]:
        chosen = [h for c in countries for h in self.hotlines if h.country == c]
        if emergency_first:
            chosen.sort(key=lambda h: (countries.index(h.country), not h.emergency))
        return chosen

    def all_numbers(self) -> set[str]:
        return {n for h in self.hotlines for n in h.numbers}


def parse_directory(data: dict) -> Directory:
    lines = []
    for raw in data.get("hotlines", []):
        lines.append(
            Hotline(
                id=str(raw["id"]),
                country=str(raw["country"]),
                number=str(raw["number"]),
                organisation=str(raw["organisation"]),
                source=str(raw["source"]),
                last_checked=_as_date(raw["last_checked"]),
                alt_numbers=tuple(str(n) for n in raw.get("alt_numbers", [])),
                hours=str(raw.get("hours") or ""),
                languages=tuple(raw.get("languages", [])),
                emergency=bool(raw.get("emergency", False)),
                free=bool(raw.get("free", False)),
            )
        )
    defaults = {k: tuple(v) for k, v in (data.get("default_countries") or {}).items()}
    return Directory(tuple(lines), defaults)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime: float) -> Directory:
    return parse_directory(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


def load_directory(content_dir: Path) -> Directory:
    """The directory, re-read when the file changes."""
    path = content_dir / "hotlines.yml"
    return _load_cached(str(path), path.stat().st_mtime)


def country_name(code: str, lang: str) -> str:
    """The country's name in `lang` from CLDR (Babel), e.g. KH -> កម្ពុជា."""
    try:
        return Locale.parse(lang).territories.get(code, code)
    except (UnknownLocaleError, ValueError):
        return code


def language_name(code: str) -> str:
    """A language's name in its own script (CLDR), e.g. km -> ខ្មែរ."""
    try:
        return Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError):
        return code


def countries_for(lang: str, origin: str | None, destination: str | None,
                  directory: Directory) -> list[str]:
    """Whose hotlines to show: the user's origin and destination; where one is unknown, the
    language's usual countries too (a Khmer speaker is most likely in Cambodia or Thailand)."""
    chosen = [c for c in (origin, destination) if c]
    if destination is None:
        chosen += list(directory.default_countries.get(lang, ("TH",)))
    return list(dict.fromkeys(chosen))


def format_hotlines(lang: str, countries: list[str], directory: Directory,
                    catalogs: Catalogs, limit_per_country: int = 3) -> str:
    """One line per hotline, grouped by country, names translated, in `lang`."""
    lines: list[str] = []
    for country in countries:
        lines_for = [h for h in directory.for_countries([country])][:limit_per_country]
        if not lines_for:
            continue
        lines.append(f"{country_name(country, lang)}:")
        for h in lines_for:
            org = catalogs.text(lang, f"hotline:{h.id}", h.organisation)
            numbers = " / ".join(h.numbers)
            hours = f" ({catalogs.text(lang, 'hotline-hours', h.hours)})" if h.hours else ""
            lines.append(f"☎ {numbers}: {org}{hours}")
    if not lines:
        fallback = directory.default_countries.get(lang) or ("TH",)
        return format_hotlines(lang, list(fallback), directory, catalogs) if list(
            fallback) != countries else ""
    return "\n".join(lines)
