"""stance: fine-tune and run transformers that label statements as supportive, reserved or opposed."""

from stance.labels import LABELS

__all__ = ["LABELS", "StanceClassifier"]
__version__ = "0.1.0"


def __getattr__(name):
    # Imported lazily so `import stance` (and the CLIs' --help) stays fast without torch.
    if name == "StanceClassifier":
        from stance.inference.classifier import StanceClassifier

        return StanceClassifier
    raise AttributeError(f"module 'stance' has no attribute {name!r}")
