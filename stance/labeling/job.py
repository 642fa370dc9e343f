"""Batch labeling: stream a file through ``StanceClassifier`` and write it back with labels.

``label_file`` reads with the one loader's readers (``stance.io.readers.iter_chunks``), labels
each chunk and writes each finished chunk as a part file in a hidden folder beside the output
(stance.labeling.parts). The parts are joined into a temporary file that is renamed onto the
output, so a crash never leaves a partial file under the final name, and ``resume=True``
continues from the last finished part with a final file byte-identical to an uninterrupted run.
"""

from __future__ import annotations

import itertools
import logging
import sys
import time
from pathlib import Path

from stance.artifacts import ModelDirectory
from stance.errors import DataError, StanceError
from stance.inference import StanceClassifier
from stance.io.formats import STDIN, STDOUT, output_format, source_format
from stance.io.readers import iter_chunks
from stance.io.writers import make_writer
from stance.labeling.chunks import ADDED_TYPES, check_columns, label_chunk, tally
from stance.labeling.parts import finished_parts, fingerprint, join_parts, model_files, part_name, prepare_parts, write_part
from stance.labels import LABELS

log = logging.getLogger(__name__)


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
    precision: str = "auto",
    device: str = "auto",
    chunk_size: int = 4096,
    resume: bool = False,
    quiet: bool = False,
) -> dict:
    """Label every row of ``input`` and write ``output`` (format by extension; ``-`` is JSONL stdio).

    The output holds every input column unchanged and in order, then ``stance``,
    ``p_supportive``, ``p_reserved``, ``p_opposed`` and ``stance_error``: one output row
    per input row, in order. A row that cannot be labeled (empty, null or undecodable
    text, a malformed JSONL line, no target) gets an empty label and the reason in
    ``stance_error``. A row's target is its ``target_column`` cell, else ``target``, else
    the model's default target.

    Returns a summary: ``rows`` written, of which ``resumed_rows`` came from an interrupted
    run; over the rest, ``labeled``, ``errors`` (rows with a ``stance_error``), ``counts``
    per label and ``rows_per_second``; then seconds, output, precision, device.
    """
    started = time.perf_counter()
    output = str(output) if output is not None else default_output(input)
    out_format = output_format(output)
    if resume and (str(input) == STDIN or output == STDOUT):
        raise StanceError("--resume needs a file as input and as output (a stream cannot be replayed)")
    if chunk_size < 1 or batch_size < 1:
        raise StanceError("chunk size and batch size must be at least 1")
    in_format = source_format(input)
    if in_format not in ("csv", "tsv", "jsonl", "parquet"):
        raise DataError(f"{input}: label a CSV, TSV, JSONL or Parquet file (or - for JSONL on stdin)")

    directory = ModelDirectory.open(model_dir)
    classifier = StanceClassifier.from_pretrained(directory.path, device=device, precision=precision)
    if not target_column and not target and not classifier.default_target:
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
        "precision": classifier.precision,
        "device": str(classifier.device),
    }
    chunks = iter_chunks(input, chunk_size)
    first = next(chunks, None)
    if first is not None:
        # a wrong column fails here, before anything is written
        check_columns(first.frame, text_column, target_column, input)
        chunks = itertools.chain([first], chunks)
    # Parquet to Parquet keeps the input's column types; otherwise they come from the first chunk
    writer = make_writer(out_format, ADDED_TYPES, parquet_source=input if in_format == "parquet" else None)
    rows = resumed = 0
    counts = dict.fromkeys(LABELS, 0)
    progress = progress_bar(input, in_format, quiet)

    if output == STDOUT:
        sink = sys.stdout.buffer
        for index, chunk in enumerate(chunks):
            frame = label_chunk(classifier, chunk, job)
            writer.write(frame, chunk, sink, first=index == 0)
            sink.flush()
            rows += tally(frame, counts)
            progress.update(len(frame))
    else:
        parts = prepare_parts(output, job, resume)
        done = finished_parts(parts)
        for index, chunk in enumerate(chunks):
            writer.observe(chunk)  # columns (and a Parquet schema) come from the first chunk, finished or not
            if index < done:
                resumed += len(chunk.frame)
                progress.update(len(chunk.frame))
                continue
            frame = label_chunk(classifier, chunk, job)
            write_part(parts / part_name(index), lambda handle: writer.write(frame, chunk, handle, first=index == 0))
            rows += tally(frame, counts)
            progress.update(len(frame))
        join_parts(writer, parts, output)
    progress.close()

    seconds = time.perf_counter() - started
    labeled = sum(counts.values())
    return {
        "rows": rows + resumed,
        "labeled": labeled,
        "errors": rows - labeled,
        "counts": counts,
        "resumed_rows": resumed,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds, 1) if seconds else 0.0,
        "output": output,
        "precision": classifier.precision,
        "device": str(classifier.device),
    }


def progress_bar(input, in_format: str, quiet: bool):
    """A rows/s bar on an interactive terminal; nothing with quiet or when stderr is redirected."""
    from tqdm.auto import tqdm

    total = None
    if in_format == "parquet":
        import pyarrow.parquet as pq

        total = pq.ParquetFile(input).metadata.num_rows
    disable = quiet or not sys.stderr.isatty()
    return tqdm(total=total, unit=" rows", unit_scale=True, disable=disable, desc="labeling", smoothing=0.1)
