"""Analyses of a trained run: projection, clustering, neighbours, interactions, what-if, lift."""
