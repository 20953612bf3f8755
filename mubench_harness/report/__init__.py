"""Reports over a run's results database (tables, plots, leaderboard, paired comparisons)."""
