"""One cell across ranks (DESIGN.md §7): two CPU processes over gloo under torchrun — data parallel
(Accelerate), DeepSpeed ZeRO-2/3 (DeepSpeed's CPU accelerator) and FSDP2 (torch's ``fully_shard`` on a CPU
mesh) — against a single-process run of the same cells: NegGrad, SCRUB (teacher), SalUn (saliency mask held
in the shards and the optimiser's master weights), LoRA (merged after), Bad-T (its random teacher held
sharded under ZeRO-3/FSDP), NPO (reference) and l1-sparse (α·Σ|θ|: its gradient added where the optimiser
steps each shard, its value summed from the shards); under ZeRO-3/FSDP the original SCRUB, Bad-T and NPO read
is a copy held sharded, and a method writing into that copy fails its cell.

Tolerance: weights within atol 1e-5 + rtol 1e-4 of the single-process run. The ranks average two
half-batch gradients where one process takes one batch: the same float32 numbers summed in another order,
so entries differ by a few ulp per step (measured, the same on every backend: NegGrad, SalUn, LoRA 1.8e-7,
SCRUB 2.4e-7, Bad-T 8.5e-7, metrics equal; ZeRO-2 stays at 3.7e-7 over the toy original's 280 Adam steps),
far under the tolerance, while a real divergence is not: with
DeepSpeed's default gradient clipping (norm 1.0) the first clipped step already moved entries by 2e-4.
Metrics (scores on test, Df, Dr) within 1e-6, FLOs of all ranks together equal (SalUn's saliency pass
included: the ranks split Df's batches and add their gradient sums; under ZeRO-3/FSDP through a sharded
copy, each rank holding its shard of the gradient, the mask and θo, and SalUn's held entries still exactly
one process's). LoRA runs without dropout here: each rank draws dropout masks for its own rows, so with
dropout two ranks match one process in distribution only. Every launch costs start-up seconds on 2 cores, so
one small grid (toy blobs × toy MLP, 9 cells) serves every backend; DeepSpeed's communication op compiled on
first use (~35 s) is cached in ~/.cache/torch_extensions, once per machine.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.needs_shipped_plugins  # runs the shipped tasks/families/methods

DRIVER = Path(__file__).with_name("distributed_cell.py")
METHODS = ["neggrad", "scrub", "salun", "lora", "badt", "npo"]
#: the methods that read the frozen original (SCRUB's teacher, Bad-T's retain teacher, NPO's reference)
READ_ORIGINAL = ["scrub", "badt", "npo", "scrub_touched"]
#: l1-sparse: α large enough that a norm of the wrong parameters (or a gradient weighted by the rank's
#: share, or added before the ranks average) would show: 6 SGD steps of lr·α = 1e-4; its recorded loss
#: carries α·Σ|θ| over the whole weights, summed from each rank's shard under ZeRO-3/FSDP
L1 = ["l1sparse"]

# Bad-T at its authors' lr 1e-4: at 0.01 its first Adam step met a gradient entry of -8.0e-10 in one process and
# -9.0e-10 on two ranks (the sum of canceling per-row terms, rounded in two halves), and Adam's g/(|g|+1e-8) made
# that 8.4e-5 of weight (lr·|δg|/eps), identically under data parallel and ZeRO: float32 non-associativity, not
# a sharding error, bounded by lr·|δg|/eps, so the lower lr keeps it under the tolerance
# SalUn at batch 8: Df's 20 rows make 3 saliency batches, so under ZeRO-3/FSDP (mask computed on shards) rank 1
# runs one zero-weighted pass to keep the ranks' collectives paired, which must not count as FLOs
GRID = """name: dist
seeds: [0]
deletion_ratios: [10]
tasks:
  - name: toy_blobs
    args: {{n_train: 200, n_test: 80}}
    models: [toy_mlp]
