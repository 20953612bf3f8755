"""Bad input and integrity: duplicate keys in benchmark files, a damaged results database, and cached
originals whose file changed on disk. Each is refused or recomputed, never used silently."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess

import pytest

from conftest import mubench_cmd
from mubench_harness.config import ConfigError, load_located, validate
from mubench_harness.runner import run_benchmark
from mubench_harness.store import BadDatabase, Store, check_database

TASK = "tasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60}, models: [toy_mlp]}]\n"


def bench(tmp_path, unlearners: str, *, name="b.yaml"):
    path = tmp_path / name
    path.write_text(f"name: t\nseeds: [0]\ndeletion_ratios: [10]\n{TASK}unlearners: {unlearners}\n")
    return path


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def kit(install_plugins):
    return install_plugins("testkit")


# -- duplicate keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, first, second, key", [
    # two `unlearners:` blocks: PyYAML keeps the last list without a word
    ("name: t\nunlearners: [a]\ntasks: []\nunlearners: [b]\n", (2, 1), (4, 1), "unlearners"),
    # nested, in a flow mapping inside a list
    ("name: t\ntasks:\n  - {name: x, args: {n: 1, n: 2}}\n", (3, 22), (3, 28), "n"),
    # deep in a block mapping
    ("name: t\nbudget:\n  measure: seconds\n  max_fraction_of_retrain: 1\n  measure: flos\n", (3, 3), (5, 3), "measure"),
])
def test_duplicate_keys_name_both_places(tmp_path, text, first, second, key):
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_located(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:{second[0]}:{second[1]}: duplicate key {key!r}"), msg
    assert f"{path}:{first[0]}:{first[1]}" in msg and "\n" not in msg


def test_equal_keys_in_different_mappings_are_fine(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("a: {name: x}\nb: {name: x}\nc: [{name: 1}, {name: 2}]\n")
    assert load_located(path).data["c"] == [{"name": 1}, {"name": 2}]


def test_duplicate_keys_exit_2_on_the_command_line(tmp_path, kit, cli_env):
    path = tmp_path / "b.yaml"
    path.write_text(f"name: t\nseeds: [0]\ndeletion_ratios: [10]\n{TASK}unlearners: [ascent]\nunlearners: [exact]\n")
    out = tmp_path / "out"
    proc = subprocess.run([*mubench_cmd(), "run", str(path), "--output-dir", str(out)], env=cli_env(),
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.strip().count("\n") == 0, proc.stderr
    assert proc.stderr.startswith(f"{path}:6:1: duplicate key 'unlearners'") and f"{path}:5:1" in proc.stderr
    assert not out.exists()


# -- a damaged results database ------------------------------------------------------------------------


def _good_db(path):
    Store(path).close()
    with sqlite3.connect(path) as db:  # a few pages of content
        db.executemany("INSERT INTO runs (started, config, grid, versions) VALUES (?, ?, ?, ?)",
                       [("now", "{}" + " " * 3000, "[]", "{}") for _ in range(20)])


@pytest.mark.parametrize("damage", ["garbage", "flipped_page", "foreign"])
def test_damaged_database_is_refused_and_left_untouched(tmp_path, damage):
    path = tmp_path / "results.db"
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all\n" * 200)
    elif damage == "flipped_page":
        _good_db(path)
        raw = bytearray(path.read_bytes())
        page = 4096  # the first page past the header holds the schema's b-tree: flip a run of its bytes
        for i in range(page + 8, page + 40):
            raw[i] ^= 0xA5
        path.write_bytes(bytes(raw))
    else:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE notes (x)")
    before = sha(path)
    with pytest.raises(BadDatabase) as info:
        Store(path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)
    assert sha(path) == before


def test_intact_and_absent_databases_pass(tmp_path):
    check_database(tmp_path / "none.db")
    _good_db(tmp_path / "results.db")
    check_database(tmp_path / "results.db")


def test_run_on_a_damaged_database_exits_2_with_one_line(tmp_path, kit, cli_env):
    out = tmp_path / "out"
    out.mkdir()
    db = out / "results.db"
    db.write_bytes(bytes(range(256)) * 64)
    before = sha(db)
    proc = subprocess.run([*mubench_cmd(), "run", str(bench(tmp_path, "[ascent]")), "--output-dir", str(out)],
                          env=cli_env(), capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == proc.stderr.strip().splitlines()[0] and proc.stderr.startswith(f"{db}: ")
    assert "Traceback" not in proc.stderr and sha(db) == before
    assert sorted(p.name for p in out.iterdir()) == ["results.db"]  # nothing started
    report = subprocess.run([*mubench_cmd(), "report", str(out)], env=cli_env(), capture_output=True, text=True)
    assert report.returncode == 2 and "Traceback" not in report.stderr and sha(db) == before


# -- cached originals ----------------------------------------------------------------------------------


def _flip_tensor_bytes(path):
    """Change weights inside a safetensors file while its header stays valid (it still loads)."""
    raw = bytearray(path.read_bytes())
    header = 8 + int.from_bytes(raw[:8], "little")
    for i in range(header + 4, min(len(raw), header + 400), 16):
        raw[i] ^= 0x40
    path.write_bytes(bytes(raw))


def test_changed_cached_original_is_recomputed_with_a_warning(tmp_path, kit, capfd):
    out = tmp_path / "out"
    first = run_benchmark(validate(bench(tmp_path, "[ascent]")), out)
    assert first.work["train_original"] == 1
    (cached,) = (out / "cache" / "originals").glob("*.safetensors")
    meta = json.loads(cached.with_suffix(".json").read_text())
    assert len(meta["weights"]) == 20  # the weights hash is recorded at caching
    good = sha(cached)
    with sqlite3.connect(out / "results.db") as db:
        recorded = db.execute("SELECT weights FROM cells WHERE kind='original'").fetchone()[0]
    assert recorded == meta["weights"]

    # an intact cache is used as it is
    capfd.readouterr()
    again = run_benchmark(validate(bench(tmp_path, "[{name: ascent, label: a2, args: {lr: 0.02}}]", name="c.yaml")), out)
    assert again.work.get("train_original", 0) == 0 and "cached original not used" not in capfd.readouterr().err

    _flip_tensor_bytes(cached)
    third = run_benchmark(validate(bench(tmp_path, "[{name: ascent, label: a3, args: {lr: 0.03}}]", name="d.yaml")), out)
    err = capfd.readouterr().err
    assert f"warning: {cached}: cached original not used (weights hash" in err
    assert third.work["train_original"] == 1  # recomputed, not used
    assert sha(cached) == good  # the same seeded training writes back the same weights
    with sqlite3.connect(out / "results.db") as db:
        notes = [json.loads(n) for (n,) in db.execute("SELECT notes FROM cells WHERE label='a3'")]
    assert notes[0]["original_source"] == "trained"


def test_cache_entry_without_recorded_hash_is_not_trusted(tmp_path, kit, capfd):
    out = tmp_path / "out"
    run_benchmark(validate(bench(tmp_path, "[ascent]")), out)
    (cached,) = (out / "cache" / "originals").glob("*.safetensors")
    meta_path = cached.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    del meta["weights"]  # a cache written before hashes were recorded
    meta_path.write_text(json.dumps(meta))
    again = run_benchmark(validate(bench(tmp_path, "[{name: ascent, label: a2, args: {lr: 0.02}}]", name="c.yaml")), out)
    assert again.work["train_original"] == 1 and "no weights hash was recorded" in capfd.readouterr().err
    assert "weights" in json.loads(meta_path.read_text())


def test_changed_cached_signals_are_recomputed_with_a_warning(tmp_path, kit, capfd):
    out = tmp_path / "out"
    path = bench(tmp_path, "[ascent]")
    run_benchmark(validate(path), out)
    with sqlite3.connect(out / "results.db") as db:
        first = dict(db.execute("SELECT name, value FROM metrics WHERE cell LIKE '%/original/%'").fetchall())
    files = sorted((out / "cache" / "signals").glob("*.npz"))
    assert files
    for f in files:  # change one stored float in each file (the zip's CRC no longer matches)
        raw = bytearray(f.read_bytes())
        i = raw.find(b"loss.npy") + 200
        raw[i] ^= 0x01
        f.write_bytes(bytes(raw))
    (out / "results.db").unlink()
    capfd.readouterr()
    again = run_benchmark(validate(path), out)
    assert "cached signals not used (BadZipFile" in capfd.readouterr().err
    assert again.work["signal_pass"] >= len(files)
    with sqlite3.connect(out / "results.db") as db:
        second = dict(db.execute("SELECT name, value FROM metrics WHERE cell LIKE '%/original/%'").fetchall())
    assert {k: v for k, v in first.items() if not k.startswith("time/")} == \
        {k: v for k, v in second.items() if not k.startswith("time/")}


# -- references and definitions ------------------------------------------------------------------------


def test_retrain_reference_comes_from_this_configuration_only(tmp_path, kit):
    """An earlier configuration's retrain cell (other args: another settings hash) stays in the database;
    the reference of this benchmark's cells is its own retrain cell, never the older one."""
    out = tmp_path / "out"
    run_benchmark(validate(bench(tmp_path, "[{name: exact, args: {lr: 0.001}}, ascent]")), out)
    run_benchmark(validate(bench(tmp_path, "[{name: exact, args: {lr: 0.002}}, {name: ascent, args: {lr: 0.01}}]",
                                 name="c.yaml")), out)
    with sqlite3.connect(out / "results.db") as db:
        db.row_factory = sqlite3.Row
        rows = {r["key"]: dict(r) for r in db.execute("SELECT * FROM cells")}
        retrains = sorted((r for r in rows.values() if r["kind"] == "retrain"), key=lambda r: r["started"])
        assert len(retrains) == 2 and retrains[0]["seconds"] != retrains[1]["seconds"]
        (new_ascent,) = [r for r in rows.values() if r["kind"] == "unlearned" and r["started"] > retrains[1]["started"]]
        m = dict(db.execute("SELECT name, value FROM metrics WHERE cell = ?", (new_ascent["key"],)).fetchall())
    # both the budget and the time ratio are the new retrain's, not the old one's
    assert new_ascent["budget_seconds"] == pytest.approx(retrains[1]["seconds"])
    assert m["time/seconds"] / m["time/seconds_vs_retrain"] == pytest.approx(retrains[1]["seconds"])


