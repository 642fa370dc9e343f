"""Console entry points: thin shims over plain functions. Nothing imports this package."""
