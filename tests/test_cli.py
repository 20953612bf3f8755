"""The ``mubench`` command line: help, fast light imports, exit statuses, nothing started on bad input."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, mubench_cmd
from mubench_harness.cli import main, parser

COMMANDS = ["plugins", "list", "validate", "run", "report", "splits", "plan", "leaderboard", "new-plugin"]


def run(args, env, **kw):
    return subprocess.run([*mubench_cmd(), *args], capture_output=True, text=True, env=env, timeout=300, **kw)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_everywhere(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"] if command else ["--help"])
    assert info.value.code == 0
    assert "usage: mubench" in capsys.readouterr().out


def test_every_command_is_documented():
    sub = next(a for a in parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)


def test_import_pulls_no_heavy_library():
    code = ("import sys, mubench_harness.cli, mubench_harness.plugins as p, mubench_harness.config as c\n"
            "p.load_registry()\n"
            "heavy = [m for m in ('torch', 'transformers', 'datasets', 'diffusers', 'deepspeed') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "[]"


def test_list_json_has_name_plugin_summary(capsys):
    for kind in ("tasks", "models", "unlearners", "metrics"):
        assert main(["list", kind, "--json"]) == 0
        items = json.loads(capsys.readouterr().out)
        assert all({"name", "plugin", "summary"} <= set(i) for i in items)
    assert main(["list", "tasks", "--json"]) == 0
    [toy] = [i for i in json.loads(capsys.readouterr().out) if i["name"] == "toy_blobs"]
    assert toy["plugin"] == "mubench_harness.builtins.toy" and toy["kind"] == "classification"


BAD_FILES = {
    "junk.yaml": b"\x00\x01\x02\xff\xfe binary",
    "tag.yaml": b"name: !!python/name:os.system\n",
    "list.yaml": b"- 1\n",
    "key.yaml": b"name: x\nout_dir: y\ntasks: [{name: toy_blobs, models: [toy_mlp]}]\nunlearners: [x]\n",
    "unknown.yaml": b"name: x\ntasks: [{name: toy_blobs, models: [toy_mlp]}]\nunlearners: [nosuchmethod]\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_exits_2_located_and_starts_nothing(tmp_path, name, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    for command in (["validate", str(path)], ["run", str(path)], ["run", str(path), "--output-dir", str(tmp_path / "o")]):
        assert main(command) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"{path}:") and err.count("\n") == 0, err
        file, line, col, _ = err.split(":", 3)
        assert line.isdigit() and col.isdigit()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no output folder, no database


def test_run_validate_report_and_exit_codes(tmp_path, install_plugins, cli_env):
    install_plugins("testkit")
    env = cli_env()
    good = tmp_path / "good.yaml"
    good.write_text("name: c\nseeds: [0]\ndeletion_ratios: [10]\ntasks: [{name: toy_blobs, args: {n_train: 80, n_test: 40},"
                    " models: [toy_mlp]}]\nunlearners: [ascent]\nmetrics: [performance]\n")
    v = run(["validate", str(good)], env)
    assert v.returncode == 0 and "ok: 2 cells" in v.stdout
    r = run(["run", str(good), "--output-dir", str(tmp_path / "out")], env)
    assert r.returncode == 0, r.stderr
    assert "| toy_blobs" in r.stdout and "ascent" in r.stdout and "original" in r.stdout  # the table is printed
    head = [h.strip() for h in r.stdout.splitlines()[0].split("|")[7:-1]]
    assert head == ["test/score", "forget/score", "retain/score", "forget/chance"], head  # the headline columns
    assert "test/size" not in r.stdout and f"mubench report {tmp_path / 'out'}" in r.stderr
    assert (tmp_path / "out" / "results.db").is_file()
    # a finished benchmark's rerun does no work: it does not even import torch
    code = (f"import sys; from mubench_harness.cli import main; rc = main(['run', {str(good)!r}, '--output-dir', {str(tmp_path / 'out')!r}]);"
            " print(rc, 'torch' in sys.modules)")
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert again.stdout.strip().endswith("0 False") and "nothing to run" in again.stderr, (again.stdout, again.stderr)
    assert "| toy_blobs" in again.stdout  # the table is printed again
    for fmt, probe in (("github", "|--"), ("markdown", "|:"), ("latex", "\\toprule"), ("csv", "test/score mean")):
        rep = run(["report", str(tmp_path / "out"), "--format", fmt], env)
        assert rep.returncode == 0 and probe in rep.stdout, (fmt, rep.stdout)
    picked = run(["report", str(tmp_path / "out"), "--metrics", "test/score", "forget/*score"], env)
    header = picked.stdout.splitlines()[0].split("|")[7:-1]
    assert [h.strip() for h in header] == ["test/score", "forget/score"], picked.stdout  # classification: no original_score
    assert "- performance (info)" in picked.stdout and "- rmia" not in picked.stdout  # formulas of shown values
    bad = run(["report", str(tmp_path / "out"), "--metrics", "forget/acc*"], env)
    assert bad.returncode == 2 and "'forget/acc*' matches no value" in bad.stderr and bad.stdout == ""
    js = json.loads(run(["report", str(tmp_path / "out"), "--format", "json"], env).stdout)
    assert {row["label"] for row in js} == {"original", "ascent"} and js[0]["metrics"]["test/score"]["n"] == 1
    failing = tmp_path / "failing.yaml"
    failing.write_text(good.read_text().replace("[ascent]", "[explode]"))
    f = run(["run", str(failing), "--output-dir", str(tmp_path / "out2")], env)
    assert f.returncode == 1 and "1 cell(s) failed" in f.stderr
    assert run(["report", str(tmp_path / "nowhere")], env).returncode == 2


def test_splits_prints_and_writes(tmp_path, capsys):
    from mubench_harness.splits import forget_indices
    from mubench_harness.testing import build_task

    assert main(["splits", "toy_blobs", "--ratio", "3", "--seed", "7"]) == 0
    printed = [int(x) for x in capsys.readouterr().out.split()]
    train = build_task("toy_blobs").load("mini")["train"]
    assert printed == forget_indices(len(train), 3, 7, train["label"]).tolist() and len(printed) == 18
    assert main(["splits", "toy_blobs", "--ratio", "3", "--seed", "7", "--out", str(tmp_path / "f.txt")]) == 0
    assert [int(x) for x in (tmp_path / "f.txt").read_text().split()] == printed
    assert main(["splits", "toy_blobs", "--ratio", "12"]) == 2
    assert main(["splits", "toy_blob", "--ratio", "1"]) == 2
    assert "did you mean 'toy_blobs'" in capsys.readouterr().err
    assert main(["splits", "toy_blobs", "--ratio", "1", "--source", "hub"]) == 2


def test_new_plugin(tmp_path, capsys):
    assert main(["new-plugin", "myscrub", "--plugins-dir", str(tmp_path)]) == 0
    made = tmp_path / "mubench-plugin-myscrub"
    assert (made / "src" / "mubench_myscrub" / "__init__.py").is_file() and (made / "tests" / "test_myscrub.py").is_file()
    assert main(["new-plugin", "myscrub", "--plugins-dir", str(tmp_path)]) == 2  # exists
    assert main(["new-plugin", "Bad-Name", "--plugins-dir", str(tmp_path)]) == 2
