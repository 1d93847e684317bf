"""Work spread over the machine's cores: the texts of a large catalog being indexed, and many
demands being searched at once.

Analysing the records' texts (jieba's segmentation of the titles is pure Python) is most of a
build, and searching is the whole of a re-match; every record, and every demand, is done
independently of the others. Helper processes, forked with the work already loaded (the
analyzer, the index), are given chunks from the front, a few at a time. This process takes
their results in order as they come and, whenever the next one is not ready yet, does a chunk
from the back itself: every core stays busy until the end, with no share guessed in advance.

Forking is safe only in a process with no other thread (a lock another thread held would stay
locked in the helper), so a threaded server works in its own process alone; so does a platform
that cannot fork. The result is the same either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from matching.analysis import Analyzer, RecordText

log = logging.getLogger(__name__)

CHUNK = 1000  # records per task: a fraction of a second of work, a small pickle


def _same(value: Any) -> Any:
    return value


class Work:
    """What to do to each thing: ``do`` here; in a helper too, its result sent back as
    ``pack(result)`` and restored by ``unpack`` (plain data pickles faster)."""

    def __init__(self, do: Callable[[Any], Any], pack: Callable[[Any], Any] = _same,
                 unpack: Callable[[Any], Any] = _same) -> None:
        self.do, self.pack, self.unpack = do, pack, unpack

    def here(self, chunk: list) -> list:
        return [self.do(one) for one in chunk]


_SHARED: Work | None = None  # the work the helpers inherit when they are forked


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
    if workers > 1:
        analyzer.title("")  # load the dictionary once, before the helpers are forked
    work = Work(lambda one: analyzer.record(*one), RecordText.flat, RecordText.from_flat)
    return spread(work, texts, workers, CHUNK)


def spread(work: Work, things: list, workers: int, chunk: int) -> Iterator:
    """``work.do`` of each thing, in order, on up to ``workers`` processes (this one
    included), in chunks of ``chunk``."""
    chunks = [things[start:start + chunk] for start in range(0, len(things), chunk)]
    helpers = min(workers, len(chunks)) - 1
    pool = _pool(work, helpers)
    if pool is None:
        for one in chunks:
            yield from work.here(one)
        return
    try:
        yield from _Shares(work, chunks, pool, queued=2 * helpers).run()
    finally:
        pool.shutdown(cancel_futures=True)
        _set_shared(None)


class _Shares:
    """The chunks handed to the helpers from the front, a few unfinished at a time, and taken
    here from the back whenever the next one in order is not ready."""

    def __init__(self, work: Work, chunks: list, pool: ProcessPoolExecutor, queued: int) -> None:
        self.work, self.chunks, self.pool, self.queued = work, chunks, pool, queued
        self.given: dict[int, Future] = {}  # chunks at the helpers, by position
        self.front, self.back = 0, len(chunks) - 1  # next to give, next to take here
        self.done: dict[int, list] = {}  # taken here, not yet yielded
        self.broken = False

    def run(self) -> Iterator:
        for position in range(len(self.chunks)):
            self._give()
            future = self.given.pop(position, None)
            while future is not None and not future.done() and self.back >= self.front:
                self.done[self.back] = self.work.here(self.chunks[self.back])
                self.back -= 1
                self._give()
            if future is not None:
                yield from _result(self.work, future, self.chunks[position])
            else:  # taken here, or never given (the helpers failed)
                done = self.done.pop(position, None)
                yield from self.work.here(self.chunks[position]) if done is None else done

    def _give(self) -> None:
        while not self.broken and self.front <= self.back and self._waiting() < self.queued:
            try:
                self.given[self.front] = self.pool.submit(_helper_task, self.chunks[self.front])
            except (OSError, BrokenProcessPool) as error:
                log.warning("helpers stopped, the rest is done here: %s", error)
                self.broken = True
                return
            self.front += 1

    def _waiting(self) -> int:
        """Chunks given and not finished: a helper that has finished its chunks before this
        process indexed them must still have work."""
        return sum(not future.done() for future in self.given.values())


def _pool(work: Work, helpers: int) -> ProcessPoolExecutor | None:
    """Helpers forked with the work loaded, or None when there are to be none."""
    if helpers < 1 or not can_fork():
        return None
    _set_shared(work)
    try:
        return ProcessPoolExecutor(helpers, mp_context=multiprocessing.get_context("fork"))
    except OSError as error:
        log.warning("the work runs in one process: %s", error)
        _set_shared(None)
        return None


def _result(work: Work, future: Future, chunk: list) -> list:
    """A helper's chunk, or the chunk done here if the helper died."""
    try:
        return [work.unpack(one) for one in future.result()]
    except (OSError, BrokenProcessPool) as error:
        log.warning("a helper failed, its share is done here: %s", error)
        return work.here(chunk)


def _set_shared(work: Work | None) -> None:
    global _SHARED
    _SHARED = work


def _helper_task(chunk: list) -> list:
    """A helper's work: its results as plain data."""
    return [_SHARED.pack(_SHARED.do(one)) for one in chunk]
