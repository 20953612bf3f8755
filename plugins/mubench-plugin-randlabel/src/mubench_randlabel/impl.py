"""RandLabel: corrupted Df (targets drawn once per run from the run seed) and Dr in one shuffled pass."""
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.recipes import randlabel_phase


class RandLabel(PieceMethod):
    reduction = "one mean over each mixed batch of task losses (Df rows with corrupted targets)"

    def run(self, ctx, model):
        opt, bs = self.optimizer(ctx)
        curriculum = self.superloss if self.args.curriculum is not None else None
        phase = randlabel_phase(ctx, bs, include_true=self.args.include_true, curriculum=curriculum)
        ctx.train(model, lambda epoch: [phase], epochs=self.args.epochs, optimizer=opt)
