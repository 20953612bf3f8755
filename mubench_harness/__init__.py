"""mubench: a plugin-based benchmark harness for machine unlearning (MU-Bench as software).

This top module imports nothing heavy: listing and validating stay fast.
"""
from .hookspecs import hookimpl

__all__ = ["hookimpl"]
__version__ = "0.1.0"
