"""``python -m bench run [--quick] [...]``: the sqlgate benchmark (see bench/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from bench.harness import WORKLOADS, Config, Harness, write_json
from bench.report import markdown_table, metrics_text, targets_text, text_table


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the benchmark and write bench/results/<timestamp>.json")
    run.add_argument("--quick", action="store_true", help="small dataset, 1 s runs (about a minute)")
    run.add_argument("--rows", type=int, help="fact rows (default 1,000,000; quick 20,000)")
    run.add_argument(
        "--seconds", type=float, help="pgbench seconds per variant and target (default 15; quick 1)"
    )
    run.add_argument(
        "--rounds", type=int, help="targets take turns this many times per variant (default 3; quick 1)"
    )
    run.add_argument("--clients", help="client counts of workload (a), comma-separated (default 1,16,64)")
    run.add_argument("--idle", type=int, help="idle connections of workload (f) (default 2000)")
    run.add_argument(
        "--workloads", default=",".join(WORKLOADS), help="which workloads to run (default a,b,c,d,e,f)"
    )
    run.add_argument(
        "--keep-db", action="store_true", help="keep (and reuse) the data database sqlgate_bench_data"
    )
    run.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="record sqlgate with py-spy during its runs (stacks to DIR)",
    )
    run.add_argument("--json", type=Path, help="write the JSON here instead of bench/results/")
    run.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    run.add_argument(
        "--sqlgate-arg",
        action="append",
        default=[],
        help="extra argument for `sqlgate serve` (repeatable), e.g. --sqlgate-arg=--log-queries=off",
    )
    show = sub.add_parser("show", help="print the table of a results JSON file")
    show.add_argument("path", type=Path)
    show.add_argument("--markdown", action="store_true")
    return parser.parse_args(argv)


def config_from(args: argparse.Namespace) -> Config:
    overrides: dict[str, object] = {
        "keep_db": args.keep_db,
        "workloads": tuple(w.strip() for w in args.workloads.split(",") if w.strip()),
        "sqlgate_args": list(args.sqlgate_arg),
        "out": args.json,
        "profile_dir": args.profile,
    }
    if args.rows:
        overrides["rows"] = args.rows
    if args.seconds:
        overrides["seconds"] = args.seconds
    if args.clients:
        overrides["clients"] = tuple(int(c) for c in args.clients.split(","))
    if args.rounds:
        overrides["rounds"] = args.rounds
    if args.idle:
        overrides["idle"] = args.idle
    for w in overrides["workloads"]:  # type: ignore[union-attr]
        if w not in WORKLOADS:
            raise SystemExit(f"unknown workload {w!r}: choose from {', '.join(WORKLOADS)}")
    return Config.quick_config(**overrides) if args.quick else Config(**overrides)  # type: ignore[arg-type]


def print_report(report: dict, markdown: bool) -> None:
    print()
    print(text_table(report))
    print()
    print("targets (issue 7):")
    print(targets_text(report))
    print(metrics_text(report))
    for note in report.get("notes", []):
        print(f"note: {note}")
    if markdown:
        print()
        print(markdown_table(report))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "show":
        import json

        print_report(json.loads(args.path.read_text()), args.markdown)
        return 0
    config = config_from(args)
    # SIGTERM and SIGINT interrupt at once (pgbench and psql run synchronously); the harness's
    # clean-up then stops its servers and drops its databases before the process exits.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    report = asyncio.run(Harness(config).run())
    path = write_json(report, config.out)
    print_report(report, args.markdown)
    print(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
