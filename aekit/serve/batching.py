"""Micro-batching: the rows of requests that arrive close together go through the model in one call.

A model's :class:`Batcher` takes the first waiting request, then gathers more for at most
``max_wait`` seconds or until ``max_batch`` rows are waiting, and runs what fits together (the same
sample shape; a series stretch or a draw of samples always alone) in one call on the inference
thread. One thread runs every model's calls, one at a time, so the estimators are never called
concurrently and the event loop stays free to read and answer requests meanwhile.

If a combined call fails, each request of it is run again alone, so that a failure is only the
failing request's own. A request whose client has gone away is cancelled (:mod:`.app`): its work
is dropped before it runs, not computed for nobody.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import numpy as np

from .models import Work

Result = dict[str, np.ndarray]


class Batcher:
    """The queue of one model and the task that empties it in batches.

    Parameters
    ----------
    executor : Executor
        Where the model runs (one thread, shared by every model).
    max_batch : int
        Rows gathered at most before a call (a single larger request runs alone).
    max_wait : float
        Seconds the first request waits for others.
    observe : callable, optional
        Called with the rows of each call (the batch-size metric).
    """

    def __init__(
        self,
        executor: Executor,
        max_batch: int = 64,
        max_wait: float = 0.002,
        observe: Callable[[int], None] | None = None,
    ):
        self.executor, self.max_batch, self.max_wait = executor, max_batch, max_wait
        self.observe = observe or (lambda rows: None)
        self.queue: asyncio.Queue[tuple[Work, asyncio.Future]] = asyncio.Queue()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        """Stop the task (after the server has answered everything in flight)."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        while not self.queue.empty():
            _, fut = self.queue.get_nowait()
            if not fut.done():
                fut.set_exception(RuntimeError("the server is stopping"))

    async def submit(self, work: Work) -> Result:
        """The outputs of ``work``, once its batch has run (its exception if it failed)."""
        fut = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((work, fut))
        return await fut

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            waiting = await self._gather()
            for group in self._groups(waiting):
                # a request whose client went away meanwhile is cancelled: its work is dropped
                group = [(w, fut) for w, fut in group if not fut.done()]
                if not group:
                    continue
                works = [w for w, _ in group]
                results = await loop.run_in_executor(self.executor, run_together, works)
                self.observe(sum(w.rows for w in works))
                for (_, fut), result in zip(group, results):
                    if fut.done():  # the client went away while its batch ran
                        continue
                    if isinstance(result, BaseException):
                        fut.set_exception(result)
                    else:
                        fut.set_result(result)

    async def _gather(self) -> list[tuple[Work, asyncio.Future]]:
        """The first waiting request and those that come within ``max_wait``, up to ``max_batch`` rows."""
        loop = asyncio.get_running_loop()
        first = await self.queue.get()
        waiting, rows = [first], first[0].rows
        deadline = loop.time() + self.max_wait
        while rows < self.max_batch and first[0].key is not None:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self.queue.get(), remaining)
                except asyncio.TimeoutError:
                    break
            waiting.append(item)
            rows += item[0].rows
        return waiting

    def _groups(self, waiting: list) -> list[list]:
        """Requests that can run in one call: the same key, at most ``max_batch`` rows together."""
        groups: list[list] = []
        open_groups: dict[Any, list] = {}
        for item in waiting:
            work = item[0]
            group = open_groups.get(work.key) if work.key is not None else None
            if group is None or sum(w.rows for w, _ in group) + work.rows > self.max_batch:
                group = [item]
                groups.append(group)
                if work.key is not None:
                    open_groups[work.key] = group
            else:
                group.append(item)
        return groups


def run_together(works: list[Work]) -> list[Result | BaseException]:
    """The outputs of each work, its rows run in one call where there are several (inference thread)."""
    if len(works) == 1:
        return [_alone(works[0])]
    names = tuple(dict.fromkeys(n for w in works for n in w.names))
    try:
        out = works[0].run(np.concatenate([w.x for w in works]), names)
    except Exception:
        return [_alone(w) for w in works]  # each alone: a failure is only its own request's
    results: list[Result | BaseException] = []
    start = 0
    for w in works:
        results.append({n: out[n][start : start + w.rows] for n in w.names})
        start += w.rows
    return results


def _alone(work: Work) -> Result | BaseException:
    try:
        return work.run(work.x, work.names)
    except Exception as exc:  # answered to the request that asked (400 for bad data, else 500)
        return exc
