"""Reports over a run folder's results database: ``load`` reads it, ``table`` renders it.

Imports no torch. Other report content (comparisons, plots, the leaderboard) adds modules here.
"""
from .load import ReportData, load_results
from .table import FORMATS, aggregate, render, select_metrics

__all__ = ["FORMATS", "ReportData", "aggregate", "load_results", "render", "select_metrics"]
