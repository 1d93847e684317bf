"""BM25 over the character bigrams of an entry's whole text (title, summary, item names).

Term frequency is binary (catalog texts are short, a bigram rarely repeats with meaning), so
one inverted list per bigram and one length per entry are all it needs. Bigrams need no
dictionary and survive typos; this is the lexical evidence the re-ranking builds on.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

import numpy as np

from matching.config import MatchConfig
from matching.postings import Postings, idf


class BigramBM25:
    """Bigram → entries, entry lengths, and BM25 scores of a bag of query bigrams."""

    def __init__(self, config: MatchConfig) -> None:
        self._config = config
        self.postings = Postings()
        self._lengths = array("f")
        self._norm: np.ndarray | None = None

    def add(self, grams: set[str], doc: int) -> None:
        """Index entry ``doc`` (ids are given in order, 0, 1, 2 …)."""
        self.postings.add(grams, doc)
        self._lengths.append(float(len(grams)))
        self._norm = None

    def freeze(self) -> None:
        self.postings.freeze()

    def df(self, gram: str) -> int:
        return self.postings.df(gram)

    def weights(self, grams: Iterable[str]) -> dict[str, float]:
        """The BM25 inverse document frequency of each distinct query bigram."""
        total = max(len(self._lengths), 1)
        return {g: idf(self.postings.df(g), total) for g in dict.fromkeys(grams)}

    def scores(self, weights: dict[str, float]) -> np.ndarray:
        """BM25 of every entry for the query bigrams, divided by the sum of their weights
        (an entry of average length holding every bigram scores 1)."""
        norm = self._length_norm()
        lists = [self.postings.get(gram) for gram in weights]
        if not lists:
            return np.zeros(len(norm), dtype=np.float32)
        each = np.repeat(np.fromiter(weights.values(), np.float64, len(weights)),
                         [len(docs) for docs in lists])
        summed = np.bincount(np.concatenate(lists), weights=each, minlength=len(norm))
        return (summed * norm / (sum(weights.values()) or 1.0)).astype(np.float32)

    def _length_norm(self) -> np.ndarray:
        if self._norm is None or len(self._norm) != len(self._lengths):
            lengths = np.frombuffer(self._lengths, dtype=np.float32)
            k1, b = self._config.bm25_k1, self._config.bm25_b
            average = float(lengths.mean()) if len(lengths) else 1.0
            self._norm = (k1 + 1.0) / (1.0 + k1 * (1.0 - b + b * lengths / max(average, 1.0)))
            self._norm = self._norm.astype(np.float32)
        return self._norm
