"""Sandbox latency: one bash action, start and reset, per backend, beside plain `docker` commands.

Baselines, measured in the same run on the same image:
  docker exec       `docker exec <container> true` (the CLI, as a harness without a session would)
  re-create         `docker rm -f` + `docker run -d` of the same image (the other way to reset)
Targets (issue 2): a bash action <= 0.03x docker exec; a reset <= 0.2x re-creating the container.
"bash action" runs commands back to back; "paced" runs each 0.1 s after the last, as an agent's
loop does (the framing shell starts each command's bash ahead of it, in that pause).

Reproduce: .venv/bin/python benchmarks/sandbox_latency.py [--actions 300] [--resets 20]
(uses the first bundled task; builds its image the first time).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from swe_srl.sandbox.base import SandboxLimits  # noqa: E402
from swe_srl.tasks.bundled import bundled_tasks  # noqa: E402


def median_ms(fn: Callable[[], object], n: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def docker_baselines(image: str, n: int) -> dict[str, float]:
    """Median ms of `docker exec true` and of re-creating a container, with the sandbox's flags."""
    run = ["docker", "run", "-d", "--init", "--network", "none", "--memory", "2g", "--pids-limit", "256",
           "--label", "swe-srl-bench=1", image, "sleep", "infinity"]
    state = {"cid": subprocess.run(run, check=True, capture_output=True, text=True).stdout.strip()}
    try:
        exec_ms = median_ms(lambda: subprocess.run(["docker", "exec", state["cid"], "true"], check=True), n)

        def recreate() -> None:
            subprocess.run(["docker", "rm", "-f", state["cid"]], check=True, capture_output=True)
            state["cid"] = subprocess.run(run, check=True, capture_output=True, text=True).stdout.strip()

        recreate_ms = median_ms(recreate, max(5, n // 2), warmup=1)
    finally:
        subprocess.run(["docker", "rm", "-f", state["cid"]], capture_output=True)
    return {"docker exec": exec_ms, "re-create": recreate_ms}


def measure(start: Callable[[], object], actions: int, resets: int) -> dict[str, float]:
    """Median ms of start, one `true` action, and reset after a small edit, for one backend."""
    boxes = []

    def started() -> None:
        boxes.append(start())

    start_ms = median_ms(started, 3, warmup=0)
    for box in boxes[1:]:
        box.close()  # type: ignore[attr-defined]
    box = boxes[0]
    try:
        action_ms = median_ms(lambda: box.run("true"), actions, warmup=5)  # type: ignore[attr-defined]

        def paced() -> None:  # as in an agent's loop: each command's bash is started while the model thinks
            time.sleep(0.1)
            t0 = time.perf_counter()
            box.run("true")  # type: ignore[attr-defined]
            paced_times.append(time.perf_counter() - t0)

        paced_times: list[float] = []
        for _ in range(max(5, actions // 6)):
            paced()
        times = []
        for _ in range(resets):
            box.write_file("scratch.txt", "x\n")  # type: ignore[attr-defined]
            box.run("cd /tmp; export DIRTY=1")  # type: ignore[attr-defined]
            time.sleep(0.1)  # as between episodes: the spare shell is up by then
            t0 = time.perf_counter()
            box.reset()  # type: ignore[attr-defined]
            times.append(time.perf_counter() - t0)
        assert box.run("pwd").output == "/testbed\n"  # type: ignore[attr-defined]
        reset_ms = statistics.median(times) * 1000
    finally:
        box.close()  # type: ignore[attr-defined]
    return {"start": start_ms, "bash action": action_ms, "paced action": statistics.median(paced_times) * 1000,
            "reset": reset_ms}


def local_backend_missing() -> str | None:
    if importlib.util.find_spec("swe_srl.sandbox.local") is None:
        return "swe_srl/sandbox/local.py is not there"
    done = subprocess.run(["bwrap", "--unshare-user", "--ro-bind", "/", "/", "true"], capture_output=True)
    return None if done.returncode == 0 else "bubblewrap cannot run here"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--actions", type=int, default=300)
    parser.add_argument("--resets", type=int, default=20)
    args = parser.parse_args()

    from swe_srl.host.docker import docker_client
    from swe_srl.images.task_image import ensure_task_image
    from swe_srl.sandbox.docker import DockerSandbox

    task = bundled_tasks()[0]
    limits = SandboxLimits()
    client = docker_client()
    image = ensure_task_image(task, client)
    base = docker_baselines(image, 20)
    rows = {"docker": measure(lambda: DockerSandbox.start(task, limits, client), args.actions, args.resets)}
    why_not_local = local_backend_missing()
    if why_not_local is None:
        from swe_srl.sandbox.local import LocalSandbox

        rows["local"] = measure(lambda: LocalSandbox.start(task, limits), args.actions, args.resets)

    print(f"task {task.instance_id}, image {image}; medians in ms")
    print(f"baselines: docker exec true {base['docker exec']:.1f} ms, re-create container {base['re-create']:.1f} ms")
    print(f"{'backend':8} {'bash action':>12} {'/docker exec':>13} {'paced':>7} {'/docker exec':>13} {'reset':>9} "
          f"{'/re-create':>11} {'start':>9} {'/re-create':>11}")
    for name, row in rows.items():
        print(f"{name:8} {row['bash action']:12.2f} {row['bash action'] / base['docker exec']:12.4f}x "
              f"{row['paced action']:7.2f} {row['paced action'] / base['docker exec']:12.4f}x "
              f"{row['reset']:9.1f} {row['reset'] / base['re-create']:10.3f}x "
              f"{row['start']:9.1f} {row['start'] / base['re-create']:10.2f}x")
    if why_not_local:
        print(f"local backend skipped: {why_not_local}")
    print("targets: bash action <= 0.03x docker exec, reset <= 0.2x re-create")


if __name__ == "__main__":
    main()
