"""Benchmark: step-wise examples built per second from a JSONL trajectory store, and memory.

Generates a corpus of realistic trajectories (30-80 steps of bash and editor actions,
observations up to 20 kB) into a temporary JSONL store, then measures, with a real Hugging Face
tokenizer loaded from disk (the tiny BPE of swe_srl.train.tiny unless --tokenizer names another):

1. construction: read + parse + build_examples with batched token counts (no dataset writing),
   against the 1,000 examples/s target and against unbatched counting (the named baseline,
   measured in the same run on the first --baseline-trajectories trajectories);
2. memory: peak RSS after 500 trajectories and after all of them (flat = streaming works);
3. with --full, the whole build_dataset (Arrow stream, save_to_disk, parquet export).

Reproduce:  .venv/bin/python benchmarks/stepwise_throughput.py [--trajectories 2000] [--full]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from swe_srl.actions import Action  # noqa: E402
from swe_srl.dataset import TokenCounter, build_dataset, chat_overhead, load_tokenizer, read_trajectories  # noqa: E402
from swe_srl.stepwise import StepwiseConfig, build_examples  # noqa: E402
from swe_srl.trajectory import Step, Trajectory, dumps  # noqa: E402

TARGET = 1000.0  # examples per second, from the issue

_MODULES = ["core", "utils", "parser", "models", "io", "fields", "query", "render", "cache", "config"]
_WORDS = ("value item path result error none default parse field model query node token cache key "
          "config index offset length buffer stream handler request response session").split()


def _code_line(rng: random.Random) -> str:
    w = rng.choice
    return rng.choice([
        f"    def {w(_WORDS)}_{w(_WORDS)}(self, {w(_WORDS)}, {w(_WORDS)}=None):",
        f"        if {w(_WORDS)} is None:",
        f"            raise ValueError(f\"invalid {w(_WORDS)}: {{{w(_WORDS)}!r}}\")",
        f"        return self._{w(_WORDS)}[{w(_WORDS)}] + {rng.randint(0, 99)}",
        f"        for {w(_WORDS)} in self.{w(_WORDS)}s:",
        f"class {w(_WORDS).title()}{w(_WORDS).title()}(Base{w(_WORDS).title()}):",
        f"    # {' '.join(w(_WORDS) for _ in range(rng.randint(3, 10)))}",
        "",
    ])


def _sized(rng: random.Random, make_line, limit: int) -> str:
    lines, size = [], 0
    while size < limit:
        line = make_line(rng)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _observation_size(rng: random.Random) -> int:
    return int(50 * (400 ** rng.random()))  # log-uniform from 50 bytes to 20 kB


def _view(rng: random.Random, path: str) -> str:
    counter = iter(range(1, 10**6))
    return _sized(rng, lambda r: f"{next(counter):6}\t{_code_line(r)}", _observation_size(rng))


def _pytest(rng: random.Random, module: str) -> str:
    def line(r: random.Random) -> str:
        return r.choice([
            f"tests/test_{module}.py::test_{r.choice(_WORDS)}_{r.choice(_WORDS)} PASSED",
            f"tests/test_{module}.py::test_{r.choice(_WORDS)} FAILED",
            f"E       AssertionError: assert {r.randint(0, 9)} == {r.randint(0, 9)}",
            f"src/{module}.py:{r.randint(1, 900)}: in {r.choice(_WORDS)}",
            _code_line(r),
        ])
    body = _sized(rng, line, _observation_size(rng))
    return f"============ test session starts ============\n{body}\n===== 3 failed, {rng.randint(5, 300)} passed ====="


def _grep(rng: random.Random, module: str) -> str:
    return _sized(rng, lambda r: f"src/{r.choice(_MODULES)}.py:{r.randint(1, 900)}:{_code_line(r)}", _observation_size(rng))


def make_trajectory(rng: random.Random, index: int) -> Trajectory:
    """A plausible teacher run: explore, reproduce, edit, test, submit."""
    module = rng.choice(_MODULES)
    path = f"/testbed/src/{module}.py"
    steps: list[Step] = []
    n = rng.randint(30, 80)
    for k in range(n - 1):
        phase = k / n
        kind = rng.random()
        if phase < 0.3 and kind < 0.5:
            action = Action.bash(rng.choice([f"grep -rn '{rng.choice(_WORDS)}' src/ | head -50", "ls -la /testbed/src",
                                            f"find /testbed -name '*{rng.choice(_WORDS)}*.py'"]))
            observation = _grep(rng, module)
        elif kind < 0.35:
            start = rng.randint(1, 400)
            action = Action.editor("view", path, view_range=[start, start + rng.randint(20, 200)])
            observation = _view(rng, path)
        elif kind < 0.55:
            old = "\n".join(_code_line(rng) for _ in range(rng.randint(1, 8)))
            new = "\n".join(_code_line(rng) for _ in range(rng.randint(1, 10)))
            action = Action.editor("str_replace", path, old_str=old, new_str=new)
            observation = f"The file {path} has been edited. Here's the result of running `cat -n`:\n" + _view(rng, path)[:1500]
        elif kind < 0.62:
            action = Action.editor("create", f"/testbed/reproduce_{k}.py", file_text=_sized(rng, _code_line, rng.randint(200, 1500)))
            observation = f"File created successfully at: /testbed/reproduce_{k}.py"
        elif kind < 0.85:
            action = Action.bash(f"cd /testbed && python -m pytest tests/test_{module}.py -x -q")
            observation = _pytest(rng, module)
        else:
            action = Action.bash(rng.choice(["python reproduce.py", "git diff", "git status"]))
            observation = _grep(rng, module) if rng.random() < 0.5 else ""
        steps.append(Step(action, observation, thought=" ".join(rng.choice(_WORDS) for _ in range(rng.randint(10, 80)))))
    steps.append(Step(Action.submit(), "", thought="The tests pass; submitting."))
    issue = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(50, 400)))
    return Trajectory(f"org__{module}-{index}", "bench", tuple(steps), problem_statement=issue,
                      resolved=True, metadata={"trajectory_id": f"run-{index}"})


def write_corpus(path: Path, count: int, seed: int) -> tuple[int, int]:
    """Write ``count`` trajectories, one at a time; returns (steps, bytes)."""
    rng = random.Random(seed)
    steps = 0
    with path.open("w") as handle:
        for i in range(count):
            trajectory = make_trajectory(rng, i)
            steps += len(trajectory.steps)
            handle.write(dumps(trajectory) + "\n")
    return steps, path.stat().st_size


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS
        return True
    except OSError:
        return False


class AnonPeak:
    """Samples the process's anonymous (heap) RSS; memory-mapped Arrow files count as file RSS instead."""

    def __init__(self) -> None:
        self.peak_kb = _status_kb("RssAnon")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_kb = max(self.peak_kb, _status_kb("RssAnon"))

    def __enter__(self) -> "AnonPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def construct(store: Path, tokenizer, config: StepwiseConfig, *, batched: bool, limit: int | None,
              marks: tuple[int, ...] = ()) -> tuple[int, int, float, float, dict[int, tuple[int, int]]]:
    """Examples built (no writing): (trajectories, examples, seconds, cpu seconds, {mark: (peak kB, rss kB)})."""
    counter = TokenCounter(tokenizer)
    drops: Counter[str] = Counter()
    memory: dict[int, tuple[int, int]] = {}
    trajectories = examples = 0
    start, cpu = time.perf_counter(), time.process_time()
    for trajectory in read_trajectories([store]):
        for _ in build_examples(trajectory, config, counter, count_many=counter.many if batched else None, drops=drops):
            examples += 1
        trajectories += 1
        if trajectories in marks:
            memory[trajectories] = (_status_kb("VmHWM"), _status_kb("VmRSS"))
        if limit is not None and trajectories >= limit:
            break
    return trajectories, examples, time.perf_counter() - start, time.process_time() - cpu, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trajectories", type=int, default=2000)
    parser.add_argument("--baseline-trajectories", type=int, default=200)
    parser.add_argument("--context-steps", default="2", help="a number, or 'all'")
    parser.add_argument("--tokenizer", default=None, help="name or path; default: the tiny BPE saved to disk")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="also time the whole build_dataset to disk")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="swe-srl-bench-") as tmp:
        work = Path(tmp)
        if args.tokenizer is None:
            from swe_srl.train.tiny import tiny_tokenizer

            tiny_tokenizer().save_pretrained(work / "tokenizer")
            args.tokenizer = str(work / "tokenizer")
        tokenizer = load_tokenizer(args.tokenizer)
        overhead = chat_overhead(tokenizer, TokenCounter(tokenizer)) or (5, 3)
        context = args.context_steps if args.context_steps == "all" else int(args.context_steps)
        config = StepwiseConfig(context_steps=context, tokens_per_message=overhead[0], generation_prompt_tokens=overhead[1])

        store = work / "store.jsonl"
        t0 = time.perf_counter()
        steps, size = write_corpus(store, args.trajectories, args.seed)
        print(f"corpus: {args.trajectories} trajectories, {steps} steps, {size / 1e6:.0f} MB "
              f"(generated in {time.perf_counter() - t0:.0f} s); tokenizer {args.tokenizer} ({len(tokenizer)} tokens); "
              f"context_steps={context}, max_prompt_tokens={config.max_prompt_tokens}, "
              f"max_observation_chars={config.max_observation_chars}")

        b_traj, b_ex, b_s, b_cpu, _ = construct(store, tokenizer, config, batched=False, limit=args.baseline_trajectories)
        baseline = b_ex / b_s
        print(f"baseline (one count call per text, first {b_traj} trajectories): {b_ex} examples in {b_s:.1f} s = "
              f"{baseline:,.0f} examples/s ({b_ex / b_cpu:,.0f} per CPU-second)")

        peak_reset = _reset_peak()
        marks = (min(500, args.trajectories), args.trajectories)
        n_traj, n_ex, seconds, cpu, memory = construct(store, tokenizer, config, batched=True, limit=None, marks=marks)
        rate = n_ex / seconds
        print(f"construction (batched counts): {n_traj} trajectories, {n_ex} examples in {seconds:.1f} s = {rate:,.0f} examples/s "
              f"({n_traj / seconds:.1f} trajectories/s; {n_ex / cpu:,.0f} examples per CPU-second, CPU/wall {cpu / seconds:.2f})")
        print(f"  vs target {TARGET:,.0f} examples/s: x{rate / TARGET:.2f}    vs unbatched baseline: x{rate / baseline:.2f}")
        label = "peak RSS" if peak_reset else "peak RSS (process lifetime)"
        for mark, (peak, rss) in sorted(memory.items()):
            print(f"  after {mark:5d} trajectories: {label} {peak / 1024:.0f} MiB, RSS {rss / 1024:.0f} MiB")
        if len(memory) == 2:
            (p1, _), (p2, _) = (memory[m] for m in sorted(memory))
            print(f"  peak growth from {marks[0]} to {marks[1]} trajectories: {(p2 - p1) / 1024:+.1f} MiB")

        if args.full:
            _reset_peak()
            before = _status_kb("VmHWM")
            anon_before = _status_kb("RssAnon")
            t0 = time.perf_counter()
            with AnonPeak() as anon:
                summary = build_dataset(store, work / "out", tokenizer, config)
            seconds = time.perf_counter() - t0
            sizes = {p.name: sum(f.stat().st_size for f in p.rglob("*")) if p.is_dir() else p.stat().st_size
                     for p in (work / "out").iterdir()}
            print(f"build_dataset to disk: {summary.kept} examples in {seconds:.1f} s = {summary.kept / seconds:,.0f} examples/s "
                  f"(x{summary.kept / seconds / TARGET:.2f} of target)")
            print(f"  peak RSS {before / 1024:.0f} -> {_status_kb('VmHWM') / 1024:.0f} MiB (includes the memory-mapped Arrow file "
                  f"being copied); peak anonymous RSS {anon_before / 1024:.0f} -> {anon.peak_kb / 1024:.0f} MiB")
            print("  output sizes (MB): " + ", ".join(f"{k} {v / 1e6:.0f}" for k, v in sorted(sizes.items())))
            print("  summary: " + json.dumps({k: summary.to_json()[k] for k in ("kept", "dropped", "prompt_tokens", "target_tokens")}))


if __name__ == "__main__":
    main()
