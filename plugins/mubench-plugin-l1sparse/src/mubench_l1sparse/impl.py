"""l1-sparse: mean task loss on Dr + α_t·Σ|θ| over the trainable parameters."""
from mubench_harness.training import Phase
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.terms import Term, mean_loss, task_loss


def alpha_at(alpha: float, epoch: int, epochs: int) -> float:
    """α_t = α·(1 − t/E) for 0-based epoch t: α in epoch 0, α/E in the last."""
    return alpha * (1.0 - epoch / epochs)


class L1Sparse(PieceMethod):
    reduction = "mean over the Dr batch of the task loss + α_t · sum of |θ| over trainable parameters"

    def run(self, ctx, model):
        a = self.args
        opt, bs = self.optimizer(ctx)
        retain = mean_loss(Term("retain", task_loss(ctx.task, ctx.built), curriculum=self.superloss()))
        ctx.notes["l1_alpha"] = []

        def alpha(epoch):
            alpha_t = alpha_at(a.alpha, epoch, a.epochs)
            ctx.notes["l1_alpha"].append(alpha_t)
            return alpha_t

        # the harness adds α_t·Σ|θ|: its gradient where the optimiser steps the weights (whole, or each rank's
        # ZeRO-3/FSDP shard, where a loss over whole weights could not be formed), its value to the loss
        phase = Phase("retain_l1", ctx.retain, bs, retain)
        ctx.train(model, lambda epoch: [phase], epochs=a.epochs, optimizer=opt, l1=alpha)
