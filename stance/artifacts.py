"""The one schema of a saved model directory: names, config.json keys, parts; read and write.

A model directory is a plain transformers checkpoint (so ``transformers.pipeline`` loads it)
plus what stance adds beside it. Nothing here imports torch.

```
model/
  config.json            id2label, label2id, stance_default_target, stance_max_length, stance_temperature
  model.safetensors  tokenizer.json  tokenizer_config.json
  stance_config.yaml     the resolved config of the run that trained it
  metrics.json           dev and test scores, calibration (ECE before and after temperature scaling)
  README.md              the model card (Hugging Face format)
  members/seed-<n>/      more seeds of the same recipe (each a model directory), averaged
  linear/                a linear model blended into the transformer (stance.models.linear)
  model.onnx             the transformer exported by stance-export (stance.export), for ONNX Runtime
  openvino/model.xml     the same graph as OpenVINO IR (+ model.bin): OpenVINO reads it faster than the ONNX;
                         openvino/cache/ keeps it compiled for this CPU (weightless, under a MiB each)
  openvino/int8/         an int8 copy (stance-export --int8, NNCF), with int8.json: the labels it kept on its check
  linear/encoder/        the linear model's sentence encoder, exported the same way (model.onnx, openvino/, tokenizer.json)
  export.json            written last by stance-export: the weights it was made from and what its check measured
```
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from stance.errors import StanceError

MODEL_DIRNAME = "model"  # inside a run directory
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
RESOLVED_CONFIG_FILE = "stance_config.yaml"
METRICS_FILE = "metrics.json"
MODEL_CARD_FILE = "README.md"
MEMBERS_DIRNAME = "members"
LINEAR_DIRNAME = "linear"
STAGING_SUFFIX = ".partial"
# torch's pickle formats: loading one can run code, so a directory with only these is refused by default
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
ONNX_FILE = "model.onnx"
OPENVINO_DIRNAME = "openvino"
OPENVINO_FILE = "model.xml"  # its weights are model.bin beside it
OPENVINO_CACHE_DIRNAME = "cache"  # inside openvino/: compiled graphs, by CPU and precision
ENCODER_DIRNAME = "encoder"  # inside linear/
ENCODER_SETTINGS_FILE = "encoder.json"
EXPORT_FILE = "export.json"
OPENVINO_INT8_DIRNAME = "int8"  # inside openvino/: written only where it keeps labels (stance.quantization)
INT8_FILE = "int8.json"  # inside openvino/int8/, written last: the int8 graph is complete and was checked

# config.json keys that stance adds to the transformers config
DEFAULT_TARGET_KEY = "stance_default_target"
MAX_LENGTH_KEY = "stance_max_length"
# the temperature T that StanceClassifier divides log-probabilities by (fitted on dev; labels unchanged)
TEMPERATURE_KEY = "stance_temperature"


def member_name(seed: int) -> str:
    return f"seed-{seed}"


@dataclass(frozen=True)
class ModelDirectory:
    """A saved model directory, checked to exist and to hold a ``config.json``."""

    path: Path

    @classmethod
    def open(cls, path: str | Path) -> "ModelDirectory":
        """The model directory at ``path``; a run directory resolves to its ``model/``."""
        path = Path(path)
        if not path.is_dir():
            raise StanceError(f"model directory not found: {path}")
        if not (path / CONFIG_FILE).is_file() and (path / MODEL_DIRNAME / CONFIG_FILE).is_file():
            path = path / MODEL_DIRNAME  # the likeliest slip: the run directory instead of its model/
        if not (path / CONFIG_FILE).is_file():
            raise StanceError(f"{path}: not a model directory (no {CONFIG_FILE}); give the model/ folder that stance-train wrote")
        return cls(path)

    def config(self) -> dict:
        try:
            return json.loads((self.path / CONFIG_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StanceError(f"{self.path / CONFIG_FILE}: cannot read ({exc})") from None

    @property
    def default_target(self) -> str | None:
        return self.config().get(DEFAULT_TARGET_KEY)

    @property
    def max_length(self) -> int | None:
        return self.config().get(MAX_LENGTH_KEY)

    @property
    def temperature(self) -> float | None:
        return self.config().get(TEMPERATURE_KEY)

    def member_dirs(self) -> list[Path]:
        members = self.path / MEMBERS_DIRNAME
        return sorted(p for p in members.iterdir() if p.is_dir()) if members.is_dir() else []

    @property
    def linear_dir(self) -> Path | None:
        linear = self.path / LINEAR_DIRNAME
        return linear if linear.is_dir() else None

    def check_weights(self, allow_pickle: bool = False) -> None:
        """Refuse weights that are absent, truncated, or only a pickle (which can run code when loaded)."""
        safetensors = sorted(self.path.glob("*.safetensors"))
        for path in safetensors:
            check_safetensors(path)
        if safetensors:
            return
        pickles = sorted(p.name for p in self.path.iterdir() if p.suffix in PICKLE_SUFFIXES)
        if not pickles:
            raise StanceError(f"{self.path}: no weights ({WEIGHTS_FILE}) beside {CONFIG_FILE}")
        if not allow_pickle:
            raise StanceError(
                f"{self.path}: its weights are only a pickle ({', '.join(pickles)}), which can run code when loaded; "
                "convert them to safetensors, or pass --allow-pickle (allow_pickle=True) if you trust where they come from"
            )

    def export_record(self) -> dict:
        """What stance-export recorded (``export.json``), checked to be of these weights.

        Raises StanceError saying why there is no usable export: none was written, or the
        weights changed since (an export of other weights would give other labels).
        """
        return self._record_of_these_weights(self.path / EXPORT_FILE, "exported model", "the export", f"stance-export {self.path}")

    def int8_record(self) -> dict:
        """What ``stance-export --int8`` recorded (``openvino/int8/int8.json``), checked to be of these weights."""
        self.export_record()
        return self._record_of_these_weights(self.path / OPENVINO_DIRNAME / OPENVINO_INT8_DIRNAME / INT8_FILE, "int8 model",
                                             "the int8 model", f"stance-export {self.path} --int8")

    def _record_of_these_weights(self, path: Path, what: str, the_what: str, remedy: str) -> dict:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StanceError(f"{self.path} has no {what}: run {remedy}") from None
        except (OSError, ValueError) as exc:
            raise StanceError(f"{path}: cannot read ({exc}); run {remedy}") from None
        if record.get("weights") != weights_fingerprint(self.path / WEIGHTS_FILE):
            raise StanceError(f"{self.path}: {the_what} is of other weights than {WEIGHTS_FILE}; run {remedy} again")
        return record

    def files(self) -> list[Path]:
        """Every file of the model, members and linear part included, in a stable order.

        OpenVINO's compiled-graph caches are left out: they grow on a new CPU without the model changing.
        """
        return sorted(p for p in self.path.rglob("*") if p.is_file() and not _in_openvino_cache(p.relative_to(self.path)))


def check_safetensors(path: Path) -> None:
    """A safetensors file is an 8-byte header length, a JSON header and the tensors' bytes: check that they are all there."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            if length > size - 8:
                raise ValueError
            header = json.loads(handle.read(length))
        expected = 8 + length + max((entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError):
        raise StanceError(f"{path}: not a readable safetensors file (damaged, or cut short at {size:,} bytes); copy it again or train again") from None
    if size != expected:
        raise StanceError(f"{path}: truncated or damaged ({size:,} bytes where its header promises {expected:,}); copy it again or train again")
def _in_openvino_cache(relative: Path) -> bool:
    return relative.parent.name == OPENVINO_CACHE_DIRNAME and OPENVINO_DIRNAME in relative.parts[:-2]


def weights_fingerprint(path: Path) -> dict:
    """Size and a hash of the first and last MiB: cheap at every load, and any retraining changes both ends."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(2**20)
            handle.seek(max(size - 2**20, 0))
            tail = handle.read()
    except OSError:
        return {}
    return {"size": size, "sha256_ends": hashlib.sha256(head + tail).hexdigest()}


def write_metrics(model_dir: str | Path, metrics: dict) -> Path:
    path = Path(model_dir) / METRICS_FILE
    path.write_text(json.dumps(metrics, indent=2))
    return path


def set_config_keys(model_dir: str | Path, values: dict) -> Path:
    """Add stance's keys to a saved ``config.json`` (transformers ignores keys it does not know)."""
    path = Path(model_dir) / CONFIG_FILE
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(values)
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def staging_dir(final: str | Path) -> Path:
    """Where a model directory is assembled before it appears under its final name."""
    final = Path(final)
    return final.with_name(final.name + STAGING_SUFFIX)


def publish(staging: str | Path, final: str | Path) -> Path:
    """Replace ``final`` with the finished ``staging`` directory by a rename (same parent, so atomic)."""
    final = Path(final)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    return final
