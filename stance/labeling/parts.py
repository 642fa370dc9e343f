"""An unfinished labeling job on disk: a lock on the output, finished chunks as parts in a hidden
folder beside the output, a job file that says what they were made from, and the atomic join.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import shutil
from contextlib import contextmanager, suppress
from pathlib import Path

from stance.artifacts import weights_fingerprint
from stance.errors import StanceError
from stance.io.formats import STDIN

log = logging.getLogger(__name__)

JOB_FILE = "job.json"
WHOLE_HASH_LIMIT = 8 * 2**20
OWNER_FILE = "owner.json"  # which process holds the output's lock, for the message of a second one


def partial_dir(output: str | Path) -> Path:
    """Where an unfinished job keeps its finished chunks (hidden, beside the output)."""
    path = Path(output)
    return path.with_name(f".{path.name}.partial")


def lock_path(output: str | Path) -> Path:
    """The lock file of an output (hidden, beside it; it stays after the job, empty)."""
    path = Path(output)
    return path.with_name(f".{path.name}.lock")


@contextmanager
def output_lock(output: str | Path, input: str | Path):
    """Hold the output for this process: a second job on the same output fails at once, naming this one.

    Without the lock, a second job would discard the first one's parts and both would write
    a file mixing the two inputs.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(lock_path(output)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise StanceError(f"{output} is being written by another stance-label job{_owner(output)}; wait for it to end, or write to another -o") from None
    parts = partial_dir(output)
    try:
        parts.mkdir(exist_ok=True)
        owner = {"pid": os.getpid(), "input": str(input), "started": datetime.datetime.now().isoformat(timespec="seconds")}
        (parts / OWNER_FILE).write_text(json.dumps(owner))
        yield
    finally:
        (parts / OWNER_FILE).unlink(missing_ok=True)
        with suppress(OSError):
            parts.rmdir()  # only when empty: an unfinished job's parts stay for --resume
        lock.release()


def _owner(output) -> str:
    try:
        owner = json.loads((partial_dir(output) / OWNER_FILE).read_text())
        return f" (pid {owner['pid']}, labeling {owner['input']} since {owner['started']})"
    except (OSError, ValueError, KeyError, TypeError):
        return ""  # it holds the lock but has not written its name yet


def fingerprint(source: str | Path) -> dict:
    """Path, size and content hash of an input: an input edited in place is a different job, even at the same size and time."""
    if str(source) == STDIN:
        return {"path": STDIN}
    return {"path": str(Path(source).resolve()), "size": os.stat(source).st_size, "blake2b": file_hash(source)}


def model_files(directory) -> dict:
    """Size and content hash of each file of the model (members and linear part included).

    Files over WHOLE_HASH_LIMIT (weights and their exports) by their two ends instead: hashing
    the ~300 MB of a MiniLM with its export took longer than the rest of an exported
    stance-label start, and retraining or re-exporting changes both ends.
    """
    return {
        str(f.relative_to(directory.path)): [size, file_hash(f) if size <= WHOLE_HASH_LIMIT else weights_fingerprint(f)["sha256_ends"]]
        for f in directory.files()
        for size in [f.stat().st_size]
    }


def file_hash(path: str | Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "blake2b").hexdigest()  # about 1 GB/s: a second per GB of input


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
    if job_file.exists():
        log.warning("starting over: discarding the unfinished run in %s%s", parts, "" if resume else " (--resume continues it)")
        for path in parts.iterdir():
            if path.name != OWNER_FILE:
                path.unlink()
    elif resume:
        log.warning("nothing to resume for %s: starting from the first row", output)
    parts.mkdir(parents=True, exist_ok=True)
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
    with writing(temporary):
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)


def join_parts(writer, parts: Path, output: str) -> None:
    pieces = [parts / part_name(i) for i in range(finished_parts(parts))]
    joined = parts / "joined.tmp"
    with writing(output):
        with open(joined, "wb") as handle:
            writer.join(pieces, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(joined, output)  # same folder, so the rename is atomic
    shutil.rmtree(parts)


@contextmanager
def writing(path):
    """An OS error while writing names the file (a full disk says only "[Errno 28] No space left on device")."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise StanceError(f"cannot write {path}: {exc.strerror or exc}") from None