unlearners:
  - {{name: neggrad, args: {{batch_size: 6, epochs: 2, lr: 0.01}}}}
  - {{name: scrub, args: {{batch_size: 16, forget_batch_size: 6, epochs: 2, lr: 0.01}}}}
  - {{name: salun, args: {{batch_size: 8, epochs: 1, lr: 0.01}}}}
  - {{name: badt, args: {{batch_size: 16, epochs: 1, lr: 0.0001}}}}
  - {{name: neggrad, label: lora, args: {{batch_size: 6, epochs: 2, lr: 0.01, lora: {{rank: 2, dropout: 0.0}}}}}}
  - {{name: l1sparse, args: {{batch_size: 32, epochs: 1, lr: 0.01, alpha: 0.01}}}}
  - {{name: npo, args: {{batch_size: 6, epochs: 2, lr: 0.01}}}}
  - {{name: scrub, label: scrub_touched, args: {{batch_size: 16, forget_batch_size: 6, epochs: 1, lr: 0.01}}}}
metrics: [performance]
budget: {{max_fraction_of_retrain: 1000.0}}
device: cpu
{distributed}
"""


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(DRIVER.parent.parent)}


def _run(tmp: Path, distributed: str, ranks: int, extra_files: dict[str, str] | None = None, device: str = "cpu",
         grid: str = GRID, env: dict[str, str] | None = None) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    for name, text in (extra_files or {}).items():
        (tmp / name).write_text(text)
    bench = tmp / "bench.yaml"
    bench.write_text(grid.format(distributed=distributed).replace("device: cpu", f"device: {device}"))
    out = tmp / "out"
    launch = [sys.executable] if ranks == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                  f"--nproc_per_node={ranks}"]
    proc = subprocess.run([*launch, str(DRIVER), str(bench), str(out)], env={**_env(), **(env or {})},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr[-4000:]  # 1: a cell failed (checked by the caller)
    return out


def _weights(out: Path, label: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(out / "weights" / f"{label}.safetensors"))


def _cells(out: Path) -> dict[str, dict]:
    with sqlite3.connect(out / "results.db") as db:
        db.row_factory = sqlite3.Row
        cells = {r["label"]: dict(r) for r in db.execute("SELECT * FROM cells")}
        for row in db.execute("SELECT c.label, m.name, m.value FROM metrics m JOIN cells c ON c.key = m.cell"):
            cells[row["label"]].setdefault("metrics", {})[row["name"]] = row["value"]
    return cells


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """The reference: the same grid in one plain process, run once for the whole session even under
    pytest -n (each xdist worker would run a module fixture of its own: the lock and the folder are shared)."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this session's folder either way
    out = shared / "distributed-single"
    with FileLock(str(shared / "distributed-single.lock")):
        if not (out / "done").exists():
            _run(out, "", 1)
            (out / "done").touch()
    return out / "out"


def _held_by_salun(out: Path) -> dict[str, torch.Tensor]:
    """The entries SalUn's weights hold exactly at the run's own original (its cached weights)."""
    from safetensors.torch import load_file

    (original,) = (out / "cache" / "originals").glob("*.safetensors")
    before, after = load_file(str(original)), _weights(out, "salun")
    return {k: after[k] == before[k] for k in after}


def _assert_same(single: Path, multi: Path, labels: list[str]) -> None:
    one, two = _cells(single), _cells(multi)
    for label in labels:
        assert two[label]["status"] == "done", two[label]["error"]
        a, b = _weights(single, label), _weights(multi, label)
        assert a.keys() == b.keys()
        for k in a:
            torch.testing.assert_close(b[k], a[k], atol=1e-5, rtol=1e-4, msg=lambda m, k=k: f"{label} {k}: {m}")
        ma, mb = one[label]["metrics"], two[label]["metrics"]
        for name, value in ma.items():
            if isinstance(value, float) and not name.startswith("time/"):
                assert mb[name] == pytest.approx(value, abs=1e-6), (label, name)
        # SalUn's saliency pass included: each rank takes its share of Df's batches
        assert two[label]["flos"] == pytest.approx(one[label]["flos"], rel=1e-6), "FLOs of both ranks together"
    if "salun" in labels:
        held_one, held_two = _held_by_salun(single), _held_by_salun(multi)
        assert held_one.keys() == held_two.keys()
        for k, held in held_one.items():
            assert torch.equal(held_two[k], held), f"SalUn held other entries of {k} than one process did"
        assert 0 < sum(int(h.sum()) for h in held_one.values()) < sum(h.numel() for h in held_one.values())
    before = _weights(single, "neggrad")
    orig_moved = any(not torch.equal(before[k], _weights(single, "scrub")[k]) for k in before)
    assert orig_moved  # the methods did move the weights: equality above is not of untouched models


