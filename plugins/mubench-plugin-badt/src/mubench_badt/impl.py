"""Bad-T (Chundawat et al., AAAI 2023): one KL_τ(target‖θ) over mixed Df/Dr batches."""
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.recipes import badt_phase


class BadTeacher(PieceMethod):
    reduction = "one mean over each mixed batch of per-sample KL (sum over classes): batchmean"

    def run(self, ctx, model):
        opt, bs = self.optimizer(ctx)
        a = self.args
        curriculum = self.superloss if a.curriculum is not None else None
        phase = badt_phase(ctx, bs, retain_fraction=a.retain_fraction, tau=a.tau, curriculum=curriculum)
        ctx.train(model, lambda epoch: [phase], epochs=a.epochs, optimizer=opt)
