"""Grad mode is per thread (as in PyTorch) and per asyncio task: no_grad in one does not stop another."""

import asyncio
import threading

import shenjing as sj


def test_no_grad_in_one_thread_does_not_reach_another():
    x = sj.ones(3, requires_grad=True)
    entered, done = threading.Event(), threading.Event()
    seen = {}

    def other():
        entered.wait()
        seen["enabled"] = sj.is_grad_enabled()
        seen["records"] = (x * 2).requires_grad
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with sj.no_grad():
        entered.set()
        done.wait(timeout=10)
        assert not sj.is_grad_enabled() and not (x * 2).requires_grad
    t.join()
    assert seen == {"enabled": True, "records": True}


def test_a_new_thread_starts_with_grad_on_even_when_its_parent_is_in_no_grad():
    seen = []
    with sj.no_grad():
        t = threading.Thread(target=lambda: seen.append(sj.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_tasks_keep_their_own_mode():
    x = sj.ones(2, requires_grad=True)

    async def quiet(gate: asyncio.Event):
        with sj.no_grad():
            await gate.wait()  # the other task runs while this one is inside no_grad
            return (x * 2).requires_grad

    async def loud(gate: asyncio.Event):
        records = (x * 2).requires_grad
        gate.set()
        return records

    async def both():
        gate = asyncio.Event()
        return await asyncio.gather(quiet(gate), loud(gate))

    assert asyncio.run(both()) == [False, True]
    assert sj.is_grad_enabled()
