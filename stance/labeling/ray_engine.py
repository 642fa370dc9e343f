"""The Ray engine of batch labeling (``stance-label --engine ray``).

A Ray Data pipeline reads the input with the same chunked reader and row checks as the local
engine (in a task pinned to this machine, where the file is), hands each chunk as one row to
a pool of actors that each load the model once (``map_batches`` with a callable class and an
``ActorPoolStrategy``), and gives the labeled chunks back in input order (``preserve_order``).
stance.labeling.job writes them with the same writers, parts and resume as the local engine.
A chunk is labeled whole by one actor, as the local engine labels it, so the two agree row for
row. The model's files travel to the actors through Ray's object store: the model directory,
like the input, only has to exist here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
from pathlib import Path

import pandas as pd

from stance.artifacts import ModelDirectory
from stance.errors import StanceError
from stance.io.readers import iter_chunks
from stance.labeling.chunks import ADDED_COLUMNS, ADDED_TYPES, label_rows, prepare_chunk

log = logging.getLogger(__name__)

READER_CPUS = 1  # Ray Data fuses the reader with the one-chunk-per-block split only at the default of 1 CPU
NODE_ID_LABEL = "ray.io/node-id"  # the label every Ray node carries with its id
# as the local engine makes them: a chunk whose rows all failed still has float probabilities
ADDED_DTYPES = {column: "float64" if kind == "float64" else object for column, kind in ADDED_TYPES.items()}


@contextlib.contextmanager
def ray_labels(directory: ModelDirectory, input, job: dict, *, skip: int, address: str | None, num_actors: int | None,
               actor_cpus: float, actor_gpus: float, classifier_options: dict):
    """A ``RayLabels``: the added columns of each chunk of ``input`` from chunk ``skip`` on, in order.

    Connects to the cluster at ``address`` (or ``RAY_ADDRESS``), else starts a Ray on this
    machine for the job, and shuts down what it started on leaving; a Ray this process had
    already started (``ray.init`` by the caller) is used as it is.
    """
    try:
        import ray
        import ray.data  # sets up its loggers, so this comes before setting their levels
    except ImportError:
        raise StanceError("--engine ray needs Ray Data: pip install 'stance[ray]'") from None
    if actor_cpus <= 0 or actor_gpus < 0 or (num_actors is not None and num_actors < 1):
        raise StanceError("Ray actors need more than 0 CPUs, at least 0 GPUs, and there must be at least one of them")
    # Ray's progress reports and the actors' own logs only with --debug; its warnings always
    verbose = log.isEnabledFor(logging.DEBUG)
    logging.getLogger("ray.data").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # it warns that we turned its bars off
    started_here = not ray.is_initialized()
    if started_here:
        options = {"log_to_driver": verbose, "logging_level": logging.INFO if verbose else logging.WARNING}
        if address or os.environ.get("RAY_ADDRESS"):
            ray.init(address=address, **options)
        else:  # room for the actors asked for and the reader, however few cores there are
            cpus = max(os.cpu_count() or 1, math.ceil((num_actors or 1) * actor_cpus) + READER_CPUS)
            ray.init(num_cpus=cpus, include_dashboard=False, **options)
    try:
        yield RayLabels(ray, directory, input, job, skip=skip, num_actors=num_actors, actor_cpus=actor_cpus,
                        actor_gpus=actor_gpus, classifier_options=classifier_options)
    finally:
        if started_here:
            ray.shutdown()


class RayLabels:
    """Iterate for the labeled chunks; ``precisions`` and ``devices`` say what the actors ran."""

    def __init__(self, ray, directory: ModelDirectory, input, job: dict, *, skip: int, num_actors: int | None,
                 actor_cpus: float, actor_gpus: float, classifier_options: dict):
        self.num_actors = num_actors or _actors_that_fit(ray.cluster_resources(), actor_cpus, actor_gpus)
        self._skip = skip
        self.precisions: set[str] = set()
        self.devices: set[str] = set()
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # the writer takes the chunks one after another
        context.enable_progress_bars = False  # stance-label draws its own
        reader = {"source": str(Path(input).resolve()), "job": job, "default_target": directory.default_target, "skip": skip}
        labeler = {"files": _model_files(directory), "options": classifier_options, "batch_size": job["batch_size"]}
        self._dataset = (
            ray.data.from_items([{"source": reader["source"]}])
            .map_batches(_read_chunks, fn_kwargs=reader, batch_size=1, batch_format="pandas",
                         label_selector={NODE_ID_LABEL: ray.get_runtime_context().get_node_id()})
            .repartition(target_num_rows_per_block=1)  # a block per chunk, so that the actors share them out
            .map_batches(_Labeler, fn_constructor_kwargs=labeler, batch_size=1, batch_format="pandas",
                         compute=ray.data.ActorPoolStrategy(size=self.num_actors), num_cpus=actor_cpus, num_gpus=actor_gpus)
        )

    def __iter__(self):
        for due, row in enumerate(self._dataset.iter_rows(), start=self._skip):
            if row["chunk"] != due:  # preserve_order is what keeps each label on its row: never write on without it
                raise RuntimeError(f"Ray handed back chunk {row['chunk']} where chunk {due} was due")
            self.precisions.add(row["precision"])
            self.devices.add(row["device"])
            yield pd.DataFrame({column: pd.Series(list(row[column]), dtype=ADDED_DTYPES[column]) for column in ADDED_COLUMNS})


def _actors_that_fit(resources: dict, actor_cpus: float, actor_gpus: float) -> int:
    """As many actors as the cluster holds now: one per GPU share with ``actor_gpus``, else per CPU share beside the reader."""
    if actor_gpus:
        return max(1, int(resources.get("GPU", 0) // actor_gpus))
    return max(1, int((resources.get("CPU", 0) - READER_CPUS) // actor_cpus))


def _read_chunks(batch: pd.DataFrame, *, source: str, job: dict, default_target: str | None, skip: int):
    """One row per chunk of ``source`` from chunk ``skip`` on: its index, and each row's text, target and error as lists."""
    for index, chunk in enumerate(iter_chunks(source, job["chunk_size"])):
        if index < skip:
            continue
        texts, targets, errors = prepare_chunk(chunk, job, default_target)
        yield pd.DataFrame({"chunk": [index], "text": [texts], "target": [targets], "error": [errors]})


class _Labeler:
    """An actor of the pool: loads the model once, then labels one chunk a call."""

    def __init__(self, files: dict[str, bytes], options: dict, batch_size: int):
        from stance.inference import StanceClassifier

        # the weights are in memory once loaded, so the unpacked copy can go at once
        with tempfile.TemporaryDirectory(prefix="stance-model-") as model_dir:
            for name, content in files.items():
                path = Path(model_dir, name)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            self.classifier = StanceClassifier.from_pretrained(model_dir, **options)
        self.batch_size = batch_size

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        row = batch.iloc[0]
        added = label_rows(self.classifier, _strings(row["text"]), _strings(row["target"]), _strings(row["error"]), self.batch_size)
        return pd.DataFrame({
            "chunk": [row["chunk"]],
            **{column: [added[column].tolist()] for column in ADDED_COLUMNS},
            "precision": [self.classifier.precision],
            "device": [str(self.classifier.device)],
        })


def _strings(values) -> list[str | None]:
    """A list column back from Arrow: its strings, and None where it had a null."""
    return [value if isinstance(value, str) else None for value in values]


def _model_files(directory: ModelDirectory) -> dict[str, bytes]:
    return {str(path.relative_to(directory.path)): path.read_bytes() for path in directory.files()}
