"""SalUn (Fan et al., ICLR 2024): saliency mask from all Df batches, then masked RandLabel."""
import time

from mubench_harness.unlearning.method import PieceMethod, synchronize
from mubench_harness.unlearning.corruption import relabelling
from mubench_harness.unlearning.recipes import relabel_phases, relabelled_schedule
from mubench_harness.unlearning.scope import saliency_mask
from mubench_harness.unlearning.terms import task_loss


class SalUn(PieceMethod):
    reduction = "saliency: |Σ over every Df sample of ∇(−loss)|; training: RandLabel's one mean per mixed batch"

    def run(self, ctx, model):
        a = self.args
        opt, bs = self.optimizer(ctx)
        measure = task_loss(ctx.task, ctx.built)
        started = time.perf_counter()
        mask = saliency_mask(model, ctx.forget, bs, measure, a.mask_fraction, accelerator=ctx.accelerator,
                             device=ctx.device, meter=ctx.meter)
        synchronize(ctx.device)
        # part of the method's time (DESIGN.md §5), also reported on its own
        ctx.notes["saliency_seconds"] = time.perf_counter() - started
        ctx.notes["mask_fraction"] = mask.fraction
        curriculum = self.superloss if a.curriculum is not None else None
        relabel, include_true = relabelling(ctx, a.relabel, a.include_true)
        # text-to-image: SalUn's diffusion loss (DESIGN.md §4)
        make_phase = relabel_phases(ctx, bs, include_true=include_true, curriculum=curriculum, retain_weight=a.retain_weight)
        try:
            ctx.train(model, relabelled_schedule(make_phase, relabel), epochs=a.epochs, optimizer=opt,
                      keep=mask)
        finally:
            mask.detach()
