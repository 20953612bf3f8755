"""GradDiff: per step, mean(−ℓ) over a Df batch + w·mean(ℓ) over the Dr samples paired with it."""
from mubench_harness.training import Phase
from mubench_harness.unlearning.corruption import SALT_PAIRS
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.terms import Term, pair_rows, paired, task_loss


class GradDiff(PieceMethod):
    reduction = "mean over the Df batch of −loss + retain_weight · mean over its paired Dr samples of loss"

    def run(self, ctx, model):
        a = self.args
        opt, bs = self.optimizer(ctx)
        measure = task_loss(ctx.task, ctx.built)
        loss = paired(Term("forget", measure, ascent=True, curriculum=self.superloss()),
                      Term("retain", measure, weight=a.retain_weight, curriculum=self.superloss()))
        gen = ctx.generator(SALT_PAIRS)  # new partners every epoch, the same for the same run seed
        ctx.train(model, lambda epoch: [Phase("graddiff", pair_rows(ctx.forget, ctx.retain, gen), bs, loss)],
                  epochs=a.epochs, optimizer=opt)