def test_distributed_two_ranks_match_one_process(single, tmp_path):
    """Data parallel over gloo: sharded batches and averaged gradients give one process's weights and
    metrics for every method (SalUn's mask re-imposed on each rank's replica, LoRA merged after); rank 0
    alone wrote the database (one run row) while rank 1 trained in step."""
    multi = _run(tmp_path, "distributed: {backend: accelerate}", 2)
    _assert_same(single, multi, METHODS + L1)
    _assert_same_loss(single, multi, L1)
    with sqlite3.connect(multi / "results.db") as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    held = json.loads((multi / "held-rank1.json").read_text())
    assert set(held) >= set(METHODS)  # rank 1 ran every method's loop
    # whole parameters on every rank: the methods read the runtime's original itself, no copy
    assert not any(held[f"{m}:original"][2] for m in READ_ORIGINAL)
    assert _cells(multi)["scrub_touched"]["status"] == "done"
    assert not (multi / "weights" / "held-rank1").exists()


def test_distributed_a_rank_failing_alone_fails_the_cell_and_the_ranks_stay_in_step(tmp_path):
    """Rank 0 alone fails (its save of the trained original raises): the original's cell fails on every
    rank with rank 0's error, and the next cell finds the ranks in step — each trains the original again —
    instead of rank 0 training while rank 1, still holding the first original, waits in another collective."""
    grid = GRID[:GRID.index("unlearners:")] + "unlearners: [{{name: neggrad, args: {{batch_size: 6, epochs: 1}}}}]\n" \
        + GRID[GRID.index("metrics:"):]
    grid = grid.replace("n_train: 200, n_test: 80", "n_train: 40, n_test: 20")  # the original is trained twice
    out = _run(tmp_path, "distributed: {backend: accelerate}", 2, grid=grid, env={"MUBENCH_TEST_FAIL_FIRST_SAVE": "1"})
    cells = _cells(out)
    assert cells["original"]["status"] == "failed"
    assert cells["original"]["error"].startswith("rank 0: ") and "injected" in cells["original"]["error"]
    assert cells["neggrad"]["status"] == "done", cells["neggrad"]["error"]
    assert len(list((out / "cache" / "originals").glob("*.safetensors"))) == 1  # saved the second time


def _assert_same_loss(single: Path, multi: Path, labels: list[str]) -> None:
    """The loss the loop recorded per (epoch, phase) equals one process's (rank 0's record: the ranks agree)."""
    one, two = (json.loads((out / "loss-rank0.json").read_text()) for out in (single, multi))
    for label in labels:
        assert two[label] == pytest.approx(one[label], rel=1e-5), label


def _assert_half_held(out: Path, tolerance: float) -> None:
    """While each method trained, each rank held about half of the parameter entries (its shard); so did
    SalUn's saliency route (``salun:saliency``: the mask entries, and as many θo values, the rank held)."""
    for r in (0, 1):
        held = json.loads((out / f"held-rank{r}.json").read_text())
        # Bad-T's random teacher and the original each method read (its copy: built once per cell) held sharded too
        # SalUn's saliency mask computed and held on shards: its gradient, scores, mask and θo this rank's only
        assert set(held) == {*METHODS, *L1, "scrub_touched", "badt:teacher", "salun:saliency",
                             *(f"{m}:original" for m in READ_ORIGINAL)}
        for label in held:
            local, total = held[label][:2]
            assert abs(local - total / 2) <= tolerance * total, (r, label, local, total)
        assert all(held[f"{m}:original"][2] for m in READ_ORIGINAL)  # a copy, not the runtime's whole model


def _assert_touched_original_fails(out: Path) -> None:
    """A method that wrote into its sharded copy of the original (one entry of each rank's shard) fails its
    cell: the harness gathers the copy after the method and compares it with the whole original."""
    cell = _cells(out)["scrub_touched"]
    assert cell["status"] == "failed" and "modified the frozen original model" in cell["error"], cell["error"]


#: ZeRO-3 keeps a parameter of at most stage3_param_persistence_threshold entries (default 1e5: every
#: toy parameter) whole on every rank; at 100 the toy's weight matrices are partitioned and its biases
#: (and LoRA's smallest adapter) stay whole, so SalUn's mask is held in both kinds
ZERO3 = '{"zero_optimization": {"stage": 3, "stage3_param_persistence_threshold": 100}}'


