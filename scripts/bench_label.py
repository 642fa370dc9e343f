"""Labeling speed, agreement and memory, measured in one run on one trained model.

    python scripts/bench_label.py --model runs/default/model [--rss-model DIR] [-n 2000]

Measures statements/s of ``transformers.pipeline(batch_size=32)``, of
``StanceClassifier.predict`` at each precision and of ``stance-label`` end to end (file
in, file out, process start included) on those statements and on a longer file of them
repeated, and with ``--engine ray`` (2 actors on a Ray started for the job) on both files,
whence each engine's start-up seconds and steady rows/s; the agreement of each with fp32
labels; and the peak RSS of ``stance-label`` on 20k and 200k rows. The timed methods run in interleaved rounds and each keeps its best round, so a burst
of load on a shared machine hurts them alike. Statements: the bundled
corpus, topped up with RUW tweets (read from ``../shared/datasets/ruw`` at run time) to
``-n``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from stance import StanceClassifier
from stance.config import corpus_path
from stance.io.checks import text_problem
from stance.io.readers import read_frame

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("STANCE_DATASETS", REPO.parent / "shared" / "datasets"))
RUW_TARGET = "Ukraine"  # RUW's "Stance 2" is the tweet's stance toward Ukraine
PRECISIONS = ("fp32", "bf16", "int8")
RAY_CHUNK_SIZE = 250  # rows a Ray actor labels at a time: a 1,000-row file keeps 2 actors busy


def statements(n: int) -> tuple[pd.DataFrame, str]:
    """``n`` real statements with their targets, and where they came from."""
    frames, sources = [], []
    for split in ("train", "dev", "test"):
        path = Path(corpus_path(f"troop_deployment/{split}.csv"))
        if path.is_file():
            frames.append(read_frame(path)[["text", "target"]])
    if frames:
        sources.append(f"{sum(map(len, frames)):,} bundled corpus")
    have = sum(map(len, frames))
    ruw = sorted((DATASETS / "ruw").glob("*.csv"))
    if have < n and ruw:
        tweets = pd.concat([read_frame(path)["Tweet"] for path in ruw], ignore_index=True)
        tweets = tweets[[text_problem(text) is None for text in tweets]].drop_duplicates()[: n - have]
        frames.append(pd.DataFrame({"text": tweets, "target": RUW_TARGET}))
        sources.append(f"{len(tweets):,} RUW tweets")
    table = pd.concat(frames, ignore_index=True)[:n] if frames else pd.DataFrame()
    if len(table) < n:
        sys.exit(f"only {len(table)} statements found (bundled corpus, {DATASETS / 'ruw'}); need {n}")
    return table.reset_index(drop=True), " + ".join(sources)


# Runs a command and prints its peak RSS. A child forked from this (large) process would
# report this process's RSS as its own peak, so the child is forked from a small one.
PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def run_label(model: str, source: Path, output: Path, batch_size: int, *options: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one stance-label process (of its driver, with ``--engine ray``)."""
    script = shutil.which("stance-label", path=str(Path(sys.executable).parent)) or "stance-label"
    command = [script, "--model", model, str(source), "-o", str(output), "--target-column", "target",
               "--batch-size", str(batch_size), "--quiet", *options]
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_RSS, *command], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"stance-label failed with exit code {result.returncode}: {result.stderr.strip()}")
    return seconds, int(result.stdout.split()[-1]) * 1024  # Linux reports kilobytes


def tiny_model(work: Path) -> str:
    """A tiny BERT trained for a few steps on the bundled corpus (as the tests do)."""
    from stance.config import compose
    from stance.training import train

    with contextlib.redirect_stdout(io.StringIO()):  # the Trainer prints its log dicts
        return train(compose("train", ["model=tiny", "trainer=fast", f"output_dir={work / 'tiny'}"]))["model_dir"]


