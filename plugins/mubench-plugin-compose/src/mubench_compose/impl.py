"""compose: builds the forget and retain terms the arguments name and trains them through ctx.train."""
from mubench_harness.data import Rows
from mubench_harness.training import Phase
from mubench_harness.unlearning.corruption import corrupted_forget, incompetent_teacher, retain_subset
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.scope import saliency_mask
from mubench_harness.unlearning.terms import Term, by_membership, distill, mean_loss, membership, task_loss


class Compose(PieceMethod):
    reduction = "interleaved: batch mean per pass; mixed: one mean over each mixed batch (KL per sample summed over classes, × τ²)"

    def forget_part(self, ctx) -> tuple[Rows, Term | None]:
        a = self.args
        if a.corruption == "none":
            return ctx.forget, None
        if a.corruption == "data":
            rows, measure = corrupted_forget(ctx, a.include_true), task_loss(ctx.task, ctx.built)
        elif a.corruption == "model":
            rows, measure = ctx.forget, distill(ctx.task, incompetent_teacher(ctx), tau=a.tau, built=ctx.built, scale_tau2=True)
        elif a.forget_measure == "logits":  # gradient ascent on the KL to the original (SCRUB's max)
            rows, measure = ctx.forget, distill(ctx.task, ctx.original, tau=a.tau, built=ctx.built, scale_tau2=True)
        else:  # gradient ascent on the loss (NegGrad)
            rows, measure = ctx.forget, task_loss(ctx.task, ctx.built)
        return rows, Term("forget", measure, weight=a.forget_weight, ascent=a.corruption == "gradient",
                          curriculum=self.superloss())

    def retain_part(self, ctx) -> tuple[Rows, Term | None]:
        a = self.args
        rows = retain_subset(ctx, a.retain_fraction) if a.retain_fraction < 1 else ctx.retain
        if a.retain == "none":
            return rows, None
        parts = []
        if "loss" in a.retain:
            parts.append(task_loss(ctx.task, ctx.built))
        if "logits" in a.retain:
            parts.append(distill(ctx.task, ctx.original, tau=a.tau, built=ctx.built, scale_tau2=True))
        measure = parts[0] if len(parts) == 1 else (lambda m, b: parts[0](m, b) + parts[1](m, b))
        return rows, Term("retain", measure, weight=a.retain_weight, curriculum=self.superloss())

    def run(self, ctx, model):
        a = self.args
        opt, bs = self.optimizer(ctx)
        ctx.notes["composition"] = {k: getattr(a, k) for k in ("forget_measure", "corruption", "retain", "scope", "schedule")}
        mask = None
        if a.scope == "saliency":
            mask = saliency_mask(model, ctx.forget, bs, task_loss(ctx.task, ctx.built), a.mask_fraction,
                                 accelerator=ctx.accelerator, device=ctx.device, meter=ctx.meter)
            ctx.notes["mask_fraction"] = mask.fraction
        (f_rows, f_term), (r_rows, r_term) = self.forget_part(ctx), self.retain_part(ctx)
        if a.schedule == "mixed" and f_term is not None and r_term is not None:
            # both row kinds measured by the task loss (RandLabel's case): one forward over the mixed batch
            joint = task_loss(ctx.task, ctx.built) if (a.corruption, a.retain) == ("data", "loss") else None
            mixed = Phase("mixed", Rows.concat([f_rows, r_rows]), bs,
                          by_membership(f_term, r_term, membership(ctx.forget, r_rows), joint=joint))
            phases = [mixed]
        else:
            phases = [Phase(name, rows, bs, mean_loss(term)) for name, rows, term in
                      (("forget", f_rows, f_term), ("retain", r_rows, r_term)) if term is not None]
        try:
            # keep=: the mask is held in whatever holds the weights (a sharded copy under ZeRO/FSDP too)
            ctx.train(model, lambda epoch: phases, epochs=a.epochs, optimizer=opt, keep=mask)
        finally:
            if mask is not None:
                mask.detach()
