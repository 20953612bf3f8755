"""Implementation (imports torch; loaded lazily through the spec's factory)."""
from mubench_harness.contracts import Unlearner
from mubench_harness.training import OptimizerConfig, Phase


class Method(Unlearner):
    def unlearn(self, ctx):
        task, a = ctx.task, self.args
        optimizer, batch_size = ctx.rule.resolve(OptimizerConfig(name="adam", lr=a.lr), 32)
        ascent = Phase("forget", ctx.forget, batch_size, lambda m, b: -task.per_sample_loss(m, task.prepare_batch(b, ctx.built)).mean())
        ctx.train(ctx.model, lambda epoch: [ascent], epochs=a.epochs, optimizer=optimizer)
        return ctx.model
