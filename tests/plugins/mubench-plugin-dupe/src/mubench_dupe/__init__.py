"""Registers an unlearner called ``ascent``, as mubench-plugin-testkit does: a conflict."""
from mubench_harness import hookimpl
from mubench_harness.specs import UnlearnerSpec


@hookimpl
def mubench_unlearners():
    yield UnlearnerSpec(name="ascent", factory="mubench_testkit.impl:Ascent", summary="a second 'ascent' (test)",
                        taxonomy={"forget_measure": "loss"})
