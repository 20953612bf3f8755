"""Every task's real ``load(source="hub")`` on a fixture laid out as the hub dataset it names (files, split
names, columns, feature types; written by ``tests/fixtures/hub/make_fixtures.py``), read through ``path:``
with no network. A loader that expects a column, split or file the hub copy lacks fails here."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mubench_harness.testing import build_task

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

HUB = Path(__file__).resolve().parent / "fixtures" / "hub"


def fixture(*parts: str) -> str:
    path = HUB.joinpath(*parts)
    assert path.exists(), f"{path} missing: run tests/fixtures/hub/make_fixtures.py"
    return str(path)


def sizes(data) -> dict[str, int]:
    return {name: len(split) for name, split in data.items()}


def test_cifar100_hub_layout_loads():
    from datasets import ClassLabel, Image

    data = build_task("cifar100", path=fixture("uoft-cs", "cifar100")).load("hub")
    assert sizes(data) == {"train": 6, "test": 3, "ood": 3}  # OOD: the plugin's corruptions of test
    feats = data["train"].features
    assert isinstance(feats["img"], Image) and isinstance(feats["fine_label"], ClassLabel)
    assert feats["fine_label"].num_classes == 100 and data["train"]["fine_label"] == [0, 1, 2, 0, 1, 2]


def test_cifar100_hub_with_cifar100c_release_as_ood_loads():
    # CIFAR-100-C as its authors release it (full.yaml's OOD set): only the asked corruption and severity
    task = build_task("cifar100", path=fixture("uoft-cs", "cifar100"), ood_path=fixture("CIFAR-100-C"),
                      ood_corruptions=["fog"], ood_severity=3)
    data = task.load("hub")
    assert sizes(data) == {"train": 6, "test": 3, "ood": 2}
    assert data["ood"]["fine_label"] == [5, 7]
    # the fixture's pixels say which row was read: fog (+100), severity 3 (+30), test image 0 and 1
    assert [int(np.asarray(im)[0, 0, 0]) for im in data["ood"]["img"]] == [130, 131]
    every = build_task("cifar100", path=fixture("uoft-cs", "cifar100"), ood_path=fixture("CIFAR-100-C")).load("hub")
    assert len(every["ood"]) == 2 * 5 * 2  # corruptions × severities × test images
    assert data["ood"].column_names == data["test"].column_names
    with pytest.raises(ValueError, match=r"no corruption\(s\) \['snow'\]"):
        build_task("cifar100", path=fixture("uoft-cs", "cifar100"), ood_path=fixture("CIFAR-100-C"),
                   ood_corruptions=["snow"]).load("hub")


def test_imdb_hub_layout_with_rotten_tomatoes_ood_loads():
    task = build_task("imdb", path=fixture("stanfordnlp", "imdb"),
                      ood_path=fixture("cornell-movie-review-data", "rotten_tomatoes"))
    data = task.load("hub")
    assert sizes(data) == {"train": 4, "test": 4, "ood": 2}  # 'unsupervised' (label -1) is not read
    assert data["train"]["label"] == [1, 0, 1, 0] and data["ood"].features == data["test"].features
    # full.yaml's form: the authors pool Rotten Tomatoes' train, validation and test (10,662 reviews)
    pooled = build_task("imdb", path=fixture("stanfordnlp", "imdb"), ood_split="all",
                        ood_path=fixture("cornell-movie-review-data", "rotten_tomatoes")).load("hub")["ood"]
    assert len(pooled) == 3 * 2 and pooled.features == data["test"].features


def test_imdb_hub_loader_names_a_missing_column():
    # a copy without the columns the loader reads (XSum's document/summary) is refused by name
    with pytest.raises(ValueError, match="has no column 'text'"):
        build_task("imdb", path=fixture("EdinburghNLP", "xsum"), ood_hub_id=None).load("hub")


def test_ddi2013_hub_blurb_tsv_loads():
    data = build_task("ddi2013", path=fixture("blurb", "ddi")).load("hub")
    assert sizes(data) == {"train": 5, "test": 3}
    from mubench_ddi2013 import RELATIONS

    names = [RELATIONS[y] for y in data["train"]["label"]]
    assert names == ["mechanism", "advise", "false", "effect", "int"]
    assert all(s.count("@DRUG$") == 2 for s in data["test"]["sentence"])


def test_nlvr2_hub_files_keep_test2_apart_and_read_image_paths():
    from datasets import Image

    root = fixture("jialicheng", "nlvr2")
    data = build_task("nlvr2", path=root, image_root=root).load("hub")
    # test2.json is the OOD split, not folded into test by the hub's file-name rules (test2 ~ test*)
    assert sizes(data) == {"train": 3, "test": 2, "ood": 2}
    assert isinstance(data["train"].features["left_image"], Image)
    assert data["train"]["label"] == [1, 0, 1] and data["train"][0]["left_image"].size == (8, 8)


def test_nlvr2_hub_annotations_without_images_are_refused():
    with pytest.raises(ValueError, match="holds image paths .* set image_root"):
        build_task("nlvr2", path=fixture("jialicheng", "nlvr2")).load("hub")


def test_speechcommands_hub_parquet_export_loads():
    data = build_task("speechcommands", path=fixture("google", "speech_commands", "v0.02")).load("hub")
    assert sizes(data) == {"train": 4, "test": 3}
    wave = np.asarray(data["train"][0]["audio"])
    assert wave.shape == (16000,) and np.abs(wave[:400]).max() > 0 and not wave[400:].any()  # padded to 1 s
    assert data["test"]["label"] == [0, 1, 35]


def test_ucf101_hub_official_folders_load_and_decode():
    task = build_task("ucf101", path=fixture("UCF101"), num_classes=2)
    data = task.load("hub")
    assert sizes(data) == {"train": 4, "test": 2}
    assert data["train"].features["label"].names == ["ApplyEyeMakeup", "Basketball"]
    from mubench_ucf101.task import read_frames

    frames = read_frames(data["test"][0]["video"], 3, 8, "fixture")
    assert frames.shape[0] == 3 and frames.dtype == np.uint8


def test_samsum_hub_parquet_export_with_xsum_ood_loads():
    task = build_task("samsum", path=fixture("Samsung", "samsum"), ood_path=fixture("EdinburghNLP", "xsum"))
    data = task.load("hub")
    assert sizes(data)["train"] == 3 and sizes(data)["test"] == 3 and sizes(data)["ood"] == 1
    assert data["train"][0]["summary"].startswith("Amanda baked cookies")


def test_biofact_hub_factscore_labelled_file_loads():
    data = build_task("biofact", path=fixture("factscore", "data", "labeled", "ChatGPT.jsonl")).load("hub")
    people = {row["name"]: row["facts"] for split in data.values() for row in split}
    assert sorted(people) == ["Ada Lovelace", "Alan Turing", "Marie Curie"]
    # FActScore's human-labelled atomic facts: only the supported ('S') ones are the person's facts
    assert people["Marie Curie"] == ["Marie Curie was a physicist.", "Marie Curie won two Nobel Prizes."]


def test_tinyimagenet_hub_layout_loads_with_words():
    from datasets import Image

    root = fixture("zh-plus", "tiny-imagenet")
    task = build_task("tinyimagenet", path=root, words_path=str(Path(root) / "words.txt"))
    data = task.load("hub")
    assert sizes(data) == {"train": 6, "test": 3}  # the hub's 'valid' split is the test set
    assert isinstance(data["train"].features["image"], Image)
    assert task.class_names[:3] == ["goldfish", "European fire salamander", "bullfrog"]  # words.txt's first name


@pytest.mark.parametrize("task, field, mini, hub", [
    ("samsum", "decoding", {"max_new_tokens": 28, "num_beams": 1}, {"max_new_tokens": 128, "num_beams": 4}),
    ("biofact", "decoding", {"max_new_tokens": 24}, {"max_new_tokens": 512}),
    ("tinyimagenet", "sampling", {"steps": 10, "guidance_scale": 1.0}, {"steps": 50, "guidance_scale": 7.5}),
])
def test_generation_settings_follow_the_source_and_are_recorded(tmp_path, task, field, mini, hub):
    from mubench_harness.config import validate
    from mubench_harness.runner import run_config

    model = {"samsum": "t5", "biofact": "llama", "tinyimagenet": "stablediffusion"}[task]
    for source, expected in (("mini", mini), ("hub", hub)):
        path = tmp_path / f"{source}.yaml"
        path.write_text(f"name: g\ntasks: [{{name: {task}, source: {source}, models: [{model}]}}]\nunlearners: [neggrad]\n")
        recorded = run_config(validate(path))["resolved_args"]["tasks"][task][field]
        assert {k: recorded[k] for k in expected} == expected, source
    # args built in code (no benchmark file): the task resolves by the source it loaded; a setting given wins
    t = build_task(task)
    assert {k: getattr(getattr(t, field), k) for k in mini} == mini
    t.source = "hub"
    assert {k: getattr(getattr(t, field), k) for k in hub} == hub
    given = build_task(task, **{field: {"batch_size": 3}})
    given.source = "hub"
    assert getattr(given, field).batch_size == 3 and getattr(given, field) == type(getattr(given, field))(batch_size=3)
