"""``python -m tracemark.ray TASK --ray ADDRESS|local [options] IN OUT``: a bulk job on
Ray (what ``tracemark batch`` runs). Prints a summary, or with ``--json`` one JSON object
on stdout (errors too, as ``{"error": {"message", "fault", "hint"}}``, as the ``tracemark``
command does); exit status 0, or 2 (usage), 3 (input), 4 (internal). Ray's own output goes
to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Any, Optional

EXIT = {"usage": 2, "input": 3, "internal": 4}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tracemark.ray",
        description="Detect, verify, trace or attribute a dataset of texts on Ray; "
        "one Parquet row per input record.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--ray", required=True, metavar="ADDRESS",
                        help="the cluster's address, or `local` to start one here")
    common.add_argument("--workers", type=int, help="actors in the pool [default: 1 up to the CPUs]")
    common.add_argument("--batch-size", type=int, default=64, help="rows per call of a block")
    common.add_argument("--block-rows", type=int, default=256, help="rows per block read")
    common.add_argument("--id-field", default="id", help="the records' id field or column")
    common.add_argument("--text-field", default="text", help="the records' text field or column")
    common.add_argument("--max-bytes", type=int, default=16 << 20,
                        help="larger texts get an error [default: 16 MiB]")
    common.add_argument("--json", action="store_true", help="print one JSON object")
    common.add_argument("input", help="a JSON Lines or Parquet file, or a folder of them")
    common.add_argument("output", help="the folder of Parquet files to write (new)")
    tasks = p.add_subparsers(dest="task", required=True)

    d = tasks.add_parser("detect", parents=[common], help="test each text for a watermark")
    d.add_argument("--key", required=True, help="the watermark key")
    d.add_argument("--model", required=True, help="the model whose tokenizer the key is bound to")
    d.add_argument("--fpr", type=float, default=1e-3, help="the false-positive rate")

    v = tasks.add_parser("verify", parents=[common], help="verify each text's content credential")
    v.add_argument("--trust", action="append", default=[], metavar="PEM",
                   help="a trust anchor (repeatable)")

    t = tasks.add_parser("trace", parents=[common], help="trace each text into a corpus index")
    t.add_argument("--index", required=True)
    t.add_argument("--tokenizer", help="the index's tokenizer, when not bytes")
    t.add_argument("--min-tokens", type=int)
    t.add_argument("--all-spans", action="store_true")
    t.add_argument("--usage", help="the use whose opt-outs are reported")

    a = tasks.add_parser("attribute", parents=[common], help="an evidence report for each text")
    a.add_argument("--config", help="tracemark.toml [default: the one the CLI finds]")
    a.add_argument("--as-of", help="the date the rules are applied on [default: today]")
    a.add_argument("--jurisdiction", action="append", dest="jurisdictions", metavar="J")
    a.add_argument("--ai-generated", action="store_true")
    a.add_argument("--generated-at", help="the reports' time (RFC 3339) [default: now]")
    a.add_argument("--no-log", action="store_true", help="do not log the reports")
    return p


def _options(args: argparse.Namespace) -> dict[str, Any]:
    if args.task == "detect":
        return {"key": args.key, "model": args.model, "false_positive_rate": args.fpr}
    if args.task == "verify":
        return {"trust": args.trust}
    if args.task == "trace":
        return {"index": args.index, "tokenizer": args.tokenizer, "min_tokens": args.min_tokens,
                "all_spans": args.all_spans, "usage": args.usage}
    # As `tracemark attribute`: the reports are logged when a log is configured (None),
    # unless --no-log says otherwise.
    return {"config": args.config, "as_of": args.as_of, "jurisdictions": args.jurisdictions,
            "ai_generated": args.ai_generated, "generated_at": args.generated_at,
            "log": False if args.no_log else None}


def _fault(error: BaseException) -> tuple[str, str, Optional[str]]:
    """(fault, message, hint) of an error."""
    from .. import _tracemark

    text = str(error)
    message, _, hint = text.partition("\n  fix: ")
    hint = hint or None
    if isinstance(error, _tracemark.UsageError):
        return "usage", message, hint
    if isinstance(error, _tracemark.InputError):
        return "input", message, hint
    if isinstance(error, _tracemark.TracemarkError):
        return "internal", message, hint
    if isinstance(error, (FileNotFoundError, IsADirectoryError, NotADirectoryError)):
        return "input", text, "check the input's path (every worker must see it)"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in (
        "ray", "pyarrow", "pandas"):
        return "usage", f"this Python has no {error.name} module", (
            "install Ray Data into this Python: pip install 'ray[data]' "
            "(or the project's python/requirements.txt)")
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # Ray colours its tracebacks
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    # Ray's error names the task first and the cause last.
    first = lines[-1] if lines else type(error).__name__
    return "internal", f"the Ray job failed: {first}", (
        "the workers' logs are in the Ray session folder (/tmp/ray/session_latest/logs on "
        "the head node)")


def main(argv: Optional[list[str]] = None) -> int:
    args = _parser().parse_args(argv)
    # Everything written to standard output while the job runs (Ray's, its workers') goes
    # to standard error: standard output carries only the answer.
    out = os.fdopen(os.dup(1), "w")
    sys.stdout.flush()
    os.dup2(2, 1)
    try:
        from . import run

        summary = run(
            args.task, args.input, args.output, address=args.ray, workers=args.workers,
            batch_size=args.batch_size, block_rows=args.block_rows, id_field=args.id_field,
            text_field=args.text_field, max_bytes=args.max_bytes, **_options(args),
        )
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 (every failure gets its message)
        fault, message, hint = _fault(error)
        if args.json:
            print(json.dumps({"error": {"message": message, "fault": fault, "hint": hint}}), file=out)
        text = f"error: {message}" + (f"\n  fix: {hint}" if hint else "")
        print(text, file=sys.stderr)
        out.flush()
        return EXIT[fault]
    if args.json:
        print(json.dumps(summary), file=out)
    else:
        print(
            f"{summary['rows']} rows ({summary['errors']} with an error) written to "
            f"{summary['output']} in {summary['seconds']:.1f} s on {summary['nodes']} node(s)",
            file=out,
        )
        for problem in summary["problems"]:
            print(f"  not loaded: {problem}", file=out)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
