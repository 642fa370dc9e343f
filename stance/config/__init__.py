"""Composing configs: the packaged YAML (conf/) over the typed schemas (stance.config.schema)."""

from __future__ import annotations

from importlib.resources import files
from typing import Sequence

from omegaconf import DictConfig, OmegaConf

from stance.config.schema import register

# The YAML ships inside the package (pyproject maps conf/ to stance.conf), so the
# console scripts find it from an installed wheel as well as from a checkout.
CONFIG_MODULE = "stance.conf"


def corpus_path(relative: str) -> str:
    """Absolute path of a file in the bundled corpus (the repository's data/ folder)."""
    return str(files("stance.corpus").joinpath(relative))


OmegaConf.register_new_resolver("stance_corpus", corpus_path, replace=True)
register()


def compose(config_name: str = "train", overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with Hydra overrides, as the CLI would.

    For tests and other tools that call ``train(cfg)`` or ``evaluate(cfg)`` directly;
    pass ``output_dir=...`` since there is no Hydra run directory outside the CLI.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_module(config_module=CONFIG_MODULE, version_base="1.3"):
        return hydra_compose(config_name=config_name, overrides=list(overrides))
