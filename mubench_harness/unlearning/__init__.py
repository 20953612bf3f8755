"""The paper's teacher–student taxonomy of unlearning (MU-Bench, Table 2) as shared pieces.

A method is a composition of four choices, each a module here:

- **knowledge measurement** (:mod:`.measure`): how the student's knowledge of a sample is read —
  the task's per-sample *loss*, the *logits* compared with a teacher (teacher-first KL; token logits
  with a mask; MSE on predicted noise for diffusion), or the *representation* (hidden states);
- **corruption** (:mod:`.corruption`): how knowledge of Df is destroyed — *gradient* ascent, *data*
  (RandLabel's wrong targets, ``task.corrupt``) or *model* (an incompetent, freshly initialised teacher);
- **retention** (:mod:`.terms` builders with :mod:`.measure`): how knowledge of Dr is kept — loss on
  Dr or KL to the frozen original on Dr;
- **parameter scope** (:mod:`.scope`): which parameters move — dense, a saliency mask (masked-out
  entries stay exactly at θo), or LoRA adapters (peft), merged back before the model is returned.

Per-sample loss terms may be wrapped in the SuperLoss curriculum (:mod:`.curriculum`). Every method
builds :class:`mubench_harness.training.Phase` objects and trains through ``ctx.train`` — the one loop.

This top module and :mod:`.args` import no torch: plugin top modules import the argument models.
"""