def test_deepspeed_zero3_matches_one_process_and_each_rank_holds_half(single, tmp_path):
    """ZeRO-3 from the user's JSON: one process's weights and metrics for every method (SalUn's mask held in
    the partitions and the persistent parameters), and while a method trains each rank holds about half of
    the parameter entries, Bad-T's random teacher and the originals SCRUB, Bad-T and NPO read included (ZeRO-3
    inference engines); the whole biases under the persistence threshold add 132 of 4996 entries: 3 %.
    l1-sparse's recorded loss is one process's: α·Σ|θ| over the whole weights (each rank's partition
    summed; half of it, 2.72 for 5.44, without the sum over ranks)."""
    multi = _run(tmp_path, "distributed: {backend: deepspeed, zero_stage: 3, config: ds.json}", 2, {"ds.json": ZERO3})
    _assert_same(single, multi, METHODS + L1)
    _assert_same_loss(single, multi, L1)
    _assert_half_held(multi, tolerance=0.03)
    _assert_touched_original_fails(multi)


def test_deepspeed_zero2_matches_one_process(single, tmp_path):
    """ZeRO-2 from the user's DeepSpeed JSON (its "auto" micro batch and clipping filled in, nothing else
    changed): one process's weights and metrics."""
    ds = '{"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": "auto"}'
    multi = _run(tmp_path, "distributed: {backend: deepspeed, config: ds.json}", 2, {"ds.json": ds})
    _assert_same(single, multi, METHODS + L1)
    _assert_same_loss(single, multi, L1)


def test_fsdp_matches_one_process_and_each_rank_holds_half(single, tmp_path):
    """FSDP2 on two ranks (CPU: torch's fully_shard over gloo; GPUs: Accelerate's FSDP2 plugin): one
    process's weights and metrics for every method, and each rank holds half of the parameter entries (the
    frozen teacher and originals too)."""
    device = "cuda" if torch.cuda.device_count() >= 2 else "cpu"
    multi = _run(tmp_path, "distributed: {backend: fsdp}", 2, device=device)
    _assert_same(single, multi, METHODS + L1)
    _assert_same_loss(single, multi, L1)
    _assert_half_held(multi, tolerance=0.01)
    _assert_touched_original_fails(multi)


# -- fast checks, no launch ---------------------------------------------------------------------------------
def test_distributed_shards_weigh_to_the_global_mean():
    """Rank r takes rows r, r+2, ... of a global batch; share·world-weighted rank losses average to the
    global batch's mean loss, an uneven batch (5 rows: 3 + 2) included; a batch smaller than the ranks is
    taken whole by each (share 1/2)."""
    from mubench_harness.training import _shard

    batch = {"idx": torch.arange(5), "x": torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0])}
    parts = [_shard(batch, r, 2) for r in (0, 1)]
    assert parts[0][0]["x"].tolist() == [1.0, 4.0, 16.0] and parts[1][0]["x"].tolist() == [2.0, 8.0]
    assert [p[1] for p in parts] == [0.6, 0.4]
    averaged = sum(p[0]["x"].mean() * p[1] * 2 for p in parts) / 2  # what averaging the ranks' gradients sees
    assert averaged.item() == pytest.approx(31.0 / 5)
    one = {"idx": torch.arange(1), "x": torch.tensor([3.0])}
    assert _shard(one, 1, 2) == (one, 0.5)


def test_deepspeed_clipping_is_off_unless_the_file_sets_it(tmp_path):
    """DeepSpeed clips gradients to norm 1.0 by default (and Accelerate fills "auto" with 1.0); no recipe
    clips, so the harness sets 0 where the file leaves it out or says "auto", and keeps the file's own value."""
    from mubench_harness.distributed.config import deepspeed_config

    assert deepspeed_config(2, None, "no")["gradient_clipping"] == 0.0
    for text, expected in (('{"zero_optimization": {"stage": 3}, "gradient_clipping": "auto"}', 0.0),
                           ('{"zero_optimization": {"stage": 3}, "gradient_clipping": 0.5}', 0.5)):
        (tmp_path / "ds.json").write_text(text)
        data = deepspeed_config(3, tmp_path / "ds.json", "no")
        assert data["gradient_clipping"] == expected and data["zero_optimization"] == {"stage": 3}


