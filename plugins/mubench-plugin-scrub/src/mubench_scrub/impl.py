"""SCRUB (Kurmanji et al., NeurIPS 2023), phases interleaved per epoch, one shared optimiser."""
from mubench_harness.training import Phase
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.terms import Term, distill, mean_loss, task_loss


class Scrub(PieceMethod):
    reduction = "KL batchmean × τ² (per-sample KL summed over classes, mean over the batch); CE mean"

    def run(self, ctx, model):
        a = self.args
        opt, bs_retain = self.optimizer(ctx, a.batch_size)
        _, bs_forget = self.optimizer(ctx, a.forget_batch_size)
        kl = distill(ctx.task, ctx.original, tau=a.tau, built=ctx.built, scale_tau2=True)
        maximise = Phase("max", ctx.forget, bs_forget, mean_loss(Term("max_kl", kl, ascent=True, curriculum=self.superloss())))
        minimise = Phase("min", ctx.retain, bs_retain, mean_loss(
            Term("min_ce", task_loss(ctx.task, ctx.built), weight=a.gamma, curriculum=self.superloss()),
            Term("min_kl", kl, weight=a.alpha, curriculum=self.superloss()),
        ))
        # interleaved: each epoch runs its max pass (the first max_steps epochs) then its min pass
        ctx.train(model, lambda epoch: ([maximise] if epoch < a.max_steps else []) + [minimise],
                  epochs=a.epochs, optimizer=opt)
