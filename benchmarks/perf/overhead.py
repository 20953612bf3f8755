"""Overhead of the harness over a bare PyTorch loop (issue 3, performance).

Runs RandLabel (one epoch, batch 32, its authors' SGD) on a tiny BERT-shaped classifier
(``BertForSequenceClassification`` from a small config) over ~25k rows of random token ids, twice:

- **harness**: the randlabel plugin's code path — an ``UnlearnContext`` with a budget and a FLO meter,
  the method's phases, ``ctx.train`` and the one loop in ``mubench_harness/training.py``;
- **bare**: the same computation written by hand — the same corrupted labels, the same shuffling
  generator, the same dropout seed, one forward/backward/step per batch.

The two alternate (A/B, B/A, ...) in one process on the same data; the ratio of the fastest
wall-clock time of each is printed as the last line (the medians' ratio just before). Both runs start from the same weights with the same
seed, and the script checks that they end with identical weights (the harness adds time, not maths).

    OMP_NUM_THREADS=1 python benchmarks/perf/overhead.py [--rows 25000] [--repeats 3]
"""
from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForSequenceClassification

from mubench_harness.context import UnlearnContext
from mubench_harness.contracts import ClassificationTask, Built
from mubench_harness.data import Rows
from mubench_harness.training import Budget, Meter
from mubench_harness.unlearning.corruption import SALT_LABELS

sys.path.insert(0, str(Path(__file__).parent))
from common import alternate, parser, report_ratio, set_threads  # noqa: E402


class TokenTask(ClassificationTask):
    """Sequence classification over pre-tokenised rows (input_ids, attention_mask)."""

    num_classes = 2

    def __init__(self):
        super().__init__(args=None)


def make_data(rows: int, seq_len: int, vocab: int, seed: int = 0) -> Rows:
    g = torch.Generator().manual_seed(seed)
    return Rows({
        "input_ids": torch.randint(5, vocab, (rows, seq_len), generator=g),
        "attention_mask": torch.ones(rows, seq_len, dtype=torch.long),
        "labels": torch.randint(0, 2, (rows,), generator=g),
    })


def make_model(vocab: int, seq_len: int) -> torch.nn.Module:
    config = BertConfig(vocab_size=vocab, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=seq_len, num_labels=2)
    torch.manual_seed(0)
    return BertForSequenceClassification(config)


def run_harness(method, task, original, forget, retain, seed) -> tuple[float, torch.nn.Module]:
    ctx = UnlearnContext(task=task, model=copy.deepcopy(original).train(),
                         original=copy.deepcopy(original).eval().requires_grad_(False), built=Built(original),
                         forget=forget, retain=retain, seed=seed, fresh_model=None, starting_model=None,
                         budget=Budget(max_seconds=1e9), meter=Meter())
    start = time.perf_counter()
    out = method.unlearn(ctx)
    return time.perf_counter() - start, out


def run_bare(task, original, forget, retain, seed, lr, momentum, weight_decay, batch_size) -> tuple[float, torch.nn.Module]:
    model = copy.deepcopy(original).train()
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout, as the method seeds it
        # RandLabel's corruption: labels uniform over the other class(es), drawn once from the run seed
        gen = torch.Generator().manual_seed(seed * 1_000_003 + SALT_LABELS)
        new = torch.randint(0, task.num_classes - 1, forget["labels"].shape, generator=gen)
        new = new + (new >= forget["labels"]).long()
        ids = torch.cat([forget["input_ids"], retain["input_ids"]])
        mask = torch.cat([forget["attention_mask"], retain["attention_mask"]])
        labels = torch.cat([new, retain["labels"]])
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
        for i in range(0, len(labels), batch_size):
            pos = order[i : i + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(input_ids=ids[pos], attention_mask=mask[pos]).logits, labels[pos])
            loss.backward()
            opt.step()
    return time.perf_counter() - start, model


def main(argv=None) -> None:
    p = parser(__doc__)
    p.add_argument("--rows", type=int, default=25_000)
    p.add_argument("--seq-len", type=int, default=32)
    p.add_argument("--vocab", type=int, default=2000)
    ns = p.parse_args(argv)
    print(set_threads(ns.threads))

    from mubench_randlabel import Args
    from mubench_randlabel.impl import RandLabel

    args = Args(epochs=1, batch_size=32, relabel="once", include_true=False)  # the bare loop draws wrong labels once
    method = RandLabel(args)
    task = TokenTask()
    data = make_data(ns.rows, ns.seq_len, ns.vocab)
    n_forget = ns.rows // 10
    forget, retain = data.select(range(n_forget)), data.select(range(n_forget, ns.rows))
    original = make_model(ns.vocab, ns.seq_len)
    opt = dict(lr=args.lr, momentum=args.optimizer.momentum, weight_decay=args.optimizer.weight_decay)

    # warm-up (allocator, first-call paths) and the equivalence check
    _, a = run_harness(method, task, original, forget, retain, seed=1)
    _, b = run_bare(task, original, forget, retain, 1, batch_size=32, **opt)
    same = all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    print(f"rows={ns.rows} (Df {len(forget)}, Dr {len(retain)}), batch 32, steps/epoch={-(-ns.rows // 32)}, "
          f"threads={ns.threads}; identical weights after one epoch: {same}")

    times = alternate({"harness": lambda: run_harness(method, task, original, forget, retain, seed=1),
                       "bare": lambda: run_bare(task, original, forget, retain, 1, batch_size=32, **opt)}, ns.repeats)
    report_ratio(times, "harness", "bare", "harness/bare ratio")


if __name__ == "__main__":
    main()
