"""The A/B timing of ``benchmarks/perf`` (cell.py's reported ratio): paired per repeat, by hand."""
import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "perf_common", Path(__file__).resolve().parents[1] / "benchmarks" / "perf" / "common.py")
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)


def test_paired_ratio_is_the_median_of_each_repeats_own_ratio(capsys):
    # repeat 1 ran under a load spike that slowed both sides alike: its pair still says 1.2
    times = {"harness": [12.0, 30.0, 13.0], "bare": [10.0, 25.0, 13.0]}
    cpu = {"harness": [6.0, 6.2, 6.1], "bare": [5.0, 5.0, 5.2]}
    ratio = common.report_paired(times, cpu, "harness", "bare", "whole cell")
    assert ratio == pytest.approx(1.2)  # pairs 1.2, 1.2, 1.0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "whole cell: 1.200 (wall), 1.200 (CPU time)"  # the figures reported come last
    assert "spread 1.000-1.200 over 3 repeats" in out[1]
    assert "fastest/fastest 1.200" in out[1]  # 12 / 10
    assert "median/median 1.000" in out[1]  # medians 13 and 13: unpaired, the spike hides the overhead
    assert "(median 1.200)" in out[2]  # CPU pairs 1.2, 1.24, 1.173


def test_alternate_swaps_the_order_every_repeat_and_records_cpu_time(monkeypatch):
    order = []
    # a collection before each side, off its clock (stubbed: a full collection in pytest's heap is slow)
    monkeypatch.setattr(common.gc, "collect", lambda: order.append("gc"))
    cpu: dict = {}
    times = common.alternate({"a": lambda: order.append("a"), "b": lambda: order.append("b")}, 3, cpu)
    assert order == ["gc", "a", "gc", "b", "gc", "b", "gc", "a", "gc", "a", "gc", "b"]
    assert [len(times["a"]), len(times["b"]), len(cpu["a"]), len(cpu["b"])] == [3, 3, 3, 3]
    assert all(t >= 0 for t in times["a"] + cpu["b"])
