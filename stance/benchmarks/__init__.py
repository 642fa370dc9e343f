"""Benchmarks: train a recipe through stance.training, then score held-out data once."""