def test_given_original_that_never_saw_the_data_has_no_membership_numbers(tmp_path, kit, cli_env):
    path = tmp_path / "g.yaml"
    path.write_text("name: g\nseeds: [0]\ndeletion_ratios: [10]\ntasks: [{name: toy_blobs, args: {n_train: 120, n_test: 60},"
                    " models: [given_mlp]}]\nunlearners: [ascent]\n")
    said = subprocess.run([*mubench_cmd(), "validate", str(path)], env=cli_env(), capture_output=True, text=True)
    assert "not trained on toy_blobs's training set, so membership attacks and the knowledge gap are n/a" in said.stdout
    out = tmp_path / "out"
    run_benchmark(validate(path), out)
    with sqlite3.connect(out / "results.db") as db:
        for key, notes in db.execute("SELECT key, notes FROM cells").fetchall():
            m = dict(db.execute("SELECT name, value FROM metrics WHERE cell = ?", (key,)).fetchall())
            na = json.loads(notes)["n/a"]
            for name in ("loss_attack/auc", "mia_efficacy/p_true", "knowledge_gap/auc", "rmia/auc"):
                assert m[name] is None and "taken as given and was not trained on toy_blobs" in na[name], (key, name)
            assert m["test/score"] is not None and m["overall/score"] is not None  # classification overall: no MIA in it
            assert "1/K = 0.25" in json.loads(notes)["definitions"]["overall/score"]
