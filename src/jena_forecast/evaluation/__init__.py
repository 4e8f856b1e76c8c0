"""Scoring and comparing: MAE and skill on shared windows, intervals, significance, seed studies,
the ensemble, the leaderboard, the report and revision comparisons."""
