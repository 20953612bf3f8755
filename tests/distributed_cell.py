"""Runs a benchmark as ``mubench run`` does (on one rank or under ``torchrun``) and keeps, for the
distributed tests, what the harness made of each cell: the whole unlearned weights it evaluated
(``weights/<label>.safetensors``, rank 0) and, per rank, how many parameter entries the rank held while the
method trained (``held-rank<r>.json``: label -> [held, total]; ``<label>:teacher``: a frozen model the
method built, as held; ``<label>:original``: the original as the method read it, and whether that was a copy; ``<label>:saliency``:
the entries of SalUn's mask the rank held where it was computed on shards). A cell whose label ends in
``_touched`` writes into its sharded copy of the original (where one is built), which must fail the cell.
``loss-rank<r>.json``: label -> the mean loss the loop recorded per (epoch, phase), in order.

    python tests/distributed_cell.py BENCH.yaml OUT
    torchrun --nproc_per_node=2 tests/distributed_cell.py BENCH.yaml OUT

With ``MUBENCH_TEST_FAIL_FIRST_SAVE=1`` rank 0's first checkpoint save raises (a failure of one rank alone).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main(bench: str, out: str) -> int:
    from safetensors.torch import save_file

    from mubench_harness import context, execution
    from mubench_harness.config import validate
    from mubench_harness.distributed import is_main, rank, shards, world_size
    from mubench_harness.distributed.engine import local_numel
    from mubench_harness.distributed.ranks import shutdown
    from mubench_harness.runner import run_benchmark

    try:  # where a cell's unlearning runs: the cells module (functions), earlier the Runtime's method
        from mubench_harness import cells as home
        cell_owner = home
    except ImportError:
        home, cell_owner = execution, execution.Runtime
    label, weights, held, losses = [None], {}, {}, {}
    real_cell, real_consolidated, real_loop = cell_owner._unlearn_cell, home.consolidated, context.run_loop

    def unlearn_cell(*args):  # (runtime, cell, ...) either way
        label[0] = args[1].label
        return real_cell(*args)

    def consolidated(model, like, accelerator):
        plain = real_consolidated(model, like, accelerator)
        weights[label[0]] = {k: v.detach().cpu().clone().contiguous() for k, v in plain.state_dict().items()}
        return plain

    def run_loop(model, *args, accelerator=None, **kwargs):
        module = accelerator.unwrap_model(model) if accelerator is not None else model
        held[label[0]] = [local_numel(module), _total(module)]
        result = real_loop(model, *args, accelerator=accelerator, **kwargs)
        losses.setdefault(label[0], []).extend(loss for _, _, loss in result.history)
        return result

    real_frozen, real_original, building_original = shards.shard_frozen, shards.held_original, [False]
    from mubench_harness.distributed import saliency as sharded_saliency

    real_sharded_mask = sharded_saliency.sharded_mask

    def sharded_mask(*args, **kwargs):  # SalUn's mask computed on shards: the entries this rank held
        mask = real_sharded_mask(*args, **kwargs)
        held[f"{label[0]}:saliency"] = [mask.local_entries, mask.total_entries]
        return mask


    def shard_frozen(module, accelerator):
        held_module = real_frozen(module, accelerator)
        if not building_original[0]:  # a frozen model the method built itself (Bad-T's random teacher)
            inner = getattr(held_module, "module", held_module)  # a DeepSpeed engine holds the model as .module
            held[f"{label[0]}:teacher"] = [local_numel(inner), _total(inner)]
        return held_module

    def held_original(original, accelerator, device):
        building_original[0] = True
        try:
            held_module = real_original(original, accelerator, device)
        finally:
            building_original[0] = False
        inner = getattr(held_module, "module", held_module)
        held[f"{label[0]}:original"] = [local_numel(inner), _total(inner), held_module is not original]
        if label[0].endswith("_touched") and held_module is not original:
            _touch(inner)  # a method that writes into the sharded copy of its original: the harness must see it
        return held_module

    if os.environ.get("MUBENCH_TEST_FAIL_FIRST_SAVE") and rank() == 0:  # a failure on rank 0 alone
        import safetensors.torch

        real_save, saves = safetensors.torch.save_model, []

        def save_model(*args, **kwargs):
            saves.append(1)
            if len(saves) == 1:
                raise OSError("injected: the first checkpoint save fails, on rank 0 only")
            return real_save(*args, **kwargs)

        safetensors.torch.save_model = save_model
    shards.shard_frozen = shard_frozen
    sharded_saliency.sharded_mask = sharded_mask
    shards.held_original = held_original
    cell_owner._unlearn_cell = unlearn_cell
    home.consolidated = consolidated
    context.run_loop = run_loop
    summary = run_benchmark(validate(bench), out, progress=False)
    folder = Path(out)
    (folder / f"held-rank{rank()}.json").write_text(json.dumps(held))
    (folder / f"loss-rank{rank()}.json").write_text(json.dumps(losses))
    if is_main():
        (folder / "weights").mkdir(exist_ok=True)
        for name, state in weights.items():
            save_file(state, str(folder / "weights" / f"{name}.safetensors"))
    if world_size() > 1:
        shutdown()
    return summary.exit_code


def _touch(module) -> None:
    """Add 1 to the first entry of the first parameter's shard this rank holds (rank 0's is the whole
    parameter's first entry): a change only a gather of the shards can see."""
    import torch

    p = next(module.parameters())
    local = p.ds_tensor if hasattr(p, "ds_tensor") else p.to_local() if hasattr(p, "to_local") else p.data
    with torch.no_grad():
        local.view(-1)[0] += 1.0


def _total(module) -> int:
    """Entries of the whole model (a ZeRO-3 parameter's whole size is ds_numel; a DTensor's numel is whole)."""
    return sum(p.ds_numel if hasattr(p, "ds_numel") else p.numel() for p in module.parameters())


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
