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
    parser.add_argument("--int8", action="store_true",
                        help="also write an int8 OpenVINO model (NNCF), only if it keeps at least 99.5%% of the labels on a check "
                        "sample; then stance-label --precision int8 runs it (opt-in: faster, a few labels may change)")
    parser.add_argument("--calibration", metavar="FILE",
                        help="with --int8: a table of statements like those you will label (a text column, target optional; "
                        "at least 500 rows) to calibrate and check on; default: the bundled corpus")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.calibration and not args.int8:
        build_parser().error("--calibration goes with --int8")
    if args.int8 and args.no_openvino:
        build_parser().error("--int8 quantises the OpenVINO model: drop --no-openvino")
    checks = run_cli(lambda: _export(args), debug=args.debug)
    print(json.dumps(checks, indent=2))


def _export(args) -> dict:
    from stance.export import export_model

    checks = export_model(args.model, openvino=not args.no_openvino)["checks"]
    if args.int8:
        from stance.quantization import quantize_int8

        checks["openvino_int8"] = quantize_int8(args.model, calibration=args.calibration)["check"]
    return checks
