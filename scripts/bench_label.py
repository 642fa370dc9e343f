"""Labeling speed, agreement, start time and memory of every backend, measured in one run on one trained model.

    python scripts/bench_label.py --model runs/default/model [--rss-model tiny] [-n 2000] [--tweets 2000]

On two sets of pairs, the bundled statements (``-n``) and TweetEval tweets with their
targets (short texts, ``--tweets``, read from ``../shared/datasets/tweeteval-stance``):
statements/s of ``transformers.pipeline(batch_size=32)``, of ``StanceClassifier.predict``
on each backend and precision, and of ``stance-label`` end to end on each backend (CSV in,
CSV out, process start included); the share of labels equal to torch fp32's; the peak RSS of
each stance-label run. Then the wall time of stance-label on a 10-row file per backend,
once on a longer file, and its peak RSS on 20k and 200k rows. OpenVINO int8 is measured
where the model has its checked int8 copy (``stance-export MODEL --int8``); ONNX Runtime
int8 (dynamic, per channel) although stance does not offer it, to show why. With Ray installed,
``stance-label --engine ray`` (``--ray-actors`` actors on a Ray started for the job) runs on
the statements and on the longer file, whence each engine's start-up seconds and steady rows/s. The timed methods
run in interleaved rounds and each keeps its best round, so a burst of load on a shared
machine hurts them alike. The model needs its export (stance-train writes it; stance-export).
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
from stance.artifacts import ONNX_FILE, ModelDirectory
from stance.config import corpus_path
from stance.errors import StanceError
from stance.hardware import cpu_flags, cpu_model_name
from stance.io.checks import text_problem
from stance.io.readers import read_frame

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("STANCE_DATASETS", REPO.parent / "shared" / "datasets"))
# (backend, precision) of each in-process method; torch fp32 is the reference for agreement
IN_PROCESS = [("torch", "fp32"), ("torch", "bf16"), ("torch", "int8"), ("onnxruntime", "fp32"), ("openvino", "fp32"), ("openvino", "bf16")]
END_TO_END = [("torch", "auto"), ("onnxruntime", "auto"), ("openvino", "auto")]  # stance-label --backend X --precision Y
INT8 = ("openvino", "int8")  # measured in both where the model has an int8 copy
RAY_CHUNK_SIZE = 250  # rows a Ray actor labels at a time: a 1,000-row file keeps 2 actors busy


def statements(n: int) -> tuple[pd.DataFrame, str]:
    """``n`` statements of the bundled corpus with their targets."""
    frames = [read_frame(Path(corpus_path(f"troop_deployment/{split}.csv")))[["text", "target"]] for split in ("train", "dev", "test")]
    table = pd.concat(frames, ignore_index=True)
    table = table[[text_problem(text) is None for text in table["text"]]].drop_duplicates("text")[:n]
    if len(table) < n:
        sys.exit(f"only {len(table)} statements in the bundled corpus; need {n}")
    return table.reset_index(drop=True), f"{n:,} statements of the bundled corpus"


def tweets(n: int) -> tuple[pd.DataFrame, str]:
    """``n`` TweetEval stance tweets (all splits, shuffled with a fixed seed) with SemEval's target phrases."""
    from stance.config import compose

    targets = compose("eval", ["data=tweeteval_stance"]).data.targets
    root = DATASETS / "tweeteval-stance"
    rows = [
        (text, phrase)
        for folder, phrase in targets.items()
        for split in ("train", "val", "test")
        for text in (root / folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    ] if root.is_dir() else []
    table = pd.DataFrame(rows, columns=["text", "target"]).sample(frac=1.0, random_state=0)[:n]
    if len(table) < n:
        sys.exit(f"only {len(table)} tweets found in {root}; need {n}")
    return table.reset_index(drop=True), f"{n:,} TweetEval stance tweets"


# Runs a command and prints its peak RSS. A child forked from this (large) process would
# report this process's RSS as its own peak, so the child is forked from a small one.
PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def run_label(model: str, source: Path, output: Path, batch_size: int, backend: str = "auto", *options: str,
              precision: str = "auto") -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one stance-label process (of its driver, with ``--engine ray``)."""
    script = shutil.which("stance-label", path=str(Path(sys.executable).parent)) or "stance-label"
    command = [script, "--model", model, str(source), "-o", str(output), "--target-column", "target",
               "--batch-size", str(batch_size), "--backend", backend, "--precision", precision, "--quiet", *options]
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", PEAK_RSS, *command], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"stance-label failed with exit code {result.returncode}: {result.stderr.strip()}")
    return seconds, int(result.stdout.split()[-1]) * 1024  # Linux reports kilobytes


def tiny_model(work: Path) -> str:
    """A tiny BERT trained for a few steps on the bundled corpus (as the tests do), exported as every run is."""
    from stance.config import compose
    from stance.training import train

    with contextlib.redirect_stdout(io.StringIO()):  # the Trainer prints its log dicts
        return train(compose("train", ["model=tiny", "trainer=fast", f"output_dir={work / 'tiny'}"]))["model_dir"]


def onnxruntime_int8(model: str, work: Path):
    """The exported graph with dynamic per-channel int8 weights, as a predictor (measured, not offered)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from stance.inference.exported_backend import ExportedPredictor
    from stance.inference.runtimes import open_graph
    from stance.inference.tokens import Encoder
    from stance.labels import label_columns

    directory = ModelDirectory.open(model)
    folder = work / "int8"
    folder.mkdir()
    quantize_dynamic(str(directory.path / ONNX_FILE), str(folder / ONNX_FILE), per_channel=True, weight_type=QuantType.QInt8)
    encoder = Encoder(directory.path, directory.max_length, pairs=True)
    return ExportedPredictor(open_graph(folder, "onnxruntime", "fp32"), encoder, label_columns(directory.config()["id2label"]),
                             backend="onnxruntime", precision="int8")


def cpu_name() -> str:
    """The CPU's model name and which of its units multiply bf16 (they decide precision=auto)."""
    units = [flag for flag in ("amx_bf16", "avx512_bf16", "avx512_vnni") if flag in cpu_flags()]
    return f"{cpu_model_name() or platform.machine()} ({', '.join(units) or 'no bf16/int8 units'})"


def agreement(labels: list[str], reference: list[str]) -> float:
    """Share of ``labels`` equal to ``reference``; a longer file repeats the statements in order."""
    return sum(label == reference[i % len(reference)] for i, label in enumerate(labels)) / len(labels)


def write_repeated(table: pd.DataFrame, n_rows: int, path: Path) -> Path:
    """A CSV of ``n_rows`` rows: the statements over and over, in order."""
    table.iloc[[i % len(table) for i in range(n_rows)]].to_csv(path, index=False)
    return path


def bench_set(name: str, table: pd.DataFrame, methods: dict, ends: dict, pipe, args, work: Path) -> None:
    """Time every method on one set of pairs in interleaved rounds and print its table."""
    texts, targets = table["text"].tolist(), table["target"].tolist()
    pairs = [{"text": target, "text_pair": text} for text, target in zip(texts, targets)]
    pipe_kwargs = {"batch_size": 32, "truncation": "only_second", "max_length": ModelDirectory.open(args.model).max_length or 512}
    source = work / f"{name}.csv"
    table.to_csv(source, index=False)
    best: dict[str, float] = {}
    labels: dict[str, list[str]] = {}
    memory: dict[str, int] = {}

    def timed(key, run):
        started = time.perf_counter()
        labels[key] = run()
        best[key] = min(best.get(key, float("inf")), time.perf_counter() - started)

    for _ in range(args.rounds):
        timed("pipeline", lambda: [result["label"] for result in pipe(pairs, **pipe_kwargs)])
        for key, clf in methods.items():
            timed(key, lambda: clf.predict(texts, targets, batch_size=args.batch_size))
        for backend, precision in ends:
            key = f"e2e {backend} {precision}"
            seconds, memory[key] = run_label(args.model, source, work / "labeled.csv", args.batch_size, backend, precision=precision)
            best[key] = min(best.get(key, float("inf")), seconds)
            labels[key] = pd.read_csv(work / "labeled.csv", dtype=str)["stance"].tolist()

    reference = labels["torch fp32"]
    base = len(texts) / best["pipeline"]
    print(f"\n{name}: mean {table['text'].str.len().mean():.0f} characters")
    print(f"| method ({args.model}) | statements/s | × pipeline | labels as torch fp32 | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    rows = [("transformers.pipeline(batch_size=32), fp32", "pipeline", "")]
    rows += [(f"StanceClassifier.predict, {key}", key, "") for key in methods]
    rows += [(f"stance-label end to end, --backend {backend} --precision {precision} ({resolved})", f"e2e {backend} {precision}",
              f"{memory[f'e2e {backend} {precision}'] / 2**20:,.0f} MiB") for (backend, precision), resolved in ends.items()]
    for label, key, rss in rows:
        rate = len(labels[key]) / best[key]
        print(f"| {label} | {rate:,.0f} | {rate / base:.2f} | {agreement(labels[key], reference):.2%} | {rss} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model directory written by stance-train (with its export)")
    parser.add_argument("--rss-model", help="model for the memory runs (default: --model); 'tiny' trains a tiny "
                        "BERT on the bundled corpus first, so 200k rows take a minute and the runs measure the streaming")
    parser.add_argument("-n", type=int, default=2000, help="statements to time (default: 2000)")
    parser.add_argument("--tweets", type=int, default=2000, help="TweetEval tweets to time (default: 2000; 0 skips them)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved timing rounds; each method keeps its best")
    parser.add_argument("--long-rows", type=int, default=20_000,
                        help="rows of the longer file that stance-label (auto) labels once, so that process start is "
                        "amortised as in real jobs (default: 20000; 0 skips it)")
    parser.add_argument("--ray-actors", type=int, default=2,
                        help="also run stance-label --engine ray, on a Ray started on this machine with this many actors, "
                        "on the statements and the longer file (default: 2; 0 skips it, as do --long-rows 0 and a missing Ray)")
    parser.add_argument("--batch-size", type=int, default=64, help="StanceClassifier batch size (default: 64)")
    parser.add_argument("--rss-rows", type=int, nargs=2, default=(20_000, 200_000), metavar=("SMALL", "LARGE"),
                        help="row counts of the two memory runs (default: 20000 200000)")
    parser.add_argument("--threads", type=int,
                        help="threads for every method, stance-label included (default: each library's own choice); "
                        "1 gives comparable numbers on a machine whose cores other jobs share")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)  # read by stance's ONNX Runtime / OpenVINO backends and each stance-label
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    datasets.disable_progress_bars()  # the tiny model's training maps its splits
    work = Path(tempfile.mkdtemp(prefix="bench_label_"))
    sets = {"statements": statements(args.n)}
    if args.tweets:
        sets["tweets"] = tweets(args.tweets)

    print("command: python " + " ".join(map(shlex.quote, sys.argv)))
    print("sets: " + "; ".join(origin for _, origin in sets.values()))
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f} at start")

    try:
        ModelDirectory.open(args.model).int8_record()
        in_process, end_to_end = IN_PROCESS + [INT8], END_TO_END + [INT8]
    except StanceError as exc:
        print(f"openvino int8 not measured: {exc}")
        in_process, end_to_end = IN_PROCESS, END_TO_END
    methods = {f"{backend} {precision}": StanceClassifier.from_pretrained(args.model, backend=backend, precision=precision)
               for backend, precision in in_process}
    methods["onnxruntime int8 (not offered)"] = StanceClassifier(
        onnxruntime_int8(args.model, work), default_target=None, device="cpu", precision="int8", backend="onnxruntime")
    # what each stance-label run resolves to
    ends = {(backend, precision): StanceClassifier.from_pretrained(args.model, backend=backend, precision=precision).precision
            for backend, precision in end_to_end}
    auto = StanceClassifier.from_pretrained(args.model)
    print(f"backend=auto here: {auto.backend} {auto.precision}")
    pipe = pipeline("text-classification", model=args.model, device="cpu")
    table = sets["statements"][0]
    for clf in methods.values():  # first calls build kernels; no method pays for that in its timing
        clf.predict(table["text"][:64].tolist(), table["target"][:64].tolist())
    pipe([{"text": t, "text_pair": x} for x, t in zip(table["text"][:32], table["target"][:32])], batch_size=32)

    for name, (table, _) in sets.items():
        bench_set(name, table, methods, ends, pipe, args, work)

    table = sets["statements"][0]
    ten = write_repeated(table, 10, work / "ten.csv")
    print("\n| stance-label on a 10-row file | wall (process start to exit) | peak RSS |")
    print("|---|---:|---:|")
    for (backend, precision), resolved in ends.items():
        seconds, rss = min(run_label(args.model, ten, work / "ten.out.csv", args.batch_size, backend, precision=precision)
                           for _ in range(args.rounds))
        print(f"| --backend {backend} --precision {precision} ({resolved}) | {seconds:.2f} s | {rss / 2**20:,.0f} MiB |")
    if args.long_rows:
        long_file = write_repeated(table, args.long_rows, work / "long.csv")
        seconds, _ = run_label(args.model, long_file, work / "long.out.csv", args.batch_size)
        print(f"\nstance-label (auto) on {args.long_rows:,} rows (the statements repeated), once: {args.long_rows / seconds:,.0f} rows/s")
    if args.long_rows and args.ray_actors and importlib.util.find_spec("ray"):
        # each actor runs --threads threads (default 1) and takes whole chunks, so the chunks are small
        ray_options = ("--engine", "ray", "--num-actors", str(args.ray_actors), "--actor-cpus", str(args.threads or 1),
                       "--chunk-size", str(RAY_CHUNK_SIZE))
        short_file = write_repeated(table, len(table), work / "short.csv")
        print(f"\nstart (seconds before the rows flow) and steady rows/s, from the {len(table):,}- and {args.long_rows:,}-row runs (auto):")
        for name, options in (("local engine", ()), (f"Ray engine, {args.ray_actors} actors", ray_options)):
            short, _ = run_label(args.model, short_file, work / "engine.out.csv", args.batch_size, "auto", *options)
            long, _ = run_label(args.model, long_file, work / "engine.out.csv", args.batch_size, "auto", *options)
            rate = (args.long_rows - len(table)) / (long - short)  # seconds = start + rows / rate
            print(f"- {name}: {short - len(table) / rate:.1f} s + {rate:,.0f} rows/s")

    rss_model = tiny_model(work) if args.rss_model == "tiny" else args.rss_model or args.model
    memory = {}
    small, large = args.rss_rows
    model_name = "tiny BERT trained by this script" if args.rss_model == "tiny" else rss_model
    print(f"\n| stance-label (auto), rows ({model_name}) | peak RSS | rows/s |")
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
