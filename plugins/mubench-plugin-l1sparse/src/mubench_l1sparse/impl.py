"""l1-sparse: mean task loss on Dr + α_t·Σ|θ| over the trainable parameters."""
import torch

from mubench_harness.distributed.shards import whole_trainable
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

        def schedule(epoch):
            alpha_t = alpha_at(a.alpha, epoch, a.epochs)
            ctx.notes["l1_alpha"].append(alpha_t)

            def loss(m, batch):
                # the parameters of ``m``, the module being trained (under ZeRO a copy of ``model``)
                l1 = torch.stack([p.abs().sum() for p in whole_trainable(m)]).sum()
                return retain(m, batch) + alpha_t * l1

            return [Phase("retain_l1", ctx.retain, bs, loss)]

        ctx.train(model, schedule, epochs=a.epochs, optimizer=opt)
