"""An unfinished labeling job on disk: finished chunks as parts in a hidden folder beside the
output, a job file that says what they were made from, and the atomic join into the output.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from stance.errors import StanceError
from stance.io.formats import STDIN

log = logging.getLogger(__name__)

JOB_FILE = "job.json"


def partial_dir(output: str | Path) -> Path:
    """Where an unfinished job keeps its finished chunks (hidden, beside the output)."""
    path = Path(output)
    return path.with_name(f".{path.name}.partial")


def fingerprint(source: str | Path) -> dict:
    if str(source) == STDIN:
        return {"path": STDIN}
    stat = os.stat(source)
    return {"path": str(Path(source).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def model_files(directory) -> dict:
    """Size and time of each file of the model (members and linear part included): a model retrained in place is a different job."""
    return {str(f.relative_to(directory.path)): [f.stat().st_size, f.stat().st_mtime_ns] for f in directory.files()}


def prepare_parts(output: str, job: dict, resume: bool) -> Path:
    parts = partial_dir(output)
    job_file = parts / JOB_FILE
    if resume and job_file.is_file():
        previous = json.loads(job_file.read_text())
        changed = [key for key in job if previous.get(key) != job[key]]
        if changed:
            raise StanceError(
                f"cannot resume {output}: {', '.join(changed)} differ from the interrupted run; run without --resume to start over"
            )
        return parts
    if parts.exists():
        log.warning("starting over: discarding the unfinished run in %s%s", parts, "" if resume else " (--resume continues it)")
        shutil.rmtree(parts)
    elif resume:
        log.warning("nothing to resume for %s: starting from the first row", output)
    parts.mkdir(parents=True)
    write_part(job_file, lambda handle: handle.write(json.dumps(job, indent=2).encode()))
    return parts


def part_name(index: int) -> str:
    return f"{index:08d}.part"


def finished_parts(parts: Path) -> int:
    """How many chunks, from the first, have a complete part (parts appear only whole)."""
    done = 0
    while (parts / part_name(done)).is_file():
        done += 1
    return done


def write_part(path: Path, write) -> None:
    """Write through a temporary name and rename: a part exists whole or not at all."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def join_parts(writer, parts: Path, output: str) -> None:
    pieces = [parts / part_name(i) for i in range(finished_parts(parts))]
    joined = parts / "joined.tmp"
    with open(joined, "wb") as handle:
        writer.join(pieces, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(joined, output)  # same folder, so the rename is atomic
    shutil.rmtree(parts)
