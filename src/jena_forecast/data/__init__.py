"""Data stages: download, parse, split and normalize, windows."""
