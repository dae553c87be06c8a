"""`safemig nlu-eval`: per-language intent and `country` figures for Rasa NLU YAML test files.

The language of a file is its name (en.yml, my_zawgyi.yml); files with other names are split
by the script of each example. Out-of-scope examples count as right when they reach the
fallback: that is what the bot should do with them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safemig.config import Settings
from safemig.language import script_language

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Example:
    text: str
    intent: str
    countries: list[tuple[str, str | None]]  # (value, role)


@dataclass
class Prediction:
    intent: str
    confidence: float
    countries: list[tuple[str, str | None]]
    seconds: float


@dataclass
class Report:
    """Figures for one language (or one file)."""

    name: str
    n: int = 0
    accuracy: float = 0.0
    macro_f1: float = 0.0
    fallback_share: float = 0.0
    out_of_scope_caught: float | None = None
    country: dict[str, float] = field(default_factory=dict)
    country_role_accuracy: float | None = None
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    parse_ms_p50: float = 0.0
    parse_ms_p95: float = 0.0


def load_examples(path: Path) -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    out = []
    for message in data.intent_examples:
        countries = [
            (str(e.get("value")), e.get("role"))
            for e in message.get("entities") or []
            if e.get("entity") == "country"
        ]
        out.append(Example(message.get("text"), message.get("intent"), countries))
    return out


def write_examples(path: Path, examples: Iterable[tuple[str, str]]) -> None:
    """(text, intent) pairs as a Rasa NLU file, written by Rasa's own YAML writer."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    messages = [Message(data={"text": text, "intent": intent}) for text, intent in examples]
    RasaYAMLWriter().dump(path, TrainingData(messages))


def group_by_language(paths: Iterable[Path]) -> dict[str, list[Example]]:
    groups: dict[str, list[Example]] = defaultdict(list)
    for path in paths:
        stem = path.stem
        for example in load_examples(path):
            if len(stem) <= 3 or stem.endswith("_zawgyi"):
                groups[stem].append(example)
            else:
                groups[script_language(example.text) or "unknown"].append(example)
    return dict(groups)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "support": tp + fn}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def score(name: str, examples: list[Example], predictions: list[Prediction]) -> Report:
    from sklearn.metrics import f1_score

    gold = [e.intent for e in examples]
    pred = []
    for e, p in zip(examples, predictions):
        caught = e.intent == OUT_OF_SCOPE and p.intent == FALLBACK
        pred.append(e.intent if caught else p.intent)
    report = Report(name=name, n=len(examples))
    report.accuracy = round(sum(g == p for g, p in zip(gold, pred)) / max(1, len(gold)), 4)
    labels = sorted(set(gold))
    report.macro_f1 = round(
        float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)), 4
    )
    report.fallback_share = round(
        sum(p.intent == FALLBACK for p in predictions) / max(1, len(predictions)), 4
    )
    oos = [p for e, p in zip(examples, predictions) if e.intent == OUT_OF_SCOPE]
    if oos:
        caught = sum(p.intent in (OUT_OF_SCOPE, FALLBACK) for p in oos)
        report.out_of_scope_caught = round(caught / len(oos), 4)
    confusions = Counter((g, p) for g, p in zip(gold, pred) if g != p)
    report.confusions = [(g, p, n) for (g, p), n in confusions.most_common(5)]
    tp = fp = fn = 0
    role_right = role_total = 0
    for e, p in zip(examples, predictions):
        want = Counter(v for v, _ in e.countries)
        got = Counter(v for v, _ in p.countries)
        tp += sum((want & got).values())
        fp += sum((got - want).values())
        fn += sum((want - got).values())
        for value, role in e.countries:
            if role:
                role_total += 1
                role_right += (value, role) in p.countries
    report.country = _prf(tp, fp, fn)
    report.country_role_accuracy = round(role_right / role_total, 4) if role_total else None
    times = [p.seconds * 1000 for p in predictions]
    report.parse_ms_p50 = round(percentile(times, 0.5), 2)
    report.parse_ms_p95 = round(percentile(times, 0.95), 2)
    return report


class Parser:
    """A loaded Rasa model that parses text the way the server does."""

    def __init__(self, model: Path, stock_rasa: bool = False) -> None:
        from rasa.core.agent import Agent

        from safemig import graph_runner

        graph_runner.install(enabled=not stock_rasa)  # as the server runs it
        self.agent = Agent.load(str(model))

    async def parse(self, text: str) -> Prediction:
        start = time.perf_counter()
        result: dict[str, Any] = await self.agent.parse_message(text)
        seconds = time.perf_counter() - start
        intent = result.get("intent") or {}
        countries = [
            (str(e.get("value")), e.get("role"))
            for e in result.get("entities") or []
            if e.get("entity") == "country"
        ]
        return Prediction(str(intent.get("name")), float(intent.get("confidence") or 0.0),
                          countries, seconds)


async def evaluate(paths: list[Path], model: Path, stock_rasa: bool = False) -> list[Report]:
    parser = Parser(model, stock_rasa=stock_rasa)
    reports = []
    for name, examples in sorted(group_by_language(paths).items()):
        predictions = [await parser.parse(e.text) for e in examples]
        reports.append(score(name, examples, predictions))
    return reports


def format_table(reports: list[Report]) -> str:
    head = ("| set | n | intent acc | macro-F1 | country P | country R | country F1 | "
            "role acc | OOS caught | fallback | parse p50 ms | parse p95 ms |")
    rows = [head, "|" + "---|" * 12]
    for r in reports:
        rows.append(
            f"| {r.name} | {r.n} | {r.accuracy:.3f} | {r.macro_f1:.3f} | "
            f"{r.country.get('precision', 0):.3f} | {r.country.get('recall', 0):.3f} | "
            f"{r.country.get('f1', 0):.3f} | "
            f"{'' if r.country_role_accuracy is None else f'{r.country_role_accuracy:.3f}'} | "
            f"{'' if r.out_of_scope_caught is None else f'{r.out_of_scope_caught:.3f}'} | "
            f"{r.fallback_share:.3f} | {r.parse_ms_p50:.1f} | {r.parse_ms_p95:.1f} |"
        )
    lines = ["\n".join(rows), "", "Costliest confusions (gold -> predicted: count):"]
    for r in reports:
        pairs = ", ".join(f"{g} -> {p}: {n}" for g, p, n in r.confusions) or "none"
        lines.append(f"- {r.name}: {pairs}")
    return "\n".join(lines)


def quiet_rasa_logs() -> None:
    """Rasa logs every parse at debug level through structlog: keep the report readable."""
    import logging

    import structlog

    logging.getLogger().setLevel(logging.WARNING)
    for name in ("rasa", "tensorflow", "absl", "burmesenlp"):
        logging.getLogger(name).setLevel(logging.ERROR)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def main(paths: list[str], as_json: bool, model: str | None, settings: Settings) -> int:
    from safemig.stack import model_path

    quiet_rasa_logs()
    chosen = Path(model) if model else model_path(settings)
    if not chosen.exists():
        print(f"No model at {chosen}: run `safemig train` first.")
        return 2
    reports = asyncio.run(evaluate([Path(p) for p in paths], chosen))
    if as_json:
        print(json.dumps([r.__dict__ for r in reports], indent=1, ensure_ascii=False))
    else:
        print(format_table(reports))
    return 0
