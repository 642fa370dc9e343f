"""Batch labeling: stream a file through ``StanceClassifier`` and write it back with labels.

``label_file`` reads with the one loader's readers (``stance.io.readers.iter_chunks``), labels
each chunk and writes each finished chunk as a part file in a hidden folder beside the output
(stance.labeling.parts). The parts are joined into a temporary file that is renamed onto the
output, so a crash never leaves a partial file under the final name, and ``resume=True``
continues from the last finished part with a final file byte-identical to an uninterrupted run.

The chunks are labeled in this process (``engine="local"``) or by a pool of Ray actors
(``engine="ray"``, stance.labeling.ray_engine); either way this process writes them.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from stance.artifacts import ModelDirectory
from stance.errors import DataError, StanceError
from stance.inference import StanceClassifier
from stance.io.formats import STDIN, STDOUT, output_format, source_format
from stance.io.readers import iter_chunks
from stance.io.writers import make_writer
from stance.labeling.chunks import ADDED_TYPES, check_columns, label_chunk, tally
from stance.labeling.parts import (
    finished_parts,
    fingerprint,
    join_parts,
    model_files,
    output_lock,
    part_name,
    prepare_parts,
    write_part,
    writing,
)
from stance.labeling.ray_engine import ray_labels
from stance.labels import LABELS

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")


def default_output(input: str | Path) -> str:
    """``data.csv`` -> ``data.labeled.csv`` beside it; stdin -> stdout."""
    if str(input) == STDIN:
        return STDOUT
    path = Path(input)
    return str(path.with_name(f"{path.stem}.labeled{path.suffix}"))


def label_file(
    model_dir: str | Path,
    input: str | Path,
    output: str | Path | None = None,
    *,
    text_column: str = "text",
    target_column: str | None = None,
    target: str | None = None,
    batch_size: int = 64,
    backend: str = "auto",
    precision: str = "auto",
    device: str = "auto",
    chunk_size: int = 4096,
    resume: bool = False,
    quiet: bool = False,
    allow_pickle: bool = False,
    engine: str = "local",
    ray_address: str | None = None,
    num_actors: int | None = None,
    actor_cpus: float = 1.0,
    actor_gpus: float = 0.0,
) -> dict:
    """Label every row of ``input`` and write ``output`` (format by extension; ``-`` is JSONL stdio).

    The output holds every input column unchanged and in order, then ``stance``,
    ``p_supportive``, ``p_reserved``, ``p_opposed`` and ``stance_error``: one output row
    per input row, in order. A row that cannot be labeled (empty, null or undecodable
    text, a malformed JSONL line, no target) gets an empty label and the reason in
    ``stance_error``. A row's target is its ``target_column`` cell, else ``target``, else
    the model's default target. ``allow_pickle`` loads a model saved only as a pickle
    (``pytorch_model.bin``), which can run code: only for a model from a source you trust.

    ``engine="ray"`` labels on a Ray cluster (``ray_address``; default: ``RAY_ADDRESS``, else
    a Ray started for this job on this machine) with ``num_actors`` actors of ``actor_cpus``
    CPUs and ``actor_gpus`` GPUs each; ``device`` and ``precision`` then apply on the actors.
    The output is the same as the local engine's.

    Returns a summary: ``rows`` written, of which ``resumed_rows`` came from an interrupted
    run; over the rest, ``labeled``, ``errors`` (rows with a ``stance_error``), ``counts``
    per label and ``rows_per_second``; then seconds, output, backend, precision, device.
    """
    started = time.perf_counter()
    in_format = source_format(input)
    if in_format not in ("csv", "tsv", "jsonl", "parquet"):
        if in_format == "hub":  # a name such as foo/bar that is no file: labeling reads files only
            raise DataError(f"no such file: {input}")
        raise DataError(f"{input}: label a CSV, TSV, JSONL or Parquet file (or - for JSONL on stdin)")
    output = str(output) if output is not None else default_output(input)
    out_format = output_format(output)
    if resume and (str(input) == STDIN or output == STDOUT):
        raise StanceError("--resume needs a file as input and as output (a stream cannot be replayed)")
    if chunk_size < 1 or batch_size < 1:
        raise StanceError("chunk size and batch size must be at least 1")
    if engine not in ENGINES:
        raise StanceError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "ray" and str(input) == STDIN:
        raise StanceError("--engine ray reads the input twice (Ray's reader, then the writer): give a file, not stdin")
    if output != STDOUT and not Path(output).parent.is_dir():
        raise StanceError(f"cannot write {output}: {Path(output).parent} is not a directory")
    with nullcontext() if output == STDOUT else output_lock(output, input):
        directory = ModelDirectory.open(model_dir)
        options = {"backend": backend, "device": device, "precision": precision, "allow_pickle": allow_pickle}
        # the Ray engine loads the model on its actors only
        classifier = StanceClassifier.from_pretrained(directory.path, **options) if engine == "local" else None
        if not target_column and not target and not directory.default_target:
            raise StanceError("this model has no default target: pass --target or --target-column")
        job = {
            "input": fingerprint(input),
            "model": {"path": str(directory.path.resolve()), "files": model_files(directory)},
            "output_format": out_format,
            "text_column": text_column,
            "target_column": target_column,
            "target": target,
            "chunk_size": chunk_size,
            "batch_size": batch_size,
            "engine": engine,
            # what auto resolved to here; Ray actors resolve it where they run
            "backend": classifier.backend if classifier else backend,
            "precision": classifier.precision if classifier else precision,
            "device": str(classifier.device) if classifier else device,
        }
        chunks = iter_chunks(input, chunk_size)
        first = next(chunks, None)
        if first is not None:
            # a wrong column fails here, before anything is written
            check_columns(first, text_column, target_column, input)
            chunks = itertools.chain([first], chunks)
        # Parquet to Parquet keeps the input's column types; otherwise they come from the first chunk
        writer = make_writer(out_format, ADDED_TYPES, parquet_source=input if in_format == "parquet" else None)
        rows = resumed = 0
        counts = dict.fromkeys(LABELS, 0)
        progress = Progress(input, in_format, quiet)
        parts = None if output == STDOUT else prepare_parts(output, job, resume)
        done = finished_parts(parts) if parts else 0
        for chunk in itertools.islice(chunks, done):  # labeled by the interrupted run
            writer.observe(chunk)  # columns (and a Parquet schema) come from the first chunk, finished or not
            resumed += len(chunk.frame)
            progress.update(chunk)

        ray_job = ray_labels(
            directory, input, job, skip=done, address=ray_address, num_actors=num_actors,
            actor_cpus=actor_cpus, actor_gpus=actor_gpus, classifier_options=options,
        ) if engine == "ray" else nullcontext()
        with ray_job as frames:
            if frames is None:
                labeled = ((chunk, label_chunk(classifier, chunk, job)) for chunk in chunks)
            else:  # Ray hands the chunks back in input order
                labeled = ((chunk, frame.set_axis(chunk.frame.index)) for chunk, frame in zip(chunks, frames, strict=True))
            for index, (chunk, frame) in enumerate(labeled, start=done):
                if parts:
                    write_part(parts / part_name(index), lambda handle: writer.write(frame, chunk, handle, first=index == 0))
                else:
                    with writing("standard output"):
                        writer.write(frame, chunk, sys.stdout.buffer, first=index == 0)
                        sys.stdout.buffer.flush()
                rows += tally(frame, counts)
                progress.update(chunk)
        if parts:
            join_parts(writer, parts, output)
        progress.close()

    seconds = time.perf_counter() - started
    labeled_rows = sum(counts.values())
    return {
        "rows": rows + resumed,
        "labeled": labeled_rows,
        "errors": rows - labeled_rows,
        "counts": counts,
        "resumed_rows": resumed,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1) if seconds else 0.0,
        "output": output,
        "backend": classifier.backend if classifier else backend,
        "precision": classifier.precision if classifier else ", ".join(sorted(frames.precisions)) or precision,
        "device": str(classifier.device) if classifier else f"{frames.num_actors} Ray actors: {', '.join(sorted(frames.devices)) or device}",
    }


class Progress:
    """A rows/s bar on an interactive terminal; nothing with quiet or when stderr is redirected.

    Parquet says how many rows it holds; for CSV, TSV and JSONL files the total is estimated
    from the bytes read so far and the file's size, so the bar shows a percentage and an ETA.
    """

    def __init__(self, input, in_format: str, quiet: bool):
        from tqdm.auto import tqdm

        self.size = None
        total = None
        if in_format == "parquet":
            import pyarrow.parquet as pq

            total = pq.ParquetFile(input).metadata.num_rows
        elif str(input) != STDIN:
            self.size = os.path.getsize(input)
        disable = quiet or not sys.stderr.isatty()
        self.bar = tqdm(total=total, unit=" rows", unit_scale=True, disable=disable, desc="labeling", smoothing=0.1)
        self.rows = 0

    def update(self, chunk) -> None:
        self.rows += len(chunk.frame)
        if self.size and chunk.bytes_read:
            self.bar.total = max(self.rows, round(self.rows * self.size / chunk.bytes_read))
        self.bar.update(len(chunk.frame))

    def close(self) -> None:
        if self.size:
            self.bar.total = self.rows  # the last chunk has no byte count: the estimate ends exact
            self.bar.refresh()
        self.bar.close()
