"""NegGrad: minimise −ℓ(θ; x) over Df (mean over the batch)."""
from mubench_harness.training import Phase
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.terms import Term, mean_loss, task_loss


class NegGrad(PieceMethod):
    reduction = "mean over the Df batch of −task loss"

    def run(self, ctx, model):
        opt, bs = self.optimizer(ctx)
        ascent = Term("forget", task_loss(ctx.task, ctx.built), ascent=True, curriculum=self.superloss())
        phase = Phase("forget", ctx.forget, bs, mean_loss(ascent))
        ctx.train(model, lambda epoch: [phase], epochs=self.args.epochs, optimizer=opt)
