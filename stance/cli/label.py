"""``stance-label``: label every row of a file (argparse shim over stance.labeling.label_file)."""

from __future__ import annotations

import logging
import sys

from stance.cli.errors import run_cli


def build_parser():
    import argparse

    parser = argparse.ArgumentParser(
        prog="stance-label",
        description="Label every row of a file as supportive, reserved or opposed toward a target. "
        "Output: the input's columns, then stance, p_supportive, p_reserved, p_opposed, stance_error.",
    )
    parser.add_argument("input", metavar="INPUT", help="CSV, TSV, JSONL or Parquet file; - reads JSONL from stdin")
    parser.add_argument("--model", required=True, metavar="DIR", help="a model directory written by stance-train")
    parser.add_argument("-o", "--output", metavar="OUTPUT",
                        help="file to write, format by extension; - writes JSONL to stdout (default: INPUT.labeled.EXT, stdout for -)")
    parser.add_argument("--text-column", default="text", help="column holding the statements (default: text)")
    parser.add_argument("--target-column", help="column holding each row's target (empty cells fall back to --target)")
    parser.add_argument("--target", help="the target for every row (default: the model's own target)")
    parser.add_argument("--batch-size", type=int, default=64, help="statements per forward pass (default: 64)")
    parser.add_argument("--backend", default="auto", choices=("auto", "torch", "onnxruntime", "openvino"),
                        help="auto (default): the exported model on OpenVINO (CPUs with bf16 units) or ONNX Runtime, "
                        "without importing torch, where stance-export wrote one and there is no GPU; else torch")
    parser.add_argument("--precision", default="auto",
                        help="auto (bf16 where the CPU/GPU runs it fast, else fp32), fp32, bf16 (torch, openvino), "
                        "int8 (the int8 OpenVINO model that stance-export --int8 checked and wrote, else torch's dynamic "
                        "quantisation on the CPU; opt-in: a few labels may change)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ... (default: auto)")
    parser.add_argument("--chunk-size", type=int, default=4096, help="rows read, labeled and written at a time (default: 4096)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted job from its last finished chunk")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="also load a model saved only as pytorch_model.bin, a pickle that can run code: only one you trust")
    parser.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="label in this process (local, the default) or on a Ray cluster's actors (ray; pip install 'stance[ray]')")
    parser.add_argument("--ray-address", metavar="ADDR",
                        help="the Ray cluster to use, e.g. auto or 10.0.0.5:6379 (default: RAY_ADDRESS, else a Ray started on this machine for the job)")
    parser.add_argument("--num-actors", type=int, metavar="N",
                        help="Ray actors, each loading the model once (default: as many as the cluster's CPUs, or GPUs with --actor-gpus, hold)")
    parser.add_argument("--actor-cpus", type=float, default=1.0, metavar="C", help="CPUs (torch threads) per Ray actor (default: 1)")
    parser.add_argument("--actor-gpus", type=float, default=0.0, metavar="G", help="GPUs per Ray actor, e.g. 1 or 0.5 (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.debug else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    streaming = "-" in (args.input, args.output)
    summary = run_cli(
        lambda: _label(args),
        debug=args.debug,
        interrupted="interrupted" + ("" if streaming else ": rerun with --resume to continue from the last finished chunk"),
    )
    if not args.quiet:
        counts = ", ".join(f"{label} {count:,}" for label, count in summary["counts"].items())
        resumed = f" ({summary['resumed_rows']:,} from the interrupted run)" if summary["resumed_rows"] else ""
        print(
            f"{summary['rows']:,} rows{resumed} -> {'stdout' if summary['output'] == '-' else summary['output']}: "
            f"{counts}; {summary['errors']:,} with stance_error "
            f"({summary['seconds']:.1f} s, {summary['rows_per_second']:,.0f} rows/s, "
            f"{summary['backend']} {summary['precision']} on {summary['device']})",
            file=sys.stderr,
        )


def _label(args) -> dict:
    from stance.labeling import label_file

    return label_file(
        args.model,
        args.input,
        args.output,
        text_column=args.text_column,
        target_column=args.target_column,
        target=args.target,
        batch_size=args.batch_size,
        backend=args.backend,
        precision=args.precision,
        device=args.device,
        chunk_size=args.chunk_size,
        resume=args.resume,
        quiet=args.quiet,
        allow_pickle=args.allow_pickle,
        engine=args.engine,
        ray_address=args.ray_address,
        num_actors=args.num_actors,
        actor_cpus=args.actor_cpus,
        actor_gpus=args.actor_gpus,
    )