def test_fsdp_on_cpu_refuses_fp16():
    """FSDP on CPU ranks has no loss scaler: fp16 is refused with one line (bf16 and fp32 run)."""
    from types import SimpleNamespace

    from mubench_harness.distributed.engine import _cpu_fsdp

    with pytest.raises(RuntimeError, match="fsdp on CPU runs fp32 or bf16, not fp16") as info:
        _cpu_fsdp(SimpleNamespace(mixed_precision="fp16"))
    assert type(info.value).__name__ == "DeviceUnavailable" and "\n" not in str(info.value)


def test_distributed_entry_keeper_holds_masked_entries_on_a_whole_model():
    """The keeper a sharded copy gets, on plain parameters: gradients of held entries are zero and, after an
    SGD step with weight decay and momentum (which move them even so), they are back at their values while
    the others moved; a mask naming a parameter the model lacks is an error."""
    from mubench_harness.distributed.shards import entry_keeper

    torch.manual_seed(0)
    layer = torch.nn.Linear(3, 2)
    start = layer.weight.detach().clone()
    mask = torch.tensor([[True, False, True], [False, True, False]])
    after_step, detach = entry_keeper(layer, {"weight": (mask, start)})
    opt = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=0.5)
    for _ in range(3):
        opt.zero_grad()
        layer(torch.ones(4, 3)).pow(2).sum().backward()
        assert torch.all(layer.weight.grad[~mask] == 0) and torch.all(layer.weight.grad[mask] != 0)
        opt.step()
        after_step()
    assert torch.equal(layer.weight[~mask], start[~mask]) and torch.all(layer.weight[mask] != start[mask])
    detach()
    layer(torch.ones(1, 3)).sum().backward()
    assert torch.all(layer.weight.grad != 0)  # the hooks are gone
    with pytest.raises(ValueError, match="does not have"):
        entry_keeper(layer, {"nope": (mask, start)})


def test_distributed_l1_penalty_is_the_gradient_of_the_norm_where_the_optimiser_steps():
    """l1-sparse's term added at the optimiser's step (how it runs on shards) equals autograd of
    loss + α·Σ|θ| in one process: the same weights after SGD steps with momentum and weight decay, an entry
    at exactly 0 included (sign 0, as abs's backward), a trainable parameter outside the forward included
    (it gets α·sign(θ) alone), a frozen one left out; the recorded loss carries α·Σ|θ| (its value, no gradient)."""
    from mubench_harness.distributed.shards import L1Penalty, weights_l1
    from mubench_harness.training import Phase

    def build():
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        with torch.no_grad():
            model.weight[0, 0] = 0.0
        model.bias.requires_grad_(False)
        model.unused = torch.nn.Parameter(torch.tensor([0.5, -2.0, 0.0]))
        return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)

    x, alpha = torch.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]]), 0.3
    task = lambda m, batch: m(x).pow(2).mean()  # noqa: E731
    trainable = lambda m: [m.weight, m.unused]  # noqa: E731
    ref, ref_opt = build()
    ref_losses = []
    for _ in range(3):
        ref_opt.zero_grad()
        loss = task(ref, None) + alpha * sum(p.abs().sum() for p in trainable(ref))
        loss.backward()
        ref_losses.append(loss.item())
        ref_opt.step()
    model, opt = build()
    with torch.no_grad():
        assert weights_l1(model) == pytest.approx(float(sum(p.abs().sum() for p in trainable(model))))
    penalty = L1Penalty(lambda epoch: alpha)
    (phase,) = penalty.schedule(lambda epoch: [Phase("p", None, 2, task)])(0)
    hook = opt.register_step_pre_hook(penalty.pre_step)
    for step in range(3):
        opt.zero_grad()
        loss = phase.loss(model, None)
        loss.backward()
        assert loss.item() == pytest.approx(ref_losses[step], rel=1e-6)
        opt.step()
    for a, b in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(a, b, atol=1e-7, rtol=1e-6)
    assert not torch.equal(model.unused, build()[0].unused)  # only the term's gradient reaches it
    hook.remove()