def cpu_name() -> str:
    """The CPU's model name and which of its units multiply bf16 (they decide precision=auto)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    units = [flag for flag in ("amx_bf16", "avx512_bf16", "avx512_vnni") if f" {flag}" in info]
    return f"{name or platform.machine()} ({', '.join(units) or 'no bf16/int8 units'})"


def agreement(labels: list[str], reference: list[str]) -> float:
    """Share of ``labels`` equal to ``reference``; a longer file repeats the statements in order."""
    return sum(label == reference[i % len(reference)] for i, label in enumerate(labels)) / len(labels)


def write_repeated(table: pd.DataFrame, n_rows: int, path: Path) -> Path:
    """A CSV of ``n_rows`` rows: the statements over and over, in order."""
    table.iloc[[i % len(table) for i in range(n_rows)]].to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model directory written by stance-train")
    parser.add_argument("--rss-model", help="model for the memory runs (default: --model); 'tiny' trains a tiny "
                        "BERT on the bundled corpus first, so 200k rows take a minute and the runs measure the streaming")
    parser.add_argument("-n", type=int, default=2000, help="statements to time (default: 2000)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved timing rounds; each method keeps its best")
    parser.add_argument("--long-rows", type=int, default=20_000,
                        help="rows of the longer file that stance-label labels once, so that process start is "
                        "amortised as in real jobs (default: 20000; 0 skips it)")
    parser.add_argument("--ray-actors", type=int, default=2,
                        help="also run stance-label --engine ray, on a Ray started on this machine with this many actors, "
                        "on both files (default: 2; 0 skips it, as does a missing Ray)")
    parser.add_argument("--batch-size", type=int, default=64, help="StanceClassifier batch size (default: 64)")
    parser.add_argument("--rss-rows", type=int, nargs=2, default=(20_000, 200_000), metavar=("SMALL", "LARGE"),
                        help="row counts of the two memory runs (default: 20000 200000)")
    parser.add_argument("--threads", type=int,
                        help="torch threads for every method, stance-label included (default: torch's own choice); "
                        "1 gives comparable numbers on a machine whose cores other jobs share")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # for each stance-label process
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()  # the tiny model's training maps its splits
    table, origin = statements(args.n)
    texts, targets = table["text"].tolist(), table["target"].tolist()
    work = Path(tempfile.mkdtemp(prefix="bench_label_"))
    rss_model = tiny_model(work) if args.rss_model == "tiny" else args.rss_model or args.model
    source = work / "statements.csv"
    table.to_csv(source, index=False)

    print("command: python " + " ".join(map(shlex.quote, sys.argv)))
    print(f"statements: {len(table):,} ({origin}), mean {table['text'].str.len().mean():.0f} characters")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f} at start")

    classifiers = {p: StanceClassifier.from_pretrained(args.model, precision=p) for p in PRECISIONS}
    auto = StanceClassifier.from_pretrained(args.model).precision
    pipe = pipeline("text-classification", model=args.model, device="cpu")
    pairs = [{"text": target, "text_pair": text} for text, target in zip(texts, targets)]
    pipe_kwargs = {"batch_size": 32, "truncation": "only_second", "max_length": classifiers["fp32"].predictor.max_length}
    for clf in classifiers.values():  # first calls build kernels; no method pays for that in its timing
        clf.predict(texts[:64], targets[:64])
    pipe(pairs[:32], **pipe_kwargs)

    best: dict[str, float] = {}
    labels: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        started = time.perf_counter()
        labels["pipeline"] = [result["label"] for result in pipe(pairs, **pipe_kwargs)]
        best["pipeline"] = min(best.get("pipeline", float("inf")), time.perf_counter() - started)
        for precision, clf in classifiers.items():
            started = time.perf_counter()
            labels[precision] = clf.predict(texts, targets, batch_size=args.batch_size)
            best[precision] = min(best.get(precision, float("inf")), time.perf_counter() - started)
        seconds, _ = run_label(args.model, source, work / "labeled.csv", args.batch_size)
        best["end_to_end"] = min(best.get("end_to_end", float("inf")), seconds)
        labels["end_to_end"] = pd.read_csv(work / "labeled.csv", dtype=str)["stance"].tolist()
    with_ray = bool(args.long_rows and args.ray_actors and importlib.util.find_spec("ray"))
    if args.long_rows:
        long_file = write_repeated(table, args.long_rows, work / "long.csv")
        best["end_to_end_long"], _ = run_label(args.model, long_file, work / "long.out.csv", args.batch_size)
        labels["end_to_end_long"] = pd.read_csv(work / "long.out.csv", dtype=str)["stance"].tolist()
    if with_ray:  # each actor runs --threads torch threads (default 1) and takes whole chunks, so the chunks are small
        ray_options = ("--engine", "ray", "--num-actors", str(args.ray_actors), "--actor-cpus", str(args.threads or 1),
                       "--chunk-size", str(RAY_CHUNK_SIZE))
        for key, file in (("ray", source), ("ray_long", long_file)):
            best[key], _ = run_label(args.model, file, work / "ray.out.csv", args.batch_size, *ray_options)
            labels[key] = pd.read_csv(work / "ray.out.csv", dtype=str)["stance"].tolist()

    rows = [
        ("transformers.pipeline(batch_size=32), fp32", "pipeline"),
        *((f"StanceClassifier.predict, {p}", p) for p in PRECISIONS),
        (f"stance-label end to end, auto = {auto}", "end_to_end"),
    ]
    if args.long_rows:
        rows.append((f"stance-label end to end, {args.long_rows:,} rows (the statements repeated), once", "end_to_end_long"))
    if with_ray:
        rows.append((f"stance-label --engine ray --chunk-size {RAY_CHUNK_SIZE}, {args.ray_actors} actors on a Ray started for the job, "
                     f"{len(texts):,} rows, once", "ray"))
        rows.append((f"stance-label --engine ray, the same {args.long_rows:,} rows, once", "ray_long"))
    base = len(texts) / best["pipeline"]
    print(f"\n| method ({args.model}) | statements/s | × pipeline | labels as fp32 |")
    print("|---|---:|---:|---:|")
    for name, key in rows:
        rate = len(labels[key]) / best[key]
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f} | {agreement(labels[key], labels['fp32']):.2%} |")
    if with_ray:  # seconds = start + rows / rate, from the two file sizes
        print(f"\nstart (seconds before the rows flow) and steady rows/s, from the {len(texts):,}- and {args.long_rows:,}-row runs:")
        for name, short, long in (("local engine", "end_to_end", "end_to_end_long"), ("Ray engine", "ray", "ray_long")):
            rate = (args.long_rows - len(texts)) / (best[long] - best[short])
            print(f"- {name}: {best[short] - len(texts) / rate:.1f} s + {rate:,.0f} rows/s")

    memory = {}
    small, large = args.rss_rows
    model_name = "tiny BERT trained by this script" if args.rss_model == "tiny" else rss_model
    print(f"\n| stance-label, rows ({model_name}) | peak RSS | rows/s |")
    print("|---|---:|---:|")
    for n_rows in (small, large):
        big = write_repeated(table, n_rows, work / f"rows_{n_rows}.csv")
        seconds, memory[n_rows] = run_label(rss_model, big, work / "big.out.csv", args.batch_size)
        print(f"| {n_rows:,} | {memory[n_rows] / 2**20:,.0f} MiB | {n_rows / seconds:,.0f} |")
    print(f"| ratio {large:,} / {small:,} | {memory[large] / memory[small]:.2f} | |")
    print(f"load average {os.getloadavg()[0]:.1f} at end")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
