"""Independent tasks shared between this process and forked worker processes (:func:`forked_map`).

The tasks read their inputs from this process's memory: the workers are forked (POSIX ``fork``) after the task
function is set, so a million-row data frame is shared copy-on-write, never pickled. Only the results travel back
(pickled), which is why a task's result can be reduced in the worker first (``detach``). Every task is a pure
function of its key and runs with BLAS limited to one thread (a multi-threaded BLAS sums in another order, which
changes the last digits), so the results are those of a sequential run whatever the number of workers.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Hashable, Sequence, TypeVar

from threadpoolctl import threadpool_limits

__all__ = ["forked_map", "can_fork"]

K = TypeVar("K", bound=Hashable)

# the task function and the worker-side reduction of the running forked_map; set before the workers are forked,
# so they inherit them (closures and their data are never pickled)
_ACTIVE: dict[str, Callable] = {}


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux and macOS; not Windows)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _run_in_worker(key: Hashable) -> Any:
    with threadpool_limits(limits=1, user_api="blas"):
        return _ACTIVE["detach"](_ACTIVE["fn"](key))


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
    other tasks from the end of ``keys`` while the workers take them from the front, until none is left.
    A task run in a worker returns ``detach(fn(key))``: what is not needed here (e.g. a fit's copy of its rows)
    is dropped before the result is pickled back.

    With ``workers <= 1``, a single task, or no ``fork`` on this platform, every task runs here, in order.
    BLAS is limited to one thread in every process while the tasks run. An exception raised by a task is
    raised here (the tasks not started are dropped).

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


def _shared(fn, keys, others, workers, here, detach) -> dict:
    if _ACTIVE:
        raise RuntimeError("forked_map cannot be nested")
    done: dict = {}
    _ACTIVE.update(fn=fn, detach=detach or (lambda r: r))
    pool = ProcessPoolExecutor(
        max_workers=min(workers - 1, len(others)), mp_context=multiprocessing.get_context("fork")
    )
    try:
        futures = {k: pool.submit(_run_in_worker, k) for k in others}
        for k in here:
            done[k] = fn(k)
        # take the tasks no worker has started, last first (the workers go from the front)
        for k in reversed(others):
            if not futures[k].cancel():
                break
            done[k] = fn(k)
        for k in others:
            if k not in done:
                done[k] = futures[k].result()
    finally:
        # on an exception, the tasks not started are dropped (the running ones end before this returns)
        pool.shutdown(wait=True, cancel_futures=True)
        _ACTIVE.clear()
    return {k: done[k] for k in keys}
