"""RandLabel: corrupted Df (targets drawn from the run seed, once or every epoch) and Dr in one shuffled
pass; on text-to-image, SalUn's random-label baseline (redirected noise + α·Dr loss)."""
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.corruption import relabelling
from mubench_harness.unlearning.recipes import relabel_phases, relabelled_schedule


class RandLabel(PieceMethod):
    reduction = "one mean over each mixed batch of task losses (Df rows with corrupted targets)"

    def run(self, ctx, model):
        opt, bs = self.optimizer(ctx)
        curriculum = self.superloss if self.args.curriculum is not None else None
        relabel, include_true = relabelling(ctx, self.args.relabel, self.args.include_true)
        make_phase = relabel_phases(ctx, bs, include_true=include_true, curriculum=curriculum,
                                    retain_weight=self.args.retain_weight)
        schedule = relabelled_schedule(make_phase, relabel)
        ctx.train(model, schedule, epochs=self.args.epochs, optimizer=opt)
