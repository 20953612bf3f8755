"""The ``local`` executor's worker processes: ``workers`` groups at a time on this machine.

Each worker is a process of its own (spawned: a fresh interpreter, no forked torch threads), given
``threads`` torch threads, that runs one group's cells after another and then takes the next group: the
group's original, encoded data and signals stay in that process, as in a sequential run. The driver
decides what starts (:class:`~mubench_harness.executors.GroupOrder`), sends each cell the database rows
it needs, and alone writes results.db. A worker that dies (killed, out of memory) fails the cell it was
running; a fresh process takes its place and the sweep goes on (a rerun redoes the failed cell).
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any


def _limit_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _worker(threads: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_limit_threads, initargs=(threads,))


def _run(run_cell, cell, references):
    return run_cell(cell, references)


def run_in_workers(order, run_cell, recorder, workers: int, threads: int) -> None:
    from .grid import CellOutcome

    lanes = [_worker(threads) for _ in range(workers)]
    group_of: list[int | None] = [None] * workers  # the group each worker is running
    in_flight: dict[Future, tuple[int, Any]] = {}

    def feed(lane: int) -> None:
        """Give worker ``lane`` its group's next cell, or the next group that may start."""
        i = group_of[lane]
        cell = order.next_cell(i) if i is not None else None
        while cell is None:
            i = order.take()
            if i is None:
                group_of[lane] = None
                return
            cell = order.next_cell(i)
        group_of[lane] = i
        recorder.started(cell)
        in_flight[lanes[lane].submit(_run, run_cell, cell, run_cell.references(cell))] = (lane, cell)

    try:
        for lane in range(workers):
            feed(lane)
        while in_flight:
            finished, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in finished:
                lane, cell = in_flight.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    outcome = CellOutcome.lost(cell, f"the worker process running {cell.key} died (killed or out "
                                                   f"of memory); a rerun runs this cell again")
                    lanes[lane].shutdown(wait=False)
                    lanes[lane] = _worker(threads)
                except Exception:  # noqa: BLE001 - the outcome could not come back (e.g. not picklable)
                    outcome = CellOutcome.lost(cell)
                recorder.finished(cell, outcome)
                order.finished(group_of[lane])
            busy = {lane for lane, _ in in_flight.values()}
            for lane in range(workers):  # its group's next cell, or a group a finished original released
                if lane not in busy:
                    feed(lane)
    finally:
        for lane in lanes:  # an interrupted driver leaves no cell running
            lane.shutdown(wait=True, cancel_futures=True)
