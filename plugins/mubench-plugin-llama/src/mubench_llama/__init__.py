"""mubench plugin llama: LLaMA-family causal LMs (Alpaca, Vicuna v1.3) for causal-LM tasks (BioFact).

Registration only (no torch); the family lives in :mod:`mubench_llama.family`.
"""
from mubench_harness import hookimpl
from mubench_harness.specs import ModelSpec, NoArgs


@hookimpl
def mubench_models():
    yield ModelSpec(
        name="llama",
        factory="mubench_llama.family:LlamaFamily",
        summary="LLaMA-family instruction models: Alpaca 7B/13B (native fine-tunes), Vicuna v1.3 7B/13B; "
                "tiny: a 2-layer LLaMA built offline",
        args=NoArgs,
        scales={
            # Stanford released Alpaca only as a weight diff; these are the public native fine-tunes
            "alpaca-7b": "chavinlo/alpaca-native",
            "alpaca-13b": "chavinlo/alpaca-13b",
            "vicuna-7b": "lmsys/vicuna-7b-v1.3",
            "vicuna-13b": "lmsys/vicuna-13b-v1.3",
            "tiny": None,
        },
        serves=("causal_lm",),
        # MU-Bench takes the instruction-tuned models as given; the tiny one is fine-tuned by the harness
        given=("alpaca-7b", "alpaca-13b", "vicuna-7b", "vicuna-13b"),
    )
