"""Split long texts into Telegram-sized messages at line breaks or spaces."""

from __future__ import annotations

MAX_MESSAGE = 4096


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in characters) whose UTF-16 length is within `limit`."""
    if _units(text[:limit]) <= limit:
        return min(len(text), limit)
    end = limit
    while end > 0 and _units(text[:end]) > limit:
        end -= 1
    return end


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Pieces of at most `limit` units, cut at the last line break, else space, else hard."""
    pieces: list[str] = []
    rest = text
    while _units(rest) > limit:
        end = _fit(rest, limit)
        window = rest[:end]
        cut = window.rfind("\n")
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = end
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n ")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces
