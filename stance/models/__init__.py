"""Models: building one from a config, the pair encoding, pooling heads, the linear model."""
