"""Refits: a model fitted again on training + validation, with everything validation chose frozen
(recipe and params, the epochs early stopping kept, ridge's alpha, the boosting iterations, the
ensemble's members), and scored once on the test windows beside the fit on training alone."""
