"""Paper-compatible mode: the MU-Bench authors' released originals (from a local mirror laid out as the
hub) and their deletion-set files (exactly the rows listed; k % = the first k-tenths; quirks reported)."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mubench_harness import release
from mubench_harness.cli import main
from mubench_harness.config import ConfigError, validate
from mubench_harness.splits import DeletionFileError, FileDeletionSet, deletion_order, forget_indices, mubench_txt

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

FIXTURES = Path(__file__).parent / "fixtures" / "mubench_release"
LISTED = [37, 4, 91, 12, 60, 3, 77, 45, 28, 99]  # tests/fixtures/mubench_release/df/toy_blobs.txt


def test_release_ids_follow_the_authors_pattern():
    assert release.release_id("imdb", "bert", "base", "google-bert/bert-base-uncased") == "jialicheng/imdb-bert-base"
    assert release.release_id("ddi2013", "bert", "biobert", "dmis-lab/biobert-v1.1") == "jialicheng/ddi-biobert"
    assert release.release_id("cifar100", "resnet", "18", "microsoft/resnet-18") == "jialicheng/cifar100-resnet-18"
    assert release.release_id("nlvr2", "vilt", "b32-nlvr2", "dandelin/vilt-b32-finetuned-nlvr2") == \
        "dandelin/vilt-b32-finetuned-nlvr2"  # taken as given by the authors too
    with pytest.raises(release.NotReleased, match=r"no original for samsum × t5:small .*they released none for samsum"):
        release.release_id("samsum", "t5", "small", "google/t5-v1_1-small")
    with pytest.raises(release.NotReleased, match=r"for imdb they released: bert-base, bert-large"):
        release.release_id("imdb", "bert", "tiny", None)


def test_a_pair_never_released_is_a_located_validation_error(tmp_path):
    f = tmp_path / "b.yaml"
    f.write_text("name: t\ntasks:\n  - name: imdb\n    models:\n      - name: bert\n        scales: [tiny]\n"
                 "        checkpoint: {from: mubench-release}\nunlearners: [neggrad]\n")
    with pytest.raises(ConfigError, match=r"b\.yaml:7:\d+: checkpoint from mubench-release: .*no original for imdb × bert:tiny"):
        validate(f)


def test_the_authors_nlvr2_original_is_vilt_as_given(tmp_path):
    f = tmp_path / "b.yaml"
    f.write_text("name: t\ntasks:\n  - name: nlvr2\n    models:\n      - name: vilt\n        scales: [b32-nlvr2]\n"
                 "        checkpoint: {from: mubench-release}\nunlearners: [retrain, neggrad]\n")
    v = validate(f)  # resolves to dandelin/vilt-b32-finetuned-nlvr2: retraining does not apply, as for given
    assert v.given == [("nlvr2", "vilt", "b32-nlvr2")]
    # no second load over the family's own weights (which ARE dandelin/vilt-b32-finetuned-nlvr2)
    assert release.checkpoint_of(v.bench.tasks[0].models[0].checkpoint, "nlvr2", "vilt", "b32-nlvr2",
                                 "dandelin/vilt-b32-finetuned-nlvr2", tmp_path) is None


def test_index_file_prefix_is_the_authors_rule(tmp_path):
    ds = FileDeletionSet(FIXTURES / "df" / "toy_blobs.txt", "indices")
    for k in range(1, 11):  # their code: del_idx[:int(k / 10 * len(del_idx))]
        assert ds.indices(100, k).tolist() == sorted(LISTED[: int(k / 10 * len(LISTED))])
    with pytest.raises(DeletionFileError, match=r"toy_blobs\.txt:3: index 91 is out of range \(the training set has 50 rows"):
        ds.indices(50, 10)
    short = tmp_path / "short.txt"
    short.write_text("4\n9\n")  # two rows: a 1 % run would take int(0.2) = 0 of them
    with pytest.raises(DeletionFileError, match=r"Df at 1 % would be empty"):
        FileDeletionSet(short, "indices").check(20, [1, 10], None)


def test_ucf101_mask_layout_and_its_mixed_file_names():
    ds = FileDeletionSet(FIXTURES / "df" / "ucf101", "mask")
    assert ds.indices(50, 1).tolist() == [3, 17]  # 1.txt
    assert ds.indices(50, 2).tolist() == [3, 17, 40, 41]  # 2.0.txt
    with pytest.raises(DeletionFileError, match=r"no deletion-set file for 3 %"):
        ds.indices(50, 3)
    with pytest.raises(DeletionFileError, match=r"50 flags for a training set of 60 rows"):
        ds.indices(60, 1)


def test_quirks_are_warnings_sorted_file_and_class_balance():
    strata = np.zeros(100, dtype=int)
    strata[50:] = 1  # rows 0..49 class 0: the sorted file's prefix is all class 0
    warnings = FileDeletionSet(FIXTURES / "df" / "sorted.txt", "indices").check(100, [5, 10], strata)
    assert any("sorted ascending" in w for w in warnings)
    assert any("at 5 %, class 1 has 0 rows in Df" in w for w in warnings)
    unsorted = FileDeletionSet(FIXTURES / "df" / "toy_blobs.txt", "indices").check(100, [10], None)
    assert unsorted == []
    # 10 rows are 10 % of 100 but 5.9 % of 170 (as the authors' Speech Commands file, 5,040 rows, is of v0.02's 84,848)
    (share,) = FileDeletionSet(FIXTURES / "df" / "toy_blobs.txt", "indices").check(170, [10], None)
    assert "lists 10 rows, 5.9 % of this training set's 170" in share


def test_mubench_txt_round_trips_our_unified_sets(tmp_path):
    strata = np.repeat(np.arange(4), [100, 250, 50, 200])  # N = 600: 1 % is a whole number of rows
    file = tmp_path / "ours.txt"
    file.write_text(mubench_txt(deletion_order(600, 42, strata), 600))
    ds = FileDeletionSet(file, "indices")
    for k in range(1, 11):
        assert np.array_equal(ds.indices(600, k), forget_indices(600, k, 42, strata))


def _mirror(root: Path) -> dict:
    """A release of the toy MLP laid out as the hub would hold it; returns its state dict."""
    import torch
    from safetensors.torch import save_file

    from mubench_harness.builtins.toy_impl import MLP

    torch.manual_seed(123)
    model = MLP(8, 64, 4)
    folder = root / "jialicheng" / "toy-mlp-tiny"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "toy_mlp", "hidden": 64, "num_labels": 4}))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    return state


def _bench(tmp_path: Path, df: Path, mirror: Path) -> Path:
    f = tmp_path / "paper.yaml"
    f.write_text(f"""name: paper
