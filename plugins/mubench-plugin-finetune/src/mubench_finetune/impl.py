"""Fine-tune: minimise the task loss on Dr (mean over the batch)."""
from mubench_harness.training import Phase
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.terms import Term, mean_loss, task_loss


class FineTune(PieceMethod):
    reduction = "mean over the Dr batch of the task loss"

    def run(self, ctx, model):
        opt, bs = self.optimizer(ctx)
        keep = Term("retain", task_loss(ctx.task, ctx.built), curriculum=self.superloss())
        phase = Phase("retain", ctx.retain, bs, mean_loss(keep))
        ctx.train(model, lambda epoch: [phase], epochs=self.args.epochs, optimizer=opt)
