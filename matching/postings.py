"""Inverted lists: term → sorted-by-insertion numpy arrays of ids, appendable in place."""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Hashable, Iterable

import numpy as np

_EMPTY = np.zeros(0, dtype=np.int32)


class Postings:
    """Term → ids. Appends wait in compact int32 buffers and are folded into the array on
    first read."""

    __slots__ = ("_arrays", "_pending")

    def __init__(self) -> None:
        self._arrays: dict[Hashable, np.ndarray] = {}
        self._pending: defaultdict[Hashable, array] = defaultdict(_buffer)

    def add(self, terms: Iterable[Hashable], ident: int) -> None:
        pending = self._pending
        for term in terms:
            pending[term].append(ident)

    def get(self, term: Hashable) -> np.ndarray:
        if term in self._pending:
            self._fold(term)
        return self._arrays.get(term, _EMPTY)

    def df(self, term: Hashable) -> int:
        return len(self._arrays.get(term, _EMPTY)) + len(self._pending.get(term, ()))

    def freeze(self) -> None:
        """Fold every pending append (done once after a bulk build)."""
        for term in list(self._pending):
            self._fold(term)

    def __len__(self) -> int:
        return len(self._arrays.keys() | self._pending.keys())

    def _fold(self, term: Hashable) -> None:
        fresh = np.frombuffer(self._pending.pop(term), dtype=np.int32).copy()
        old = self._arrays.get(term)
        self._arrays[term] = fresh if old is None else np.concatenate((old, fresh))


def _buffer() -> array:
    return array("i")


def idf(df: int, total: int) -> float:
    """BM25's inverse document frequency, never negative."""
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))
