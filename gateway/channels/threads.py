"""The threads the channels parse and check messages in, each with a bounded name dictionary.

lxml interns every element and attribute name it parses in a dictionary that belongs to the
parsing thread and lives as long as the thread. A pool whose threads live forever therefore
keeps every name any caller ever sent: a stream of messages with made-up names (hostile, and
parsed before any signature is checked) grows the gateway's memory without end. Here a thread
whose dictionary passes ``max_names`` strings finishes its task, leaves, and is replaced; its
dictionary goes with the last document that used it. Names a real exchange uses (the channels'
and the services' own, a few thousand) never come near the bound, so in normal traffic no thread
is ever replaced.
"""

from __future__ import annotations

import contextvars
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from lxml import etree

__all__ = ["DEFAULT_MAX_NAMES", "XmlThreads", "names_known"]

# ~100 bytes a name: a retired thread had at most a few MB of names.
DEFAULT_MAX_NAMES = 20_000

_Task = tuple[Future[Any], Callable[[], Any]]


def names_known() -> int:
    """Strings the calling thread's lxml dictionary knows: its own, plus its parent's (lxml gives
    every thread but the first a sub-dictionary of the first thread's, which it looks in first)."""
    return int(etree.memory_debugger.dict_size())


class XmlThreads(Executor):
    """``threads`` worker threads (as many as asyncio's default executor by default), started with
    the first task; each runs tasks until its lxml name dictionary holds more than ``max_names``
    strings, then starts its successor and ends."""

    def __init__(self, threads: int | None = None, max_names: int = DEFAULT_MAX_NAMES) -> None:
        self.threads = threads or min(32, (os.cpu_count() or 1) + 4)
        self.max_names = max_names
        self.retired = 0  # threads replaced for their dictionary's size
        self._tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn(*args, **kwargs)`` in a thread, in the caller's context (as ``to_thread``)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("XmlThreads is shut down")
            if not self._started:
                self._started = True
                for _ in range(self.threads):
                    self._start_thread()
        future: Future[Any] = Future()
        context = contextvars.copy_context()
        self._tasks.put((future, lambda: context.run(fn, *args, **kwargs)))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let every thread finish the tasks queued so far and end (without waiting for them)."""
        with self._lock:
            self._closed = True
            started = self._started
        if started:
            for _ in range(self.threads):
                self._tasks.put(None)

    def _start_thread(self) -> None:
        threading.Thread(target=self._work, name="kzgate-xml", daemon=True).start()

    def _work(self) -> None:
        inherited = names_known()  # the parent's, as this thread's own dictionary starts empty
        while True:
            task = self._tasks.get()
            if task is None:
                return
            future, call = task
            del task
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(call())
                except BaseException as error:  # handed to the awaiting caller, as an executor does
                    future.set_exception(error)
            # Nothing of the task stays referenced here: its documents (and this thread's
            # dictionary, if it retires) are freed as soon as the caller lets them go.
            del future, call
            if names_known() - inherited > self.max_names:
                with self._lock:
                    self.retired += 1
                    if not self._closed:
                        # The successor takes this thread's place before it leaves, so there are
                        # always ``threads`` to take the queue's tasks (and shutdown's sentinels).
                        self._start_thread()
                return
