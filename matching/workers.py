"""Text analysis spread over the machine's cores when a large catalog is indexed.

Analysing the records' texts (jieba's segmentation of the titles is pure Python) is most of a
build, and every record is analysed independently of the others. Helper processes, forked with
the analyzer already loaded, are given chunks of records from the front, a few at a time. This
process indexes their results in order as they come and, whenever the next one is not ready
yet, analyses a chunk from the back itself: every core stays busy until the end, with no share
guessed in advance.

Forking is safe only in a process with no other thread (a lock another thread held would stay
locked in the helper), so a threaded server builds in its own process alone; so does a platform
that cannot fork. The result is the same either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from matching.analysis import Analyzer, RecordText

log = logging.getLogger(__name__)

CHUNK = 1000  # records per task: a fraction of a second of work, a small pickle

_SHARED: Analyzer | None = None  # the analyzer the helpers inherit when they are forked


def workers_for(configured: int) -> int:
    """Processes to use in all: ``configured``, or one per core when 0."""
    return configured or os.cpu_count() or 1


def can_fork() -> bool:
    """Whether helpers may be forked from this process now."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def analyze_records(analyzer: Analyzer, texts: list[tuple[str, str, str]], workers: int,
                    ) -> Iterator[RecordText]:
    """``analyzer.record(title, department, summary)`` of each triple, in order, on up to
    ``workers`` processes (this one included)."""
    chunks = [texts[start:start + CHUNK] for start in range(0, len(texts), CHUNK)]
    helpers = min(workers, len(chunks)) - 1
    pool = _pool(analyzer, helpers)
    if pool is None:
        yield from _here(analyzer, texts)
        return
    try:
        yield from _Shares(analyzer, chunks, pool, queued=2 * helpers).run()
    finally:
        pool.shutdown(cancel_futures=True)
        _set_shared(None)


class _Shares:
    """The chunks handed to the helpers from the front, a few unfinished at a time, and taken
    here from the back whenever the next one in order is not ready."""

    def __init__(self, analyzer: Analyzer, chunks: list, pool: ProcessPoolExecutor,
                 queued: int) -> None:
        self.analyzer, self.chunks, self.pool, self.queued = analyzer, chunks, pool, queued
        self.given: dict[int, Future] = {}  # chunks at the helpers, by position
        self.front, self.back = 0, len(chunks) - 1  # next to give, next to take here
        self.done: dict[int, list[RecordText]] = {}  # taken here, not yet yielded
        self.broken = False

    def run(self) -> Iterator[RecordText]:
        for position in range(len(self.chunks)):
            self._give()
            future = self.given.pop(position, None)
            while future is not None and not future.done() and self.back >= self.front:
                self.done[self.back] = _here(self.analyzer, self.chunks[self.back])
                self.back -= 1
                self._give()
            if future is not None:
                yield from _result(self.analyzer, future, self.chunks[position])
            else:  # taken here, or never given (the helpers failed)
                yield from self.done.pop(position, None) or _here(self.analyzer,
                                                                  self.chunks[position])

    def _give(self) -> None:
        while not self.broken and self.front <= self.back and self._waiting() < self.queued:
            try:
                self.given[self.front] = self.pool.submit(_helper_task, self.chunks[self.front])
            except (OSError, BrokenProcessPool) as error:
                log.warning("helpers stopped, the rest is analysed here: %s", error)
                self.broken = True
                return
            self.front += 1

    def _waiting(self) -> int:
        """Chunks given and not finished: a helper that has finished its chunks before this
        process indexed them must still have work."""
        return sum(not future.done() for future in self.given.values())


def _pool(analyzer: Analyzer, helpers: int) -> ProcessPoolExecutor | None:
    """Helpers forked with the analyzer loaded, or None when there are to be none."""
    if helpers < 1 or not can_fork():
        return None
    analyzer.title("")  # load the dictionary once, before the helpers are forked
    _set_shared(analyzer)
    try:
        return ProcessPoolExecutor(helpers, mp_context=multiprocessing.get_context("fork"))
    except OSError as error:
        log.warning("text analysis runs in one process: %s", error)
        _set_shared(None)
        return None


def _result(analyzer: Analyzer, future: Future, chunk: list) -> list[RecordText]:
    """A helper's chunk, or the chunk analysed here if the helper died."""
    try:
        return [RecordText.from_flat(one) for one in future.result()]
    except (OSError, BrokenProcessPool) as error:
        log.warning("a helper failed, its records are analysed here: %s", error)
        return _here(analyzer, chunk)


def _here(analyzer: Analyzer, texts: list[tuple[str, str, str]]) -> list[RecordText]:
    return [analyzer.record(*one) for one in texts]


def _set_shared(analyzer: Analyzer | None) -> None:
    global _SHARED
    _SHARED = analyzer


def _helper_task(chunk: list[tuple[str, str, str]]) -> list[tuple]:
    """A helper's work: the analysed records as plain data."""
    return [one.flat() for one in _here(_SHARED, chunk)]