seeds: [0]
deletion_ratios: [5, 10]
tasks:
  - name: toy_blobs
    args: {{n_train: 100, n_test: 100}}
    splits: {{from: file, path: {df}}}
    models:
      - name: toy_mlp
        checkpoint: {{from: mubench-release, mirror: {mirror}}}
unlearners:
  - name: finetune
    args: {{epochs: 1}}
metrics: [performance]
""")
    return f


@pytest.fixture
def toy_released(monkeypatch):
    """The toy pair made a 'release' so the whole path runs offline (the real table is tested above)."""
    monkeypatch.setitem(release.DATASET_NAMES, "toy_blobs", "toy")
    monkeypatch.setitem(release.RELEASED, "toy", {"": "mlp-tiny"})


def test_paper_mode_run_uses_the_released_original_and_exactly_the_listed_rows(tmp_path, toy_released):
    import torch

    from mubench_harness.execution import Runtime
    from mubench_harness.runner import expand_grid, run_benchmark
    from mubench_harness.signals import weights_hash

    state = _mirror(tmp_path / "mirror")
    v = validate(_bench(tmp_path, FIXTURES / "df" / "toy_blobs.txt", tmp_path / "mirror"))
    cells = [c for c in expand_grid(v) if c.kind == "unlearned"]
    rt = Runtime(v, tmp_path / "probe", store=None, progress=False)
    for cell in cells:
        k = cell.ratio
        assert rt.split(cell).forget["idx"].tolist() == sorted(LISTED[: k * len(LISTED) // 10])
    orig = rt.original(cells[0])
    assert orig.source == "checkpoint"
    for name, tensor in orig.model.state_dict().items():
        assert torch.equal(tensor.cpu(), state[name]), name
    rt.close()

    summary = run_benchmark(v, tmp_path / "run", progress=False)
    assert summary.exit_code == 0, summary.failed
    with sqlite3.connect(tmp_path / "run" / "results.db") as db:
        rows = db.execute("SELECT ratio, weights, notes FROM cells WHERE kind = 'original'").fetchall()
    assert {r[1] for r in rows} == {weights_hash(orig.model)}  # the released weights, not a trained original
    for ratio, _, notes in rows:
        notes = json.loads(notes)
        assert notes["forget_size"] == ratio * len(LISTED) // 10
        assert notes["deletion_set"]["from"] == "file"
        if ratio == 5:  # the first five listed rows over-represent class 3: reported, not hidden
            assert any("at 5 %, class 3 has 4 rows in Df" in w for w in notes["deletion_set"]["warnings"])


@pytest.mark.parametrize("content, message", [
    ("5\n7\n5\n", r"dup\.txt:3: index 5 is listed twice \(first on line 1\)"),
    ("5\n700\n", r"dup\.txt:2: index 700 is out of range"),
    ("5\nx7\n", r"dup\.txt:2: 'x7' is not a training-row index"),
])
def test_a_bad_deletion_file_is_one_located_line_and_nothing_runs(tmp_path, capsys, toy_released, content, message):
    _mirror(tmp_path / "mirror")
    df = tmp_path / "dup.txt"
    df.write_text(content)
    f = _bench(tmp_path, df, tmp_path / "mirror")
    out = tmp_path / "out"
    assert main(["run", str(f), "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"{f}:7:") and "deletion-set file:" in err
    assert __import__("re").search(message, err)
    assert not out.exists()


def test_validate_says_where_the_original_and_df_come_from(tmp_path, capsys, toy_released):
    _mirror(tmp_path / "mirror")
    assert main(["validate", str(_bench(tmp_path, FIXTURES / "df" / "toy_blobs.txt", tmp_path / "mirror"))]) == 0
    out = capsys.readouterr().out
    assert f"note: Df of toy_blobs is exactly the rows of {FIXTURES / 'df' / 'toy_blobs.txt'} (indices" in out
    assert f"note: the original of toy_blobs × toy_mlp:tiny is the authors' jialicheng/toy-mlp-tiny, read from " \
           f"{tmp_path / 'mirror' / 'jialicheng' / 'toy-mlp-tiny'}" in out


def test_mirror_without_the_release_is_a_validation_error(tmp_path, toy_released):
    (tmp_path / "mirror").mkdir()
    with pytest.raises(ConfigError, match=r"no jialicheng/toy-mlp-tiny/model\.safetensors"):
        validate(_bench(tmp_path, FIXTURES / "df" / "toy_blobs.txt", tmp_path / "mirror"))


def test_splits_cli_writes_the_authors_layout(tmp_path, capsys):
    out = tmp_path / "toy.txt"
    assert main(["splits", "toy_blobs", "--format", "mubench-txt", "--out", str(out)]) == 0
    ds = FileDeletionSet(out, "indices")
    assert len(out.read_text().splitlines()) == 60  # 10 % of the toy's 600 training rows
    from mubench_harness.builtins.toy import BlobsArgs
    from mubench_harness.builtins.toy_impl import BlobsTask

    labels = BlobsTask(BlobsArgs()).load("mini")["train"]["label"]
    for k in (1, 5, 10):
        assert np.array_equal(ds.indices(600, k), forget_indices(600, k, 42, labels))


_REAL_PAIR = r'''
import json, sys
from pathlib import Path
from mubench_harness.config import validate
from mubench_harness.execution import Runtime
from mubench_harness.runner import expand_grid

v = validate(sys.argv[1])
cell = next(c for c in expand_grid(v) if c.kind == "unlearned")
rt = Runtime(v, Path(sys.argv[2]) / "probe", store=None, progress=False)
forget = rt.split(cell).forget["idx"].tolist()
orig = rt.original(cell)
print(json.dumps({"forget": forget, "source": orig.source, "weights": orig.weights}))
'''


def _bert_hub_layout(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A hub cache holding a small BERT under the real base id (the hub is offline here) and a release
    mirror holding jialicheng/imdb-bert-base, both as the hub lays them out."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    words = sorted({w.strip(".,").lower() for t in ("A wonderful, moving film.", "Dull and far too long.",
                                                       "The cast shines throughout.", "I walked out.") for w in t.split()})
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", ",", *words]) + "\n")
    config = BertConfig(vocab_size=len(vocab.read_text().split()), hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32, max_position_embeddings=64, num_labels=2)
    snapshot = tmp_path / "hf" / "models--google-bert--bert-base-uncased" / "snapshots" / "abc123"
    (tmp_path / "hf" / "models--google-bert--bert-base-uncased" / "refs").mkdir(parents=True)
    (tmp_path / "hf" / "models--google-bert--bert-base-uncased" / "refs" / "main").write_text("abc123")
    BertForSequenceClassification(config).save_pretrained(snapshot)
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(snapshot)
    released = tmp_path / "mirror" / "jialicheng" / "imdb-bert-base"
    import torch

    torch.manual_seed(7)  # the "authors' fine-tuned" weights: different from the base
    BertForSequenceClassification(config).save_pretrained(released)
    return tmp_path / "hf", tmp_path / "mirror", load_file(str(released / "model.safetensors"))


def test_imdb_bert_base_release_from_a_mirror_with_the_authors_df_file(tmp_path):
    """The real pair through the run's own Runtime, offline (the toy test above runs a whole benchmark): IMDB (hub-schema fixture) × BERT-base, its original read from
    <mirror>/jialicheng/imdb-bert-base, Df exactly the rows df/imdb.txt lists."""
    import os
    import subprocess
    import sys

    hf, mirror, state = _bert_hub_layout(tmp_path)
    hub = Path(__file__).parent / "fixtures" / "hub"
    f = tmp_path / "imdb.yaml"
    f.write_text(f"""name: imdb-paper
