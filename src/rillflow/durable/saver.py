"""Durability modes: when a run's changes reach the checkpointer.

``sync``: written (committed) before the next step starts; a crash loses only the step that was running.
In an async run the write happens in a writer thread and the run awaits it (``settle``) before its next
step, so a database round trip never blocks the event loop (other runs and tasks go on meanwhile).
``async``: handed to a writer thread that commits them while the next steps run, several at a time. The
writer commits as soon as anything is queued, and a step waits when :data:`ASYNC_MAX_UNSAVED` steps are
not committed yet, so a crash loses at most that many finished steps (plus the one running).
``exit``: kept in memory and written once when the run ends, pauses or fails; a crash loses the whole run
since its start (a resume starts it over from the ``shared`` it started with).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Literal

from .checkpointer import Changes, Checkpointer, Key, RunProgress

Durability = Literal["sync", "async", "exit"]
DURABILITIES: tuple[Durability, ...] = ("sync", "async", "exit")
#: ``async`` durability: the most finished steps (or batch items) that may wait for the writer at once.
ASYNC_MAX_UNSAVED = 32


class Saver:
    """``sync``: writes at once. Subclasses write later (``exit``) or from a thread (``async``)."""

    per_step = True
    #: True when the run must await :meth:`settle` after its saves (the write is not done on return).
    settles = False

    def __init__(self, checkpointer: Checkpointer, run_id: str) -> None:
        self.checkpointer, self.run_id = checkpointer, run_id

    def save(self, changes: Changes, progress: RunProgress) -> None:
        self.checkpointer.write(self.run_id, changes, progress)

    async def settle(self) -> None:
        """Return once every save so far is written (a plain save already is)."""

    def wait_written(self) -> BaseException | None:
        """Block until every save so far is written; the error of one that failed (reported once)."""
        return None

    def finish(self, changes: Changes, progress: RunProgress) -> None:
        """The last save of this run (also after a failure): returns once everything is written."""
        self.save(changes, progress)


class ExitSaver(Saver):
    per_step = False

    def save(self, changes: Changes, progress: RunProgress) -> None:
        raise AssertionError("durability='exit' saves only when the run ends")

    def finish(self, changes: Changes, progress: RunProgress) -> None:
        self.checkpointer.write(self.run_id, changes, progress)


class ThreadSaver(Saver):
    """``sync`` durability in an async run: each write runs in a writer thread, and the run awaits it
    (:meth:`settle`) before its next step or item, so the event loop is never blocked on the database.
    Writes keep their order; after a failed write none of the later ones is attempted (each holds only
    its own changes) and the run gets the error at its next save or settle."""

    settles = True

    def __init__(self, checkpointer: Checkpointer, run_id: str) -> None:
        super().__init__(checkpointer, run_id)
        self._writer: ThreadPoolExecutor | None = None
        self._last: Future[None] | None = None
        self._error: BaseException | None = None

    def _write(self, changes: Changes, progress: RunProgress) -> None:
        if self._error is None:
            try:
                self.checkpointer.write(self.run_id, changes, progress)
            except BaseException as exc:
                self._error = exc

    def save(self, changes: Changes, progress: RunProgress) -> None:
        if self._error is not None:
            raise self._error
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="rillflow-checkpoint")
        self._last = self._writer.submit(self._write, changes, progress)

    async def settle(self) -> None:
        last = self._last
        if last is not None and not last.done():
            await asyncio.wrap_future(last)
        if self._error is not None:
            raise self._error

    def wait_written(self) -> BaseException | None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)
        error, self._error = self._error, None
        return error

    def finish(self, changes: Changes, progress: RunProgress) -> None:
        error = self.wait_written()  # the recorder has asked already: the queue is empty, no error left
        if error is not None:
            raise error
        self.checkpointer.write(self.run_id, changes, progress)


_Item = tuple[Changes, RunProgress] | threading.Event | None


class BackgroundSaver(Saver):
    """A writer thread commits whatever has queued up since its last commit, in one transaction."""

    def __init__(self, checkpointer: Checkpointer, run_id: str, max_unsaved: int = ASYNC_MAX_UNSAVED) -> None:
        super().__init__(checkpointer, run_id)
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._error: BaseException | None = None
        # One permit per step not yet committed: the run waits for the writer instead of running ahead.
        self._unsaved = threading.Semaphore(max_unsaved)
        self._thread = threading.Thread(target=self._loop, name="rillflow-checkpoint-writer", daemon=True)
        self._thread.start()

    def save(self, changes: Changes, progress: RunProgress) -> None:
        if self._error is not None:
            raise self._error
        self._unsaved.acquire()
        self._queue.put((changes, progress))

    def finish(self, changes: Changes, progress: RunProgress) -> None:
        if not self._thread.is_alive():  # finished before (a failed finish is followed by a plain one)
            self.checkpointer.write(self.run_id, changes, progress)
            return
        self._unsaved.acquire()
        self._queue.put((changes, progress))
        done = threading.Event()
        self._queue.put(done)
        self._queue.put(None)
        done.wait()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def _loop(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            merged: dict[Key, bytes | None] = {}
            progress: RunProgress | None = None
            waiting: list[threading.Event] = []
            steps = 0
            for item in batch:
                if item is None:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiting.append(item)
                else:
                    merged.update(item[0])  # later values of a key replace earlier ones
                    progress = item[1]
                    steps += 1
            if progress is not None and self._error is None:
                try:
                    self.checkpointer.write(self.run_id, merged, progress)
                except BaseException as exc:  # reported to the run by its next save or finish
                    self._error = exc
            if steps:
                self._unsaved.release(steps)
            for event in waiting:
                event.set()


def check_durability(durability: str) -> None:
    if durability not in DURABILITIES:
        raise ValueError(f"durability must be one of {DURABILITIES}, got {durability!r}")


def make_saver(durability: str, checkpointer: Checkpointer, run_id: str, *, on_loop: bool = False) -> Saver:
    """The saver for ``durability``; ``on_loop``: the run is async (a ``sync`` write then must not block
    the event loop, unless the checkpointer's writes never wait on I/O)."""
    check_durability(durability)
    if durability == "sync":
        if on_loop and checkpointer.writes_wait:
            return ThreadSaver(checkpointer, run_id)
        return Saver(checkpointer, run_id)
    if durability == "async":
        return BackgroundSaver(checkpointer, run_id)
    return ExitSaver(checkpointer, run_id)
