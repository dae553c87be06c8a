"""`safemig content check`: what an editor's change must not break, reported with file:line.

Errors: a catalog that does not parse, a missing/empty/fuzzy translation, placeholders that
differ between English and the translation, a response with no catalog entry (or an entry
with no response, or one whose English is out of date), a phone number in a text that is not
in the hotline directory, a number a translation added, invalid YAML, a directory entry
listed as never to show. Warnings: a hotline not checked for more than 12 months.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from safemig.content import Response, load_responses
from safemig.hotlines import parse_directory
from safemig.i18n import DOMAIN

PLACEHOLDER = re.compile(r"\{(\w*)\}")
NUMBER = re.compile(r"(?<![\w.,])\+?\d[\d\- ]*\d(?![\d,.]\d)")
# A number followed by one of these is an amount, a date or a count, not a phone number.
NOT_PHONE_AFTER = re.compile(
    r"^\s*(baht|kyat|us|dollars?|ringgit|won|riel|kip|million|days?|years?|months?|hours?|"
    r"agencies|quick|questions?|warning|%|to \d)", re.IGNORECASE)
STALE_AFTER = dt.timedelta(days=365)
OWN_CONTEXTS = re.compile(r"^(utter_|fe_|label_|word_|staff_)")
# Texts only hotline staff read (in the staff chat) are shown in the default language only.
STAFF_ONLY = re.compile(r"^staff_")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.path}:{self.line}: {kind}: {self.message}"


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


def phone_numbers(text: str) -> list[str]:
    """Numbers in an English text that look like phone numbers (not years, amounts, counts)."""
    found = []
    for match in NUMBER.finditer(text):
        number = match.group(0).strip()
        digits = _digits(number)
        if len(digits) < 3 or re.fullmatch(r"(19|20)\d\d", digits):
            continue
        if NOT_PHONE_AFTER.match(text[match.end():match.end() + 14]):
            continue
        found.append(number)
    return found


def check_yaml(root: Path) -> list[Finding]:
    findings = []
    for folder in ("domain", "content", "nlu_data", "dialogue"):
        for path in sorted((root / folder).rglob("*.yml")):
            try:
                yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 1 if mark else 0
                problem = getattr(exc, "problem", None) or str(exc)
                findings.append(Finding(str(path), line, f"invalid YAML: {problem}"))
    return findings


def read_catalog(path: Path) -> tuple[Catalog | None, list[Finding]]:
    if not path.exists():
        return None, [Finding(str(path), 0, "catalog is missing (run `make catalogs`)")]
    try:
        with path.open("rb") as fh:
            return read_po(fh, abort_invalid=True), []
    except (PoFileError, ValueError, UnicodeDecodeError) as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 0
        return None, [Finding(str(path), line, f"catalog does not parse: {exc}")]


def check_catalog(path: Path, catalog: Catalog, responses: dict[str, Response],
                  directory_digits: set[str], source_language: bool = True) -> list[Finding]:
    findings: list[Finding] = []
    where = str(path)
    seen: set[str] = set()
    for message in catalog:
        if not message.id:
            continue
        msgid = str(message.id)
        line = message.lineno or 0
        context = message.context or ""
        seen.add(context)
        label = f"'{context}'"
        if "fuzzy" in message.flags:
            findings.append(Finding(where, line, f"{label} is marked fuzzy: check and unmark"))
        translation = str(message.string or "")
        if not translation.strip() and not source_language and STAFF_ONLY.match(context):
            continue
        if not translation.strip():
            findings.append(Finding(where, line, f"{label} has no translation"))
            continue
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(translation)):
            findings.append(Finding(
                where, line,
                f"{label} placeholders differ: English has "
                f"{sorted(set(PLACEHOLDER.findall(msgid)))}, translation has "
                f"{sorted(set(PLACEHOLDER.findall(translation)))}"))
        source_digits = {_digits(n) for n in NUMBER.findall(msgid)}
        for number in NUMBER.findall(translation):
            digits = _digits(number)
            if len(digits) >= 3 and digits not in source_digits and digits not in directory_digits:
                findings.append(Finding(
                    where, line, f"{label} has the number {number.strip()} that the English "
                    "text does not have and that is not in content/hotlines.yml"))
        if OWN_CONTEXTS.match(context):
            response = responses.get(context)
            if response is None:
                findings.append(Finding(where, line, f"{label} has no response in domain/ or "
                                        "content/frontend.yml (remove it: `make catalogs`)"))
            elif response.text != msgid:
                findings.append(Finding(where, line, f"{label} translates old English text "
                                        "(run `make catalogs`, then translate the new text)"))
    for name, response in responses.items():
        if response.text and name not in seen:
            findings.append(Finding(where, 0, f"response '{name}' ({response.file}:"
                                    f"{response.line}) has no entry here (run `make catalogs`)"))
    return findings


def check_phone_numbers(
    responses: dict[str, Response], directory_digits: set[str]
) -> list[Finding]:
    findings = []
    for response in responses.values():
        for number in phone_numbers(response.text):
            if _digits(number) not in directory_digits:
                findings.append(Finding(
                    response.file, response.line,
                    f"'{response.name}' shows the number {number}, which is not in "
                    "content/hotlines.yml: hotline numbers live only in the directory"))
    return findings


def check_directory(root: Path, today: dt.date) -> tuple[set[str], list[Finding]]:
    path = root / "content" / "hotlines.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        directory = parse_directory(data)
    except (OSError, yaml.YAMLError, KeyError, ValueError, TypeError) as exc:
        return set(), [Finding(str(path), 0, f"hotline directory unreadable: {exc}")]
    findings = []
    text = path.read_text(encoding="utf-8").splitlines()
    never = {(str(n["country"]), _digits(str(n["number"]))) for n in data.get("never_show", [])}
    for hotline in directory.hotlines:
        line = next((i for i, t in enumerate(text, 1) if f"id: {hotline.id}" in t), 0)
        for number in hotline.numbers:
            if (hotline.country, _digits(number)) in never:
                findings.append(Finding(str(path), line, f"{hotline.id}: {number} is listed "
                                        "under never_show (UNVERIFIED)"))
        if today - hotline.last_checked > STALE_AFTER:
            findings.append(Finding(
                str(path), line, f"{hotline.id} was last checked {hotline.last_checked}: "
                "more than 12 months ago; call it and update last_checked", warning=True))
    return {_digits(n) for n in directory.all_numbers()}, findings


def run_checks(root: Path, languages: tuple[str, ...] | None = None,
               today: dt.date | None = None) -> list[Finding]:
    from safemig.languages import default_language, supported_languages

    findings = check_yaml(root)
    if any(not f.warning for f in findings):
        return findings
    directory_digits, dir_findings = check_directory(root, today or dt.date.today())
    findings += dir_findings
    responses = load_responses(root)  # YAML errors returned above
    findings += check_phone_numbers(responses, directory_digits)
    for lang in languages or supported_languages():
        path = root / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        catalog, problems = read_catalog(path)
        findings += problems
        if catalog is not None:
            findings += check_catalog(path, catalog, responses, directory_digits,
                                      source_language=lang == default_language())
    return findings


def main(root: Path, strict: bool = False) -> int:
    findings = run_checks(root)
    for finding in findings:
        print(finding)
    errors = [f for f in findings if not f.warning or strict]
    warnings = len(findings) - len([f for f in findings if not f.warning])
    print(f"content check: {len(findings) - warnings} errors, {warnings} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(Path(__file__).resolve().parent.parent, strict="--strict" in sys.argv))
