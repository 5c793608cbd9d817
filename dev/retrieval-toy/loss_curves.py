#!/usr/bin/env python3
"""Mean training loss per window of steps for each `hsa train` console log, one line per run.

    python3 dev/retrieval-toy/loss_curves.py --every 1000 --label "call 1" runs/*.log

Reads the `step=N/M loss=X ... ms=T` report lines; prints the run's name (the log's file
name), its median milliseconds per step and `end:mean` for each window of --every steps.
"""
import argparse
import re
import statistics
from pathlib import Path

REPORT = re.compile(r"step=(\d+)/\d+ loss=([0-9.]+).*? ms=([0-9.]+)")


def curve(log: Path, every: int) -> tuple[float, list[tuple[int, float]]]:
    windows: dict[int, list[float]] = {}
    milliseconds = []
    for line in log.read_text(errors="replace").splitlines():
        match = REPORT.search(line)
        if not match:
            continue
        step, loss, ms = int(match[1]), float(match[2]), float(match[3])
        # steps 1..every fall in the window ending at `every`
        windows.setdefault(-(-step // every) * every, []).append(loss)
        milliseconds.append(ms)
    points = [(end, statistics.fmean(losses)) for end, losses in sorted(windows.items())]
    return (statistics.median(milliseconds) if milliseconds else 0.0), points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    for log in sorted(args.logs):
        ms, points = curve(log, args.every)
        cells = " ".join(f"{end}:{loss:.3f}" for end, loss in points)
        print(f"{args.label} {log.stem:<15} {ms:4.0f} ms/step: {cells}".strip())


if __name__ == "__main__":
    main()
