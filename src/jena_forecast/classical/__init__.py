"""Classical baselines (scikit-learn) on engineered features of the deep models' own windows."""