def test_distributed_l1_penalty_skips_zero3_padding(monkeypatch):
    """A ZeRO-3 partition is the flattened parameter padded to ranks × partition size, and DeepSpeed never
    initialises the padding: rank 1 of 2 holding entries 3..4 of a 5-entry parameter (partition of 3) sums
    those 2 alone, whatever the padding holds; the step pre-hook adds nothing to a master entry that is not a
    number (such padding) and α·sign elsewhere."""
    import torch.distributed as dist

    from mubench_harness.distributed.shards import L1Penalty, weights_l1

    model = torch.nn.Module()
    model.w = torch.nn.Parameter(torch.empty(0))  # released between forwards, as ZeRO-3 leaves it
    model.w.ds_tensor, model.w.ds_numel = torch.tensor([-2.0, 0.5, float("nan")]), 5
    monkeypatch.setattr(dist, "get_rank", lambda: 1)  # sum_all adds nothing: no process group here
    assert weights_l1(model) == 2.5
    master = torch.nn.Parameter(torch.tensor([-2.0, 0.0, 0.5, float("nan")]))
    master.grad = torch.ones(4)
    penalty = L1Penalty(lambda epoch: 0.25)
    penalty.schedule(lambda epoch: [])(0)  # epoch 0 sets α
    penalty.pre_step(torch.optim.SGD([master], lr=0.1), (), {})
    assert master.grad.tolist() == [0.75, 1.0, 1.25, 1.0]


def test_distributed_original_is_built_on_first_read_and_whole_without_sharding(monkeypatch):
    """ctx.original is what shards.held_original gives, asked once, the first time a method reads it (never
    for a method that does not: building shards is a collective); without ZeRO-3/FSDP that is the whole
    original itself (no copy), nothing to compare or release; setting it starts over."""
    from mubench_harness.context import UnlearnContext
    from mubench_harness.distributed import shards

    asked = []
    real = shards.held_original
    monkeypatch.setattr(shards, "held_original", lambda *a: asked.append(a) or real(*a))
    whole, other = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    ctx = UnlearnContext(task=None, model=torch.nn.Linear(2, 2), original=whole, built=None, forget=None,
                         retain=None, seed=0, fresh_model=None, starting_model=None)
    assert asked == []
    assert ctx.original is whole and ctx.original is whole and len(asked) == 1
    assert asked[0][1] is None  # no accelerator: not sharded
    assert ctx.original_changed() is False
    ctx.release_frozen()
    assert ctx.frozen == [] and ctx.original is whole and len(asked) == 2  # released: read again, asked again
    ctx.original = other
    assert ctx.original is other and len(asked) == 3


@pytest.mark.parametrize("files, block, message", [
    ({}, "{backend: deepspeed, config: ds.json}", "ds.json' does not exist"),
    ({"ds.json": "{not json"}, "{backend: deepspeed, config: ds.json}", "is not a JSON file"),
    ({"ds.json": '{"zero_optimization": {"stage": 2}}'}, "{backend: deepspeed, zero_stage: 3, config: ds.json}",
     "sets ZeRO stage 2 but zero_stage is 3"),
])
def test_deepspeed_config_is_checked_at_validation(tmp_path, files, block, message):
    """A DeepSpeed JSON that is missing, not JSON or contradicts zero_stage: one located line, exit 2."""
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    bench = tmp_path / "b.yaml"
    bench.write_text(GRID.format(distributed=f"distributed: {block}"))
    proc = subprocess.run([sys.executable, "-m", "mubench_harness", "validate", str(bench)], env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    line = GRID.format(distributed="").count("\n")  # the last line of the file
    assert proc.stderr.startswith(f"{bench}:{line}:") and message in proc.stderr and proc.stderr.count("\n") == 1


def test_distributed_launcher_command():
    """--launcher re-runs the same command on every rank, minus the launch options, under this interpreter."""
    from mubench_harness.distributed.launch import launcher_command, strip_launch_options

    argv = ["run", "b.yaml", "--launcher", "torchrun", "--nproc=4", "--no-progress"]
    assert strip_launch_options(argv) == ["run", "b.yaml", "--no-progress"]
    cmd = launcher_command("torchrun", 4, strip_launch_options(argv))
    assert cmd == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=4",
                   "-m", "mubench_harness", "run", "b.yaml", "--no-progress"]
    assert launcher_command("accelerate", 2, ["run", "b.yaml"])[1:4] == ["-m", "accelerate.commands.launch",
                                                                          "--num_processes=2"]
