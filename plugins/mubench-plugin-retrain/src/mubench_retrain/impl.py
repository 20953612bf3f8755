"""Retrain: train ``ctx.starting_model()`` (never the original) on Dr only with the task recipe.

The paper's optimiser rule does not apply: retraining is the reference the original was trained by.
"""
from mubench_harness.training import OptimizerConfig, Phase
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.terms import Term, mean_loss, task_loss


class Retrain(PieceMethod):
    reduction = "mean over the Dr batch of the task loss"

    def initial_model(self, ctx):
        return ctx.starting_model().to(ctx.device).train()

    def run(self, ctx, model):
        a, r = self.args, ctx.recipe
        opt = OptimizerConfig(
            name=a.optimizer.name if a.optimizer else r.optimizer,
            lr=a.lr or r.lr,
            momentum=a.optimizer.momentum if a.optimizer else r.momentum,
            weight_decay=a.optimizer.weight_decay if a.optimizer else r.weight_decay,
        )
        bs, epochs = a.batch_size or r.batch_size, a.epochs or r.epochs
        ctx.notes.update(optimizer_rule="task recipe", batch_sizes=[bs])
        phase = Phase("retrain", ctx.retain, bs, mean_loss(Term("retain", task_loss(ctx.task, ctx.built), curriculum=self.superloss())))
        ctx.train(model, lambda epoch: [phase], epochs=epochs, optimizer=opt)
