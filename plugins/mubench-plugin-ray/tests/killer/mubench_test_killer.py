"""A test-only plugin that loses the worker running one chosen cell, once: the test arms it by writing
the cell's key into ``$MUBENCH_TEST_KILL_DIR/arm``; the first worker to start that cell renames the file
to ``fired`` (so a rerun of the cell lives) and SIGKILLs its own process, as a node loss or OOM kill would."""
import os
import signal
from pathlib import Path

from mubench_harness import hookimpl


@hookimpl(wrapper=True)
def mubench_run_cell(cell, runtime):
    folder = os.environ.get("MUBENCH_TEST_KILL_DIR")
    arm = Path(folder) / "arm" if folder else None
    if arm is not None and arm.is_file() and arm.read_text() == cell.key:
        try:
            arm.rename(arm.with_name("fired"))
        except FileNotFoundError:  # another attempt fired it first
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return (yield)
