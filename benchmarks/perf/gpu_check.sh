#!/usr/bin/env bash
# One or two minutes on a GPU machine: unlearn (NegGrad, gradient ascent through the harness's one loop) a
# ~1.1B-parameter LLaMA (TinyLlama's shape, random weights: no hub needed) under DeepSpeed ZeRO-3 and under
# FSDP2, on every visible GPU, and print tokens/s, peak memory per GPU and model-FLOPs utilisation (MFU:
# 6·N·tokens/s over the GPUs' dense bf16 peak; PEAK_BF16_TFLOPS overrides the table below).
#   bash benchmarks/perf/gpu_check.sh            # all GPUs
#   NPROC=2 STEPS=30 bash benchmarks/perf/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
NPROC=${NPROC:-$("$PY" -c 'import torch; print(max(torch.cuda.device_count(), 1))')}
export STEPS=${STEPS:-20} SEQ=${SEQ:-1024} MICRO=${MICRO:-4} OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
SCRIPT=$(mktemp --suffix=.py)
trap 'rm -f "$SCRIPT"' EXIT
cat > "$SCRIPT" <<'PYEOF'
import os, sys, time
from types import SimpleNamespace as NS

import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from mubench_harness.data import Rows
from mubench_harness.distributed.engine import build_accelerator
from mubench_harness.distributed.ranks import rank_and_world, shutdown
from mubench_harness.training import OptimizerConfig, Phase, make_optimizer, run_loop

backend = sys.argv[1]
steps, seq, micro = int(os.environ["STEPS"]), int(os.environ["SEQ"]), int(os.environ["MICRO"])
ds = {"zero_optimization": {"stage": 3}, "bf16": {"enabled": True}} if backend == "deepspeed" else None
bench = NS(distributed=NS(backend=backend, zero_stage=3 if ds else 0, config=None), mixed_precision="bf16")
acc = build_accelerator(bench, use_cuda=True, base_dir=None)
rank, world = rank_and_world()
torch.manual_seed(0)
cfg = LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                  num_key_value_heads=4, vocab_size=32000, max_position_embeddings=seq)
model = LlamaForCausalLM(cfg)
n_params = sum(p.numel() for p in model.parameters())
g = torch.Generator().manual_seed(1)
rows = Rows({"input_ids": torch.randint(0, cfg.vocab_size, (micro * world * (steps + 2), seq), generator=g)})

def ascent(m, b):  # NegGrad: minimise −CE over the forget batch
    logits = m(input_ids=b["input_ids"]).logits[:, :-1]
    return -F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), b["input_ids"][:, 1:].reshape(-1))

opt = make_optimizer(model.parameters(), OptimizerConfig(name="adamw", lr=1e-5))
model, opt = acc.prepare(model, opt)
phase = lambda n: [Phase("forget", rows.select(torch.arange(n * micro * world)), micro * world, ascent)]
run_loop(model, lambda e: phase(2), epochs=1, optimizer=opt, seed=0, accelerator=acc, device=acc.device)  # warm-up
torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
start = time.perf_counter()
res = run_loop(model, lambda e: phase(steps), epochs=1, optimizer=opt, seed=0, accelerator=acc, device=acc.device)
torch.cuda.synchronize()
seconds = time.perf_counter() - start
tokens = res.steps * micro * world * seq
peak = torch.tensor([torch.cuda.max_memory_allocated() / 2**30], device=acc.device)
torch.distributed.all_reduce(peak, op=torch.distributed.ReduceOp.MAX)
name = torch.cuda.get_device_name()
table = {"H200": 989, "H100": 989, "A100": 312, "L40S": 362, "A10": 125, "L4": 121, "4090": 165}
tflops = float(os.environ.get("PEAK_BF16_TFLOPS") or next((v for k, v in table.items() if k in name), 0))
mfu = 6 * n_params * tokens / seconds / (tflops * 1e12 * world) if tflops else float("nan")
if rank == 0:
    print(f"{backend:9s} {name} ×{world}: {n_params / 1e9:.2f}B params, {res.steps} steps of {micro * world}×{seq} tokens, "
          f"{tokens / seconds:,.0f} tokens/s, peak {peak.item():.1f} GiB/GPU, MFU {mfu:.1%} of {tflops:g} TFLOP/s bf16 per GPU")
shutdown()
PYEOF
for backend in deepspeed fsdp; do
  timeout 300 "$PY" -m torch.distributed.run --standalone --nproc_per_node="$NPROC" "$SCRIPT" "$backend"
done
