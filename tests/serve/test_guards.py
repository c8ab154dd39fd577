"""The search queue in-process, with searches that block until released: one runs, `size` wait holding no thread,
the next is refused with Busy and a Retry-After; every slot comes back, whatever the searches did."""

from __future__ import annotations

import threading

import anyio
import pytest

from serve.guards import Busy, SearchQueue


def test_one_search_runs_size_wait_and_the_next_is_refused_with_a_retry_after():
    release, running, peak = threading.Event(), [], []

    def blocking_search(number: int) -> int:
        running.append(number)
        peak.append(len(running))
        release.wait(30)
        running.remove(number)
        return number

    async def scenario() -> None:
        queue = SearchQueue(size=2, decodes=1)
        done: list[int] = []

        async def one(number: int) -> None:
            async with queue.admit():
                done.append(await queue.search(blocking_search, number))

        async with anyio.create_task_group() as group:
            for number in range(3):  # one runs, two wait
                group.start_soon(one, number)
            while not running or queue.admitted < 3:
                await anyio.sleep(0.01)
            with pytest.raises(Busy) as refused:
                async with queue.admit():
                    pass
            assert refused.value.retry_after >= 1 and "3 searches are running or waiting" in refused.value.message
            release.set()
        assert sorted(done) == [0, 1, 2] and queue.admitted == 0
        assert max(peak) == 1  # never two at once

        async def failing() -> None:
            async with queue.admit():
                await queue.search(lambda: 1 / 0)

        with pytest.raises(ZeroDivisionError):
            await failing()
        assert queue.admitted == 0  # a failed search gives its slot back

    anyio.run(scenario)
