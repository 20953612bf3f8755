"""Generative task bases (DESIGN.md §3, §4): sequence-to-sequence, causal LM and text-to-image.

Each base turns its model's outputs into the primitives every method uses, so one method
implementation serves classification and generation alike:

- ``per_sample_loss``: mean token cross-entropy over the target tokens [B] (diffusion: the
  noise-prediction MSE [B]);
- ``sequence_nll``: the SUM of the target tokens' NLL [B] (NPO's ℓ);
- ``outputs``: token logits [B, T, V] with the target mask [B, T], or predicted noise;
- ``corrupt``: each Df sample's target replaced by a different sample's target from the pool;
- ``score``: per-sample performance in [0, 1] from batched, seeded generation;
- ``signals``: token-averaged loss, score, p_true, entropy, margin.

``chance`` returns 0.0 for generation: there is no chance level; the metrics report the original
model's Df score as the reference instead (DESIGN.md §5).

This package's top module and :mod:`.settings` import no torch (plugins' light modules use the
settings models); :mod:`.text`, :mod:`.seq2seq`, :mod:`.causal` and :mod:`.diffusion` import torch and
are loaded only through the lazy factories.
"""
