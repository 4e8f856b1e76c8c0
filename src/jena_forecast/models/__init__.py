"""Model builders and their params."""
