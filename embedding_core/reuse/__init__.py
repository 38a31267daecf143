"""Ways out of a trained run: scikit-learn transformers and exports."""
