"""NPO (Zhang, Lin, Bai & Mei 2024). Minimising it raises ℓθ; at θ = θref its gradient is −∇ℓθ."""
import torch.nn.functional as F
import torch

from mubench_harness.training import Phase
from mubench_harness.unlearning.corruption import SALT_PAIRS
from mubench_harness.unlearning.method import PieceMethod
from mubench_harness.unlearning.terms import Term, mean_loss, pair_rows, paired, sequence_nll, task_loss


def npo_measure(task, reference, beta: float, built=None):
    """Per sample −(2/β)·logσ(β(ℓθ − ℓref)), ℓ the SUM of target-token NLL (reference without grad)."""
    nll = sequence_nll(task, built)

    def measure(model, batch):
        with torch.no_grad():
            ref = nll(reference, batch)
        return -(2.0 / beta) * F.logsigmoid(beta * (nll(model, batch) - ref))

    return measure


class NPO(PieceMethod):
    reduction = "mean over the Df batch of the per-sample NPO loss"

    def forget_term(self, ctx):
        return Term("npo", npo_measure(ctx.task, ctx.original, self.args.beta, ctx.built), curriculum=self.superloss())

    def run(self, ctx, model):
        opt, bs = self.optimizer(ctx)
        phase = Phase("npo", ctx.forget, bs, mean_loss(self.forget_term(ctx)))
        ctx.train(model, lambda epoch: [phase], epochs=self.args.epochs, optimizer=opt,
                  lr_schedule=self.lr_schedule(ctx, ctx.forget.num_batches(bs)))


class NPORetain(NPO):
    reduction = "mean NPO loss over the Df batch + retain_weight · mean task NLL over its paired Dr samples"

    def run(self, ctx, model):
        opt, bs = self.optimizer(ctx)
        retain = Term("retain", task_loss(ctx.task, ctx.built), weight=self.args.retain_weight, curriculum=self.superloss())
        loss = paired(self.forget_term(ctx), retain)
        gen = ctx.generator(SALT_PAIRS)
        ctx.train(model, lambda epoch: [Phase("npo_rt", pair_rows(ctx.forget, ctx.retain, gen), bs, loss)],
                  epochs=self.args.epochs, optimizer=opt, lr_schedule=self.lr_schedule(ctx, ctx.forget.num_batches(bs)))
