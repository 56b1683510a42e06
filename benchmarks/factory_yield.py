"""Factory yield: valid tasks per hour per core, and the share of candidates kept, per package.

    .venv/bin/python benchmarks/factory_yield.py toolz==0.12.1 --compare-candidates 30 \
        --max-per-package 10 --workers 1 --out runs/factory-bench

Two parts, one run:
1. Side by side on the same candidates of the first package (same container, same baseline,
   strategies alternated per candidate so load drift hits both): the named baseline validates
   each candidate on the whole suite only; ours runs the test files that call the mutated function
   first and confirms on the whole suite only when one of them fails. Validation time only; task
   images are the same for both and left out. Verdicts must agree (the quick run only drops
   candidates that break none of their callers).
2. The full recipe on every package: tried, kept, share kept, dropped for a second copy of the
   package in the task's image (the answer rule), setup and validation time.
Setup (download, images, two baseline runs) is reported apart, since images are cached by content.
Needs Docker and the package index (or sdists already in the cache).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

from swe_srl.factory.baseline import run_baseline
from swe_srl.factory.candidates import candidates_for
from swe_srl.config.synthesize import SynthConfig
from swe_srl.factory.runner import ValidationContainer
from swe_srl.factory.validate import SECOND_COPY, validate
from swe_srl.images.package import prepare_package
from swe_srl.recipes.synthesize import synthesize


def compare(spec: str, config: SynthConfig, n: int) -> None:
    """Whole-suite-only vs targeted-then-whole validation on the first ``n`` candidates of ``spec``."""
    from swe_srl.host.docker import docker_client

    client = docker_client(None)
    prepared = prepare_package(spec, config.cache, client)
    with ValidationContainer(client, prepared.env, prepared.pristine, spec) as container:
        baseline = run_baseline(container, spec, config.suite_timeout)
        candidates, originals = candidates_for(prepared.pristine, baseline, config)
        timeout = min(config.suite_timeout, max(30.0, 5 * baseline.seconds))
        seconds = {"whole": 0.0, "targeted": 0.0}
        kept = {"whole": 0, "targeted": 0}
        disagree = 0
        for i, mutation in enumerate(candidates[:n]):
            verdicts = {}
            order = ("whole", "targeted") if i % 2 == 0 else ("targeted", "whole")
            for strategy in order:
                start = time.perf_counter()
                verdicts[strategy] = validate(container, baseline, mutation, originals[mutation.path], timeout,
                                              targeted=strategy == "targeted")
                seconds[strategy] += time.perf_counter() - start
                kept[strategy] += verdicts[strategy].kept
            if verdicts["whole"].kept != verdicts["targeted"].kept:
                disagree += 1
                print(f"  verdicts differ on {mutation.kind} {mutation.path}:{mutation.lineno}: "
                      f"whole={verdicts['whole'].reason or 'kept'} targeted={verdicts['targeted'].reason or 'kept'}")
    tried = min(n, len(candidates))
    print(f"validation strategies on the same {tried} candidates of {spec} "
          f"(suite {baseline.seconds:.1f}s, {len(baseline.passing)} passing tests; 1 container = 1 core):")
    print(f"{'strategy':<34}{'kept':>6}{'share':>7}{'valid s':>9}{'s/cand':>8}{'tasks/h/core':>14}")
    rate = {}
    for strategy, label in (("whole", "baseline: whole suite only"), ("targeted", "ours: targeted, then whole")):
        rate[strategy] = kept[strategy] / (seconds[strategy] / 3600)
        print(f"{label:<34}{kept[strategy]:>6}{kept[strategy] / max(tried, 1):>7.0%}{seconds[strategy]:>9.1f}"
              f"{seconds[strategy] / max(tried, 1):>8.2f}{rate[strategy]:>14.0f}")
    print(f"ratio ours/baseline: {rate['targeted'] / max(rate['whole'], 1e-9):.2f}x tasks/h/core, "
          f"{seconds['targeted'] / max(seconds['whole'], 1e-9):.2f}x validation time; "
          f"verdicts differ on {disagree} of {tried}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("packages", nargs="+")
    parser.add_argument("--max-per-package", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--compare-candidates", type=int, default=30, help="candidates in the side-by-side (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("runs/factory-bench"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = SynthConfig(out=args.out, max_per_package=args.max_per_package, workers=args.workers)
    if args.compare_candidates:
        compare(args.packages[0], config, args.compare_candidates)
        print()
    _, report = synthesize(args.packages, config)
    cores = min(args.workers, os.cpu_count() or 1)
    print(f"full recipe ({args.workers} worker(s), up to {args.max_per_package} tasks per package):")
    print(f"{'package':<18}{'cands':>6}{'tried':>6}{'kept':>6}{'share':>7}{'2nd copy':>9}{'setup s':>9}{'valid s':>9}"
          f"{'tasks/h/core':>14}")
    for p in report.packages:
        tried, kept = sum(p.tried.values()), sum(p.kept.values())
        if p.error:
            print(f"{p.spec:<18} failed at {p.stage}: {p.error.splitlines()[0]}")
            continue
        validating = max(p.seconds - p.setup_seconds, 1e-9)
        copies = sum(reasons.get(SECOND_COPY, 0) for reasons in p.dropped.values())
        print(f"{p.spec:<18}{p.candidates:>6}{tried:>6}{kept:>6}{kept / max(tried, 1):>7.0%}{copies:>9}"
              f"{p.setup_seconds:>9.1f}"
              f"{validating:>9.1f}{kept / (validating / 3600) / cores:>14.0f}")
    for kind, counts in report.totals().items():
        print(f"  {kind:<22}{counts}")


if __name__ == "__main__":
    main()
