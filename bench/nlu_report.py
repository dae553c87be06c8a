"""`make nlu-report`: the NLU figures in docs/nlu.md, side by side with stock Rasa.

1. The project's model on the held-out sets (tests/nlu_heldout/), per language.
2. The anchor: stock Rasa 3.6 as its users set it up (WhitespaceTokenizer, CountVectors, DIET),
   trained on the same data, evaluated on the same sets; figures as ratios.
3. SIB-200 (../shared/data/sib200): the same two pipelines trained on its train split, scored
   on its test split per language, beside the published baselines.
Trained models are cached by input hash in models/bench/, so a re-run only evaluates.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import yaml

from safemig.config import PROJECT_ROOT
from safemig.nlu.evaluate import Parser, Report, evaluate, format_table, write_examples
from safemig.supervisor import QUIET_ENV

BENCH_MODELS = PROJECT_ROOT / "models" / "bench"
SIB = PROJECT_ROOT.parent / "shared" / "data" / "sib200"
SIB_LANGS = {"en": "eng_Latn", "km": "khm_Khmr", "lo": "lao_Laoo", "my": "mya_Mymr"}
SIB_BASELINES = {"char n-gram TF-IDF + LR": {"km": 0.745, "lo": 0.696, "my": 0.721},
                 "e5 embeddings + LR": {"km": 0.775, "lo": 0.716, "my": 0.775}}
ANCHOR_EPOCHS = 40  # Rasa's default is 100; 40 keeps `make nlu-report` near 15 minutes
# the two models' names in nlu.json's training_seconds and model_mb (`make bench` reads them)
PROJECT_MODEL, ANCHOR_MODEL = "project model (NLU only)", "stock Rasa anchor"

STOCK_PIPELINE = [
    {"name": "WhitespaceTokenizer"},
    {"name": "RegexFeaturizer"},
    {"name": "LexicalSyntacticFeaturizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "DIETClassifier", "epochs": ANCHOR_EPOCHS, "constrain_similarities": True,
     "random_seed": 42},
    {"name": "EntitySynonymMapper"},
    {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.1},
]


def project_pipeline(entities: bool = True) -> list[dict]:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))
    pipeline = config["pipeline"]
    if not entities:
        pipeline = [c for c in pipeline if not c["name"].endswith("CRFEntityExtractor")]
    return pipeline


def write_config(path: Path, pipeline: list[dict], policies: list[dict] | None = None) -> Path:
    path.write_text(yaml.safe_dump({"recipe": "default.v1", "language": "en",
                                    "pipeline": pipeline, "policies": policies or []},
                                   allow_unicode=True), encoding="utf-8")
    return path


def _hash(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            # data folders hold .yml, the pipeline's folder .py (only .yml was read before,
            # so a model trained before a change of the pipeline's code was reused)
            files = [f for f in part.rglob("*") if f.suffix in (".yml", ".py")]
            for f in sorted(files) if part.is_dir() else [part]:
                digest.update(f.read_bytes())
        else:
            digest.update(json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:12]


REUSED: list[str] = []


def train_nlu(name: str, pipeline: list[dict], data: Path,
              reuse_latest: bool = False) -> tuple[Path, float | None]:
    """Train (or reuse) an NLU-only model; returns its path and the training seconds.

    With `reuse_latest`, the newest model of that name is reused even if the data changed
    since (the anchor takes about 35 minutes to train here); the report says so.
    """
    BENCH_MODELS.mkdir(parents=True, exist_ok=True)
    ours = any(c["name"].startswith("safemig.") for c in pipeline)
    code = _hash(pipeline, data, *([PROJECT_ROOT / "safemig" / "nlu"] if ours else []))
    model = BENCH_MODELS / f"{name}-{code}.tar.gz"
    timing = BENCH_MODELS / f"{name}-{code}.seconds"
    if model.exists():
        return model, float(timing.read_text()) if timing.exists() else None
    older = sorted((p for p in BENCH_MODELS.glob(f"{name}-*.tar.gz")
                    if re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{12}}\.tar\.gz", p.name)),
                   key=lambda p: p.stat().st_mtime)
    if reuse_latest and older:
        REUSED.append(f"{older[-1].name} (trained {time.ctime(older[-1].stat().st_mtime)}, "
                      "on the training data as it was then)")
        seconds = older[-1].with_suffix("").with_suffix(".seconds")
        return older[-1], float(seconds.read_text()) if seconds.exists() else None
    config = write_config(BENCH_MODELS / f"{name}-{code}.yml", pipeline)
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("rasa")), "train", "nlu",
                    "--config", str(config), "--nlu", str(data), "--out", str(BENCH_MODELS),
                    "--fixed-model-name", model.name.removesuffix(".tar.gz")],
                   # no cache: Rasa keys a cached step on its config and inputs, not on the
                   # component's code, so after a change of the pipeline's code it reused
                   # steps the old code made (SIB-200 Burmese 0.755 instead of 0.765)
                   check=True, cwd=PROJECT_ROOT,
                   env={**os.environ, **QUIET_ENV, "RASA_MAX_CACHE_SIZE": "0"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    timing.write_text(f"{seconds:.1f}")
    return model, seconds


def sib_split(lang: str, split: str) -> list[tuple[str, str]]:
    with (SIB / SIB_LANGS[lang] / f"{split}.tsv").open(encoding="utf-8") as fh:
        return [(row["text"], row["category"]) for row in csv.DictReader(fh, delimiter="\t")]


def sib_training_file(lang: str, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_examples(folder / "nlu.yml", ((text, topic.replace("/", "_"))
                                        for text, topic in sib_split(lang, "train")))
    return folder


async def sib_accuracy(model: Path, lang: str, stock_rasa: bool = False) -> float:
    parser = Parser(model, stock_rasa=stock_rasa)
    rows = sib_split(lang, "test")
    right = 0
    for text, topic in rows:  # the pipelines run without a fallback here: top guess counts
        prediction = await parser.parse(text)
        right += prediction.intent == topic.replace("/", "_")
    return right / len(rows)


def sib200(include_anchor: bool, reuse_anchor: bool = False) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {"project pipeline": {}}
    if include_anchor:
        results["stock Rasa (anchor)"] = {}
    no_fallback = [c for c in project_pipeline(entities=False)
                   if c["name"] != "FallbackClassifier"]
    stock = [c for c in STOCK_PIPELINE if c["name"] != "FallbackClassifier"]
    for lang in SIB_LANGS:
        data = sib_training_file(lang, BENCH_MODELS / f"sib-{lang}")
        model, _ = train_nlu(f"sib-project-{lang}", no_fallback, data)
        results["project pipeline"][lang] = round(asyncio.run(sib_accuracy(model, lang)), 3)
        if include_anchor:
            model, _ = train_nlu(f"sib-stock-{lang}", stock, data, reuse_latest=reuse_anchor)
            results["stock Rasa (anchor)"][lang] = round(
                asyncio.run(sib_accuracy(model, lang, stock_rasa=True)), 3)
    return results


def separate_models() -> list[Report]:
    """One model per language, each trained on its own folder and scored on its own sets."""
    reports: list[Report] = []
    for lang in SIB_LANGS:
        model, _ = train_nlu(f"separate-{lang}", project_pipeline(),
                             PROJECT_ROOT / "nlu_data" / lang)
        files = [f for f in heldout_files() if f.stem.split("_")[0] == lang]
        reports += asyncio.run(evaluate(files, model))
    return reports


def shared_vs_separate(shared: list[Report], separate: list[Report]) -> list[str]:
    by_name = {r.name: r for r in separate}
    lines = ["## One model for all languages, or one per language", "",
             "The same pipeline trained once on all four languages (what runs) and once per "
             "language on that language's folder, each scored on its own held-out sets. The "
             "separate models are even given the language for free (the file), which a "
             "running bot would have to detect first.", "",
             "| set | intent acc (shared / separate) | country F1 (shared / separate) "
             "| OOS caught (shared / separate) |", "|---|---|---|---|"]
    for r in shared:
        s = by_name.get(r.name)
        if s:
            lines.append(f"| {r.name} | {r.accuracy:.3f} / {s.accuracy:.3f} | "
                         f"{r.country['f1']:.3f} / {s.country['f1']:.3f} | "
                         f"{r.out_of_scope_caught or 0:.3f} / {s.out_of_scope_caught or 0:.3f} |")
    return [*lines, ""]


def ratio(ours: float, anchor: float) -> str:
    return f"{ours / anchor:.2f}×" if anchor else "n/a"


def render(ours: list[Report], anchor: list[Report] | None, sib: dict, train_s: dict,
           commit: str, separate: list[Report] | None = None,
           model_mb: dict[str, float] | None = None) -> str:
    lines = ["# NLU figures", "",
             f"Generated by `make nlu-report` on {time.strftime('%Y-%m-%d')}, commit {commit}, "
             f"{platform.machine()} with {os.cpu_count()} cores. Do not edit by hand.", "",
             "## Held-out sets (tests/nlu_heldout/, never used for training)", "",
             format_table(ours), ""]
    if anchor:
        reused = [f"Anchor models reused: {'; '.join(REUSED)}.", ""] if REUSED else []
        lines += ["## Stock Rasa 3.6 on the same data (the anchor)", "", *reused,
                  f"WhitespaceTokenizer, RegexFeaturizer, LexicalSyntacticFeaturizer, "
                  f"CountVectors (word, char_wb 1-4), DIET ({ANCHOR_EPOCHS} epochs), "
                  "EntitySynonymMapper, FallbackClassifier 0.3/0.1.", "",
                  format_table(anchor), "", "| set | intent acc (ours / stock) | country F1 "
                  "(ours / stock) | parse p95 (ours / stock) |", "|---|---|---|---|"]
        by_name = {r.name: r for r in anchor}
        for r in ours:
            a = by_name.get(r.name)
            if a:
                lines.append(
                    f"| {r.name} | {r.accuracy:.3f} / {a.accuracy:.3f} "
                    f"({ratio(r.accuracy, a.accuracy)}) | {r.country['f1']:.3f} / "
                    f"{a.country['f1']:.3f} ({ratio(r.country['f1'], a.country['f1'])}) | "
                    f"{r.parse_ms_p95:.1f} / {a.parse_ms_p95:.1f} ms |")
        lines.append("")
    if separate:
        lines += shared_vs_separate(ours, separate)
    lines += ["## Training time and model size", ""]
    for name, seconds in train_s.items():
        size = f", {model_mb[name]} MB" if model_mb and name in model_mb else ""
        lines.append(f"- {name}: {'cached' if seconds is None else f'{seconds:.0f} s'}{size}")
    lines += ["", "## SIB-200: text nobody here wrote", "",
              "Topic classification (7 topics), trained on the train split, accuracy on "
              "the test split (204 sentences per language).", "",
              "| pipeline | en | km | lo | my |", "|---|---|---|---|---|"]
    for name, figures in {**sib, **SIB_BASELINES}.items():
        cells = " | ".join(f"{figures[lang]:.3f}" if lang in figures else "" for lang in
                           SIB_LANGS)
        lines.append(f"| {name} | {cells} |")
    lines.append("")
    return "\n".join(lines)


def heldout_files() -> list[Path]:
    return sorted((PROJECT_ROOT / "tests" / "nlu_heldout").glob("*.yml"))


def main(argv: list[str] | None = None) -> int:
    from safemig.nlu.evaluate import quiet_rasa_logs

    args_parser = argparse.ArgumentParser(prog="bench.nlu_report")
    args_parser.add_argument("--no-anchor", action="store_true", help="skip stock Rasa")
    args_parser.add_argument("--reuse-anchor", action="store_true",
                             help="reuse the newest stock-Rasa model even if the data changed")
    args = args_parser.parse_args(argv)
    quiet_rasa_logs()
    data = PROJECT_ROOT / "nlu_data"
    train_s: dict[str, float | None] = {}
    ours_model, train_s[PROJECT_MODEL] = train_nlu("project", project_pipeline(), data)
    ours = asyncio.run(evaluate(heldout_files(), ours_model))
    size_mb = lambda path: round(path.stat().st_size / 1e6, 1)  # noqa: E731
    model_mb = {PROJECT_MODEL: size_mb(ours_model)}
    anchor = None
    if not args.no_anchor:
        anchor_model, train_s[ANCHOR_MODEL] = train_nlu(
            "stock", STOCK_PIPELINE, data, reuse_latest=args.reuse_anchor)
        model_mb[ANCHOR_MODEL] = size_mb(anchor_model)
        anchor = asyncio.run(evaluate(heldout_files(), anchor_model, stock_rasa=True))
    separate = separate_models()
    sib = sib200(include_anchor=not args.no_anchor, reuse_anchor=args.reuse_anchor)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=PROJECT_ROOT).stdout.strip()
    out = PROJECT_ROOT / "docs"
    (out / "bench").mkdir(parents=True, exist_ok=True)
    (out / "nlu.md").write_text(render(ours, anchor, sib, train_s, commit, separate, model_mb),
                                encoding="utf-8")
    (out / "bench" / "nlu.json").write_text(json.dumps({
        "heldout": [r.__dict__ for r in ours],
        "anchor": [r.__dict__ for r in anchor] if anchor else None,
        "separate_models": [r.__dict__ for r in separate],
        "sib200": sib, "training_seconds": train_s, "model_mb": model_mb, "commit": commit,
    }, indent=1, ensure_ascii=False), encoding="utf-8")
    print((out / "nlu.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
