"""Review a change: two revisions' committed results (params, scoreboard, metrics, slices, plots) in one report."""
