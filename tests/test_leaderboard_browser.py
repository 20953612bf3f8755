"""The leaderboard site of a toy run, rendered in headless Chromium: every method named, numbers equal to
``mubench report --format json``, a header click reorders rows, the index screenshot is not blank.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with the reason where it is absent."""
from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ROOT, mubench_cmd

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                           "--disable-background-networking", "--disable-component-update", "--disable-sync",
                           f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


class Tables(HTMLParser):
    """Tables of a rendered DOM by id: rows of (text, data-value) cells."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str | None]]]] = {}
        self._table = self._row = self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id", ""), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ["", a.get("data-value")]
            self._row.append(self._cell)

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th"):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data


def rendered(tmp: Path, url: str) -> dict:
    out = chromium(tmp, "--dump-dom", url)  # the DOM after the page's scripts ran
    assert out.returncode == 0, out.stderr[-2000:]
    parser = Tables()
    parser.feed(out.stdout)
    return {k: [[(t.strip(), v) for t, v in row] for row in rows] for k, rows in parser.tables.items()}


@pytest.fixture(scope="module")
def site(tmp_path_factory, cli_env_module):
    tmp = tmp_path_factory.mktemp("toy")
    run = subprocess.run([*mubench_cmd(), "run", str(ROOT / "benchmarks" / "toy.yaml"), "--output-dir", str(tmp / "run"),
                          "--no-progress"], capture_output=True, text=True, env=cli_env_module, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = subprocess.run([*mubench_cmd(), "leaderboard", str(tmp / "run"), "--out", str(tmp / "site")],
                         capture_output=True, text=True, env=cli_env_module, timeout=300)
    assert out.returncode == 0, out.stderr
    report = subprocess.run([*mubench_cmd(), "report", str(tmp / "run"), "--format", "json"],
                            capture_output=True, text=True, env=cli_env_module, timeout=300)
    return tmp, tmp / "site", json.loads(report.stdout)


@pytest.fixture(scope="module")
def cli_env_module():
    import os

    from conftest import OFFLINE

    env = {**os.environ, **OFFLINE}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(ROOT)) if p)
    return env


@needs_chromium
def test_index_names_every_method_and_task_pages_match_the_json_report(site):
    tmp, out, report = site
    tables = rendered(tmp, (out / "index.html").as_uri())
    methods = {r["label"] for r in report if r["kind"] == "unlearned"}
    assert {row[0][0] for row in tables["rank-overall"][1:]} == methods
    board = json.loads((out / "leaderboard.json").read_text())
    assert [e["method"] for e in board["overall"]] == [row[0][0] for row in tables["rank-overall"][1:]]
    # the overall score of a method = mean over its settings of overall/score (json report), by hand
    for e in board["overall"]:
        means = [r["metrics"]["overall/score"]["mean"] for r in report if r["label"] == e["method"]]
        assert e["score"] == pytest.approx(sum(means) / len(means))
    page = rendered(tmp, (out / "task-toy_blobs.html").as_uri())["results"]
    head = [c[0] for c in page[0]]
    checked = 0
    for row in page[1:]:
        label, ratio = row[0][0], int(row[3][0])
        ref = next(r for r in report if r["label"] == label and r["ratio"] == ratio)
        for name, (_, value) in zip(head[5:], row[5:]):
            if ref["metrics"][name] is not None:
                assert float(value) == ref["metrics"][name]["mean"]
                checked += 1
    assert checked >= len(report) * 4
    html = (out / "task-toy_blobs.html").read_text()
    assert "<img src=\"plots/toy_blobs__toy_mlp__tiny__metrics_vs_ratio.png\"" in html
    assert "http://" not in html and "https://" not in html  # nothing fetched from a network


@needs_chromium
def test_clicking_a_header_reorders_rows(site):
    tmp, out, _ = site
    url = (out / "task-toy_blobs.html").as_uri()
    before = [float(r[5][1]) for r in rendered(tmp, url)["results"][1:]]
    assert before != sorted(before) and before != sorted(before, reverse=True)  # so a sort must move rows
    # the page's script clicks header 5 (the first metric) on load: ascending, then again: descending
    asc = rendered(tmp, url + "#sort=results:5")["results"][1:]
    desc = rendered(tmp, url + "#sort=results:5:desc")["results"][1:]
    values = [float(r[5][1]) for r in asc]
    assert values == sorted(values) and [float(r[5][1]) for r in desc] == sorted(values, reverse=True)
    assert sorted(values) == sorted(before)  # the same rows, reordered


@needs_chromium
def test_the_index_screenshot_is_not_blank(site):
    tmp, out, _ = site
    shot = tmp / "index.png"
    done = chromium(tmp, "--window-size=1000,800", f"--screenshot={shot}", (out / "index.html").as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)[..., :3]
    dark = (pixels.mean(axis=2) < 0.5).mean()  # text and table borders
    assert 0.005 < dark < 0.5, dark


def test_ranking_by_hand_with_its_tie_rule():
    """Mean over settings of overall/score; equal to 4 decimals: higher test score first; fully equal: one rank."""
    from mubench_harness.report.leaderboard import ranking
    from mubench_harness.stats import summarize

    def row(label, ratio, overall, test, kind="unlearned", task="t", model="m"):
        return {"task": task, "model": model, "scale": "tiny", "label": label, "ratio": ratio, "kind": kind,
                "metrics": {"overall/score": summarize([overall]), "test/score": summarize([test])}}

    rows = [row("a", 5, 0.6, 0.5), row("a", 10, 0.4, 0.5),     # a: 0.5
            row("b", 5, 0.50001, 0.7),                           # b: 0.5 to 4 decimals, better test score
            row("c", 5, 0.9, 0.9, model="n"), row("d", 5, 0.9, 0.9, model="n"),  # c and d fully equal
            row("retrain", 5, 1.0, 1.0, kind="retrain")]        # a reference, not an entry
    board = ranking(rows)
    assert [(e["method"], e["rank"]) for e in board["overall"]] == [("c", 1), ("d", 1), ("b", 3), ("a", 4)]
    assert board["overall"][3]["score"] == pytest.approx(0.5) and board["overall"][3]["settings"] == 2
    assert [e["method"] for e in board["by_architecture"]["m"]] == ["b", "a"]
    assert list(board["by_task"]) == ["t"] and "tie" in board["tie_rule"]
