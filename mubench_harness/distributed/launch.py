"""``mubench run FILE --launcher torchrun|accelerate``: start the same command on every rank.

The launcher is run as a module of this interpreter (no PATH lookup), with ``python -m mubench_harness``
as what each rank runs and the command's own arguments minus ``--launcher``/``--nproc``. The file was
validated before this is called: bad input never starts a rank.
"""
from __future__ import annotations

import os
import sys


def launcher_command(launcher: str, nproc: int, argv: list[str]) -> list[str]:
    """The command line that runs ``mubench`` ``argv`` on ``nproc`` ranks under ``launcher``."""
    rank_cmd = ["-m", "mubench_harness", *argv]
    if launcher == "torchrun":
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}", *rank_cmd]
    if launcher == "accelerate":
        return [sys.executable, "-m", "accelerate.commands.launch", f"--num_processes={nproc}", *rank_cmd]
    raise ValueError(f"unknown launcher {launcher!r} (torchrun or accelerate)")


def strip_launch_options(argv: list[str]) -> list[str]:
    """``argv`` without ``--launcher X``/``--nproc N`` (either spelling ``--opt X`` or ``--opt=X``)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--launcher", "--nproc"):
            skip = True
        elif not arg.startswith(("--launcher=", "--nproc=")):
            out.append(arg)
    return out


def relaunch(launcher: str, nproc: int, argv: list[str]) -> None:
    """Replace this process with the launcher (never returns). One thread per rank unless set: ranks
    that each start a thread per core oversubscribe the machine."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cmd = launcher_command(launcher, nproc, strip_launch_options(argv))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(cmd[0], cmd)
