"""``python -m mubench_harness``: the ``mubench`` command, as a module launchers can start
(``torchrun --nproc_per_node=2 -m mubench_harness run FILE``)."""
import sys

from .cli import main

sys.exit(main())
