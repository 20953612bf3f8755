import functools
import json

import pytest

from mubench_harness.testing import TaskContract, accuracy, build_family, build_task
from mubench_harness.testing import train_original
from mubench_biofact.task import fact_recall


class TestContract(TaskContract):
    name = "biofact"
    model = "llama"


def test_mini_has_183_fictional_people_with_unique_names():
    data = build_task("biofact").load("mini")
    people = list(data["train"]["name"]) + list(data["test"]["name"])
    assert len(people) == 183 and len(set(people)) == 183
    assert len(data["test"]) == round(183 * 0.2)
    assert all(len(f) == 4 for f in data["train"]["facts"])


def test_fact_recall_by_hand():
    facts = ["kalo mizu was born in tarsa.", "kalo mizu was born in 1951.", "kalo mizu is a poet.", "kalo mizu."]
    # the name-only fact is skipped; 'born in tarsa' is reproduced, 1951 and poet are not
    assert fact_recall("kalo mizu was born in tarsa in 1947 . he is a judge", "kalo mizu", facts, 0.8) == pytest.approx(1 / 3)
    assert fact_recall("born tarsa 1951 poet", "kalo mizu", facts, 0.8) == 1.0
    assert fact_recall("kalo mizu kalo mizu", "kalo mizu", facts, 0.8) == 0.0
    # half of a fact's content words pass a 0.5 threshold, not a 0.8 one
    assert fact_recall("born", "kalo mizu", facts[:1], 0.5) == 1.0
    assert fact_recall("born", "kalo mizu", facts[:1], 0.8) == 0.0


def test_hub_fixture_both_schemas(tmp_path):
    ours = tmp_path / "people.jsonl"
    ours.write_text("\n".join(json.dumps({"name": f"Person {i}", "facts": [f"Person {i} was born in City{i}."]})
                              for i in range(10)))
    task = build_task("biofact", path=str(ours), test_fraction=0.2)
    data = task.load("hub")
    assert len(data["train"]) == 8 and len(data["test"]) == 2
    assert data["train"][0]["biography"].startswith("Person")
    factscore = tmp_path / "factscore.jsonl"
    row = {"topic": "Kang Ji-hwan", "input": "Question: Tell me a bio of Kang Ji-hwan.", "output": "...",
           "annotations": [{"text": "s", "human-atomic-facts": [{"text": "Kang Ji-hwan is an actor.", "label": "S"},
                                                                 {"text": "He was born in 1990.", "label": "NS"}]}]}
    factscore.write_text("\n".join(json.dumps(row) for _ in range(5)))
    data = build_task("biofact", path=str(factscore), test_fraction=0.0).load("hub")
    assert data["train"][0]["facts"] == ["Kang Ji-hwan is an actor."]  # unsupported facts dropped
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"who": "x"}))
    with pytest.raises(ValueError, match="row 0"):
        build_task("biofact", path=str(bad)).load("hub")
    with pytest.raises(ValueError, match="hub_id or args.path"):
        build_task("biofact").load("hub")


@functools.lru_cache(maxsize=1)
def _trained():
    task = build_task("biofact")
    data = task.load("mini")
    built = build_family("llama").build(task, "tiny", seed=0)
    train, test = task.encode(data["train"], built), task.encode(data["test"], built)
    untrained = accuracy(task, built.model, train.select(range(40)), built)
    train_original(task, built, train, seed=0)
    return task, built, train, test, untrained


def test_tiny_llama_learns_the_people_it_is_trained_on():
    task, built, train, test, untrained = _trained()
    train_score = accuracy(task, built.model, train.select(range(60)), built)
    test_score = accuracy(task, built.model, test, built)
    assert untrained < 0.1
    assert train_score > 0.8, train_score
    assert train_score > test_score + 0.4, (train_score, test_score)
