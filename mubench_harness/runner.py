"""Grid runner (placeholder until the runner lands; registers nothing yet)."""
