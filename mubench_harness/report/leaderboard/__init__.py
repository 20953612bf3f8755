"""A static leaderboard site over one or more run folders: ranking (``ranking``) and pages (``site``)."""
from .ranking import SCORE, TIE_RULE, ranking
from .site import write_site

__all__ = ["SCORE", "TIE_RULE", "ranking", "write_site"]
