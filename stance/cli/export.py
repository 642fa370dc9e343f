"""``stance-export``: write a trained model as ONNX / OpenVINO beside its weights (shim over stance.export)."""

from __future__ import annotations

import json
import logging
import sys

from stance.cli.errors import run_cli


def build_parser():
    import argparse

    parser = argparse.ArgumentParser(
        prog="stance-export",
        description="Export a model directory (its seed members and linear encoder too) to ONNX and OpenVINO IR, "
        "check the export against the PyTorch model, and write it beside the weights only if it matches. "
        "stance-train does this at the end of every run; stance-label then runs without torch.",
    )
    parser.add_argument("model", metavar="MODEL_DIR", help="a model directory written by stance-train")
    parser.add_argument("--no-openvino", action="store_true", help="write the ONNX model only, not the OpenVINO IR")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(message)s", stream=sys.stderr)
    record = run_cli(lambda: _export(args), debug=args.debug)
    print(json.dumps(record["checks"], indent=2))


def _export(args) -> dict:
    from stance.export import export_model

    return export_model(args.model, openvino=not args.no_openvino)
