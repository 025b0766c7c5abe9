"""Independent tasks shared between this process and forked worker processes (:func:`forked_map`).

The tasks read their inputs from this process's memory: the workers are forked (POSIX ``fork``) after the task
function is set, so a million-row data frame is shared copy-on-write, never pickled. Only the results travel back
(pickled), which is why a task's result can be reduced in the worker first (``detach``). Every task is a pure
function of its key and runs with BLAS limited to one thread (a multi-threaded BLAS sums in another order, which
changes the last digits), so the results are those of a sequential run whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
from typing import Any, Callable, Hashable, Sequence, TypeVar

from threadpoolctl import threadpool_limits

__all__ = ["forked_map", "can_fork"]

K = TypeVar("K", bound=Hashable)

# whether a forked_map is sharing its tasks (a task cannot start another one)
_RUNNING: list[bool] = []


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux and macOS; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def forked_map(
    fn: Callable[[K], Any],
    keys: Sequence[K],
    workers: int,
    *,
    here: Sequence[K] = (),
    detach: Callable[[Any], Any] | None = None,
    prelude: Callable[[], Any] | None = None,
) -> dict[K, Any]:
    """``{key: fn(key)}`` for every key, with the work shared by this process and ``workers - 1`` forked ones.

    This process first runs the ``here`` tasks (their results keep everything ``fn`` returns), then takes the
    other tasks from the end of ``keys`` while the workers take them from the front, until none is left. A task
    is claimed by the process that starts it, when it starts it (no task waits in a worker's queue while this
    process is free).
    A task run in a worker returns ``detach(fn(key))``: what is not needed here (e.g. a fit's copy of its rows)
    is dropped before the result is pickled back.

    With ``workers <= 1``, a single task, or no ``fork`` on this platform, every task runs here, in order.
    BLAS is limited to one thread in every process while the tasks run. An exception raised by a task is
    raised here (the tasks not started are dropped, the running ones stopped); a worker that ends without
    returning its tasks (e.g. killed for memory) raises a RuntimeError naming them.

    Parameters
    ----------
    fn : callable
        Task function of one key; it must not depend on which process runs it (no global state it changes).
    keys : sequence
        Distinct task keys; the order of the returned dict.
    workers : int
        Processes in all, this one included (e.g. Snakemake's ``threads``).
    here : sequence
        Keys whose tasks must run in this process, first.
    detach : callable, optional
        Applied in the worker to a task's result before it is sent back; default: unchanged.
    prelude : callable, optional
        Called here, without arguments, just before the workers are forked, and only when the work is shared:
        the state it leaves (e.g. sample statistics that several tasks use, in a cache) is inherited by the
        workers, page by page as this process holds it, instead of being computed again in each.
    """
    keys = list(keys)
    if len(set(keys)) != len(keys):
        raise ValueError("forked_map: task keys must be distinct")
    unknown = [k for k in here if k not in keys]
    if unknown:
        raise ValueError(f"forked_map: keys {unknown} in 'here' are not task keys")
    others = [k for k in keys if k not in here]
    with threadpool_limits(limits=1, user_api="blas"):
        if workers <= 1 or not others or len(keys) == 1 or not can_fork():
            return {k: fn(k) for k in keys}
        if prelude is not None:
            prelude()
        return _shared(fn, keys, others, workers, here, detach)


def _claim(lock, ends, *, front: bool) -> int | None:
    """The position of the next unclaimed task, from the front (workers) or the back (this process), or None when
    every task is claimed. ``ends`` holds the next position from the front and one past the last from the back."""
    with lock:
        if ends[0] >= ends[1]:
            return None
        if front:
            ends[0] += 1
            return ends[0] - 1
        ends[1] -= 1
        return ends[1]


def _worker(fn, detach, others, lock, ends, out) -> None:
    """A forked worker: claims tasks from the front until none is left and sends each result, pickled, as
    ``(position, ok, bytes)``; then ``None``. A failed task stops every claim and sends its exception."""
    with threadpool_limits(limits=1, user_api="blas"):
        while (i := _claim(lock, ends, front=True)) is not None:
            try:
                out.put((i, True, pickle.dumps(detach(fn(others[i])), protocol=pickle.HIGHEST_PROTOCOL)))
            except BaseException as exc:  # sent to the caller, which raises it: not swallowed
                with lock:
                    ends[0] = ends[1]  # no task is started after a failure
                out.put((i, False, _pickled_exception(exc)))
                break
    out.put(None)


def _pickled_exception(exc: BaseException) -> bytes:
    """``exc`` pickled, or a RuntimeError naming it where it cannot be pickled."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:  # an exception type that does not pickle: its name and message travel instead
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _shared(fn, keys, others, workers, here, detach) -> dict:
    if _RUNNING:
        raise RuntimeError("forked_map cannot be nested")
    ctx = multiprocessing.get_context("fork")
    lock = ctx.Lock()
    # a task is claimed when a process starts it, never queued ahead for a worker, so that this process takes
    # every task no worker has started (a pool's queue hands a worker its next task while it runs the current
    # one: with one worker, the two longest rival models could both end up in it)
    ends = ctx.RawArray("q", [0, len(others)])
    out = ctx.Queue()  # a worker's feeder thread sends its results while it goes on with the next task
    procs = [
        ctx.Process(target=_worker, args=(fn, detach or (lambda r: r), others, lock, ends, out), daemon=True)
        for _ in range(min(workers - 1, len(others)))
    ]
    done: dict = {}
    started: list = []
    _RUNNING.append(True)
    try:
        for p in procs:
            p.start()
            started.append(p)
        for k in here:
            done[k] = fn(k)
        while (i := _claim(lock, ends, front=False)) is not None:
            done[others[i]] = fn(others[i])
        _collect(procs, out, others, done)
    finally:
        # on an exception here, no task is started after it and the workers' running tasks are stopped
        with lock:
            ends[0] = ends[1]
        for p in started:
            if p.is_alive() and len(done) < len(keys):
                p.terminate()
            p.join()
        out.close()
        _RUNNING.clear()
    return {k: done[k] for k in keys}


def _collect(procs, out, others, done: dict) -> None:
    """Receives the workers' results into ``done`` until every worker has said it is done; raises a task's
    exception, or a RuntimeError naming the tasks a worker did not return when it ended without saying so."""
    running = len(procs)
    while running:
        try:
            msg = out.get(timeout=1.0)
        except queue.Empty:
            dead = [p.exitcode for p in procs if p.exitcode not in (None, 0)]
            if dead:
                lost = [k for k in others if k not in done]
                how = f"was killed by signal {-dead[0]}" if dead[0] < 0 else f"ended with exit code {dead[0]}"
                raise RuntimeError(f"forked_map: a worker process {how} before returning the tasks {lost}") from None
            continue
        if msg is None:
            running -= 1
            continue
        i, ok, data = msg
        if not ok:
            raise pickle.loads(data)
        done[others[i]] = pickle.loads(data)
