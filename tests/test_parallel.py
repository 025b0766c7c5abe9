"""compval.parallel.forked_map: tasks shared by this process and forked workers."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from compval.parallel import can_fork, forked_map

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs the fork start method")

BIG = np.arange(200_000, dtype=float)  # read by the workers from the forked memory, never pickled


def task(key: int) -> dict:
    time.sleep(0.05)  # long enough for the pool to hand tasks to its worker before this process takes them all
    return {"key": key, "sum": float(BIG[key::7].sum()), "pid": os.getpid()}


def test_every_task_runs_once_and_the_results_are_in_key_order():
    keys = list(range(9))
    got = forked_map(task, keys, workers=2, here=[4], detach=lambda r: {**r, "detached": True})
    assert list(got) == keys
    for k in keys:
        assert got[k]["key"] == k and got[k]["sum"] == float(BIG[k::7].sum())
        # a result is detached exactly when a worker made it
        assert got[k].get("detached", False) == (got[k]["pid"] != os.getpid())
    assert got[4]["pid"] == os.getpid()
    assert {r["pid"] for r in got.values()} - {os.getpid()}, "no task ran in a worker"


def test_one_worker_runs_everything_here_in_order():
    seen = []

    def fn(k):
        seen.append(k)
        return os.getpid()

    assert forked_map(fn, ["b", "a", "c"], workers=1, here=["c"]) == {
        "b": os.getpid(),
        "a": os.getpid(),
        "c": os.getpid(),
    }
    assert seen == ["b", "a", "c"]


def test_an_exception_in_a_worker_is_raised_here():
    def fn(k):
        if k == 0 and os.getpid() != parent:
            raise ArithmeticError("task 0 failed in a worker")
        if k == 0:
            raise ArithmeticError("task 0 failed here")
        return k

    parent = os.getpid()
    with pytest.raises(ArithmeticError, match="task 0 failed"):
        forked_map(fn, [0, 1, 2, 3], workers=2)


def test_bad_keys_are_refused():
    with pytest.raises(ValueError, match="distinct"):
        forked_map(task, [1, 1], workers=2)
    with pytest.raises(ValueError, match="not task keys"):
        forked_map(task, [1, 2], workers=2, here=[3])


def test_the_prelude_runs_once_before_the_workers_are_forked_and_they_inherit_its_state():
    state: dict = {}

    def prelude():
        state["made_by"] = os.getpid()
        state["calls"] = state.get("calls", 0) + 1

    def fn(k):
        time.sleep(0.05)
        return os.getpid(), state.get("made_by")

    got = forked_map(fn, list(range(6)), workers=2, here=[5], prelude=prelude)
    assert state["calls"] == 1
    assert {pid for pid, _ in got.values()} - {os.getpid()}, "no task ran in a worker"
    assert all(made_by == os.getpid() for _, made_by in got.values())  # the workers saw the prelude's state
    state.clear()
    assert forked_map(fn, [1, 2], workers=1, prelude=prelude) == {1: (os.getpid(), None), 2: (os.getpid(), None)}
    assert state == {}  # nothing shared, no prelude


def test_a_task_no_worker_has_started_is_taken_here():
    # a worker holds only the task it runs: while it runs "a" (which waits until "b" and "c" have run here), this
    # process takes both others. A pool that queues a worker's next task ahead would hand it "b" and never finish.
    import multiprocessing

    parent = os.getpid()
    a_started = multiprocessing.get_context("fork").Event()
    both_here = multiprocessing.get_context("fork").Event()
    ran_here: list[str] = []

    def fn(k):
        if k == "a" and os.getpid() != parent:
            a_started.set()
            assert both_here.wait(timeout=20), "b and c were not both taken by the calling process"
        elif k == "h":
            assert a_started.wait(timeout=60)  # a worker runs "a" (and a pool would have queued "b" for it)
        elif os.getpid() == parent and k in ("b", "c"):
            ran_here.append(k)
            if len(ran_here) == 2:
                both_here.set()
        return os.getpid()

    got = forked_map(fn, ["h", "a", "b", "c"], workers=2, here=["h"])
    assert got["b"] == parent and got["c"] == parent and got["h"] == parent
    assert ran_here == ["c", "b"]  # from the back


@pytest.mark.parametrize(
    "how, message",
    [
        ("exit", r"ended with exit code 3 before returning the tasks \[0\]"),
        ("kill", r"killed by signal 9 before .*\[0\]"),
    ],
)
def test_a_worker_that_dies_is_reported_with_the_tasks_it_did_not_return(how, message):
    import multiprocessing
    import signal

    parent = os.getpid()
    started = multiprocessing.get_context("fork").Event()

    def fn(k):
        if os.getpid() != parent:
            started.set()
            if how == "exit":
                os._exit(3)
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer ends a process
        assert started.wait(timeout=60)  # the worker has claimed a task (the first)
        return k

    with pytest.raises(RuntimeError, match=message):
        forked_map(fn, [0, 1, 2], workers=2)