seeds: [0]
deletion_ratios: [10]
tasks:
  - name: imdb
    source: hub
    args: {{path: {hub / 'stanfordnlp' / 'imdb'}, ood_hub_id: null, max_length: 16}}
    splits: {{from: file, path: {FIXTURES / 'df' / 'imdb.txt'}}}
    models:
      - name: bert
        scales: [base]
        checkpoint: {{from: mubench-release, mirror: {mirror}}}
unlearners:
  - name: finetune
    args: {{epochs: 1}}
metrics: [performance]
""")
    env = {**os.environ, "HF_HUB_CACHE": str(hf), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _REAL_PAIR, str(f), str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["forget"] == [1, 3] and out["source"] == "checkpoint"
    from transformers import BertConfig, BertForSequenceClassification

    from mubench_harness.signals import weights_hash

    model = BertForSequenceClassification(BertConfig.from_pretrained(mirror / "jialicheng" / "imdb-bert-base"))
    model.load_state_dict(state, strict=False)
    assert out["weights"] == weights_hash(model)  # the released weights are the original, not the base's


def test_cell_keys_name_the_deletion_file_so_a_rerun_never_mixes_sets(tmp_path, toy_released):
    from mubench_harness.runner import expand_grid

    _mirror(tmp_path / "mirror")
    other = tmp_path / "other.txt"
    other.write_text("4\n37\n91\n12\n60\n3\n77\n45\n28\n99\n")  # the same rows, another order: other prefixes
    keys = {}
    for name, df in (("fixture", FIXTURES / "df" / "toy_blobs.txt"), ("other", other)):
        keys[name] = {c.key for c in expand_grid(validate(_bench(tmp_path, df, tmp_path / "mirror")))}
    unified = _bench(tmp_path, FIXTURES / "df" / "toy_blobs.txt", tmp_path / "mirror")
    unified.write_text(unified.read_text().replace(f"    splits: {{from: file, path: {FIXTURES / 'df' / 'toy_blobs.txt'}}}\n", ""))
    keys["unified"] = {c.key for c in expand_grid(validate(unified))}
    assert not keys["fixture"] & keys["other"] and not keys["fixture"] & keys["unified"]
