"""Factory yield: valid tasks per hour per core, and the share of candidates kept, per package.

    .venv/bin/python benchmarks/factory_yield.py toolz==0.12.1 click==8.1.7 attrs==23.2.0 \
        --max-per-package 10 --workers 1 --out runs/factory-bench

Setup (download, images, two baseline runs) is reported apart from validation, since images are
cached by content and a second run skips most of it. Needs Docker and the package index.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from swe_srl.factory.synthesize import SynthConfig, synthesize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packages", nargs="+")
    parser.add_argument("--max-per-package", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/factory-bench"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    _, report = synthesize(args.packages, SynthConfig(out=args.out, max_per_package=args.max_per_package,
                                                      workers=args.workers))
    cores = min(args.workers, os.cpu_count() or 1)
    print(f"{'package':<18}{'tried':>6}{'kept':>6}{'share':>7}{'setup s':>9}{'valid s':>9}{'tasks/h/core':>14}")
    for p in report.packages:
        tried, kept = sum(p.tried.values()), sum(p.kept.values())
        if p.error:
            print(f"{p.spec:<18} failed at {p.stage}: {p.error.splitlines()[0]}")
            continue
        validating = max(p.seconds - p.setup_seconds, 1e-9)
        print(f"{p.spec:<18}{tried:>6}{kept:>6}{kept / max(tried, 1):>7.0%}{p.setup_seconds:>9.1f}{validating:>9.1f}"
              f"{kept / (validating / 3600) / cores:>14.0f}")
    for kind, counts in report.totals().items():
        print(f"  {kind:<22}{counts}")


if __name__ == "__main__":
    main()
