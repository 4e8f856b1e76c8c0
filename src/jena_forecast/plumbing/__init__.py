"""What every part shares and rarely changes: atomic writes, array files, tables, the one
user-error type, params validation and the stage entry points."""
