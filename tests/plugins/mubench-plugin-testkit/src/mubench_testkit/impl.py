"""Implementations of the test plugin's components; each runs through ``ctx.train`` like a real method."""
import json
import time

from mubench_harness.builtins.toy_impl import BlobsTask
from mubench_harness.contracts import Unlearner
from mubench_harness.metrics import Metric
from mubench_harness.training import OptimizerConfig, Phase


class Ascent(Unlearner):
    def unlearn(self, ctx):
        opt, bs = ctx.rule.resolve(OptimizerConfig(name="adam", lr=self.args.lr), 32)
        task = ctx.task
        phase = Phase("forget", ctx.forget, bs, lambda m, b: -task.per_sample_loss(m, b).mean())
        ctx.train(ctx.model, lambda e: [phase], epochs=self.args.epochs, optimizer=opt)
        return ctx.model


class DropoutAscent(Unlearner):
    def unlearn(self, ctx):
        import torch.nn.functional as F

        task = ctx.task
        loss = lambda m, b: -F.dropout(task.per_sample_loss(m, b), 0.5, training=True).mean()  # noqa: E731
        phase = Phase("forget", ctx.forget, 8, loss)
        ctx.train(ctx.model, lambda e: [phase], epochs=self.args.epochs, optimizer=OptimizerConfig(lr=self.args.lr))
        return ctx.model


class Exact(Unlearner):
    def unlearn(self, ctx):
        model = ctx.starting_model()
        r = ctx.recipe
        task = ctx.task
        phase = Phase("retain", ctx.retain, r.batch_size, lambda m, b: task.per_sample_loss(m, b).mean())
        ctx.train(model, lambda e: [phase], epochs=r.epochs, optimizer=OptimizerConfig(name=r.optimizer, lr=r.lr))
        return model


class Explode(Unlearner):
    def unlearn(self, ctx):
        task = ctx.task
        phase = Phase("forget", ctx.forget, 32, lambda m, b: task.per_sample_loss(m, b).mean() * float("nan"))
        ctx.train(ctx.model, lambda e: [phase], epochs=1, optimizer=OptimizerConfig())
        return ctx.model


class Slow(Unlearner):
    def unlearn(self, ctx):
        task, pause = ctx.task, self.args.step_seconds

        def loss(m, b):
            time.sleep(pause)
            return -task.per_sample_loss(m, b).mean()

        ctx.train(ctx.model, lambda e: [Phase("forget", ctx.forget, 8, loss)], epochs=self.args.epochs,
                  optimizer=OptimizerConfig(lr=1e-4))
        return ctx.model


class Boom(Metric):
    def compute(self, ev):
        raise ZeroDivisionError("boom metric always fails")


class FileBlobs(BlobsTask):
    """The toy task on rows read from ``args.path``: a task whose data can be bad input."""

    def load(self, source):
        from datasets import Dataset, DatasetDict

        splits = json.loads(open(self.args.path).read())
        for split in ("train", "test"):
            for i, row in enumerate(splits.get(split) or []):
                if len(row.get("features", ())) != self.args.dim or not isinstance(row.get("label"), int):
                    raise ValueError(f"{self.args.path} {split} row {i}: need {self.args.dim} features and an int label")
        return DatasetDict({s: Dataset.from_list(splits[s]) for s in ("train", "test")})


class ColumnBlobs(BlobsTask):
    """The toy task with its features written block by block through ``column_buffer``, as a task with
    a column too large for memory writes it."""

    def encode(self, dataset, built):
        import numpy as np
        import torch

        from mubench_harness.data import Rows, column_buffer

        features = np.asarray(dataset["features"], dtype=np.float32)
        x = column_buffer(features.shape, np.float32)
        for start in range(0, len(features), 50):
            x.write(start, features[start : start + 50])
        return Rows({"x": x.finish(), "labels": torch.tensor(np.asarray(dataset["label"], dtype=np.int64))})
