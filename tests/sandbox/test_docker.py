"""Container-engine behaviour (Docker, and Podman through its Docker API): images, labels, clean-up on every
way out, and reaping leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from swe_srl.errors import SandboxError
from swe_srl.host import owners
from swe_srl.images import base
from swe_srl.images.task_image import ensure_task_image
from swe_srl.sandbox.backends import backend
from swe_srl.sandbox.base import SandboxLimits
from swe_srl.tasks.task import Task
from tests.sandbox.conftest import engine_client

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=[pytest.param("docker", marks=pytest.mark.docker),
                        pytest.param("podman", marks=pytest.mark.podman)])
def engine(request):
    """The backend's name and a client of its engine (the tiny image in its store)."""
    return request.param, engine_client(request, request.param)


def test_base_tag_follows_the_recipe():
    tag = base.base_tag()
    assert tag.startswith("swe-srl-base:") and len(tag.split(":")[1]) == 12
    assert base.base_tag(dict(base.BASE_RECIPE)) == tag
    changed = {**base.BASE_RECIPE, "include": [*base.BASE_RECIPE["include"], "curl"]}
    assert base.base_tag(changed) != tag


def test_base_image_is_reused_and_has_the_agent(engine, tiny_task):
    name, client = engine
    start = time.monotonic()
    tag = base.ensure_base_image(client)
    assert time.monotonic() - start < 2  # found by its tag, not rebuilt
    out = client.containers.run(tag, ["sh", "-c", "id agent; git --version; python3 -m pytest --version"],
                                remove=True, network_mode="none", ulimits=backend(name).engine_ulimits()).decode()
    assert "uid=1000(agent)" in out and "git version" in out
    image = client.images.get(tiny_task.image)
    assert image.labels[base.LABEL_BASE] == tag


def test_a_missing_image_that_cannot_be_pulled_is_a_clear_error(engine):
    client = engine[1]
    task = Task(instance_id="nope__nope-1", repo="nope/nope", base_commit="0" * 40, problem_statement="x",
                patch="", image="localhost:1/swe-srl-no-such-image:latest")
    with pytest.raises(SandboxError, match="nope__nope-1.*could not be pulled.*docker load.*podman load"):
        ensure_task_image(task, client)
    no_image = Task(instance_id="nope__nope-2", repo="nope/nope", base_commit="0" * 40, problem_statement="x",
                    patch="")
    with pytest.raises(SandboxError, match="no 'image' field"):
        ensure_task_image(no_image, client)


def test_container_is_labelled_limited_and_removed(make_sandbox, engine):
    name, client = engine
    limits = SandboxLimits(timeout=10, memory="300m", cpus=0.5, pids=50)
    sandbox = make_sandbox(name, limits)
    attrs = client.api.inspect_container(sandbox.container.id)
    labels, host = attrs["Config"]["Labels"], attrs["HostConfig"]
    assert labels["swe-srl"] == "1" and labels[owners.OWNER_LABEL] == owners.owner_id()
    assert host["NetworkMode"] == "none" and host["Memory"] == 300 << 20 and host["MemorySwap"] == 300 << 20
    assert host["NanoCpus"] == 500_000_000 and host["PidsLimit"] == 50
    sandbox.close()
    assert not _exists(client, sandbox.container.id)


def test_the_shell_is_fast_and_reset_needs_no_new_container(make_sandbox, engine):
    sandbox = make_sandbox(engine[0])
    container_id = sandbox.container.id
    sandbox.run("true")
    spent = 0.0
    for _ in range(20):
        time.sleep(0.05)  # the agent's think time, in which the framing shell starts the next command's bash
        start = time.monotonic()
        sandbox.run("true")
        spent += time.monotonic() - start
    assert spent / 20 < 0.02  # a `docker exec` costs ~70 ms here
    sandbox.reset()
    assert sandbox.container.id == container_id and sandbox.run("pwd").output == "/testbed\n"


# The child takes ctrl-c as a program in a terminal does, even where the suite itself was started with SIGINT
# ignored (a background job of a non-interactive shell, as under `nohup ... &`), which its children inherit.
_CHILD = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, {root!r})
    from swe_srl.sandbox.backends import backend
    from swe_srl.tasks.task import Task
    task = Task(instance_id="test__tiny-1", repo="test/tiny", base_commit={sha!r}, problem_statement="x",
                patch="", image={image!r})
    box = backend({name!r}).start(task)
    print(box.container.id, flush=True)
    {tail}
""")


def _child(engine, request, tiny_task: Task, tail: str) -> subprocess.Popen[str]:
    """A process that starts a sandbox on ``engine``'s backend with a client it makes itself (from the
    environment: CONTAINER_HOST names this session's Podman service), prints its id and runs ``tail``."""
    name = engine[0]
    env = {**os.environ, "CONTAINER_HOST": request.getfixturevalue("podman_service")} if name == "podman" else None
    code = _CHILD.format(root=str(REPO_ROOT), sha=tiny_task.base_commit, image=tiny_task.image, tail=tail, name=name)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def _exists(client, container_id: str) -> bool:
    return bool(client.containers.list(all=True, filters={"id": container_id}))


@pytest.mark.parametrize("how", ["exit", "ctrl-c", "sigterm"])
def test_containers_are_removed_when_the_owner_exits(engine, request, tiny_task, how):
    child = _child(engine, request, tiny_task, "" if how == "exit" else "time.sleep(60)")
    container_id = child.stdout.readline().strip()  # type: ignore[union-attr]
    assert container_id, child.stderr.read()  # type: ignore[union-attr]
    if how != "exit":
        child.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGTERM)
    child.wait(timeout=60)
    assert not _exists(engine[1], container_id)


def test_a_container_removes_itself_at_the_end_of_its_lifetime(make_sandbox, engine):
    name, client = engine
    sandbox = make_sandbox(name, SandboxLimits(timeout=10, lifetime=3))
    assert sandbox.run("echo up").output == "up\n"
    assert int(sandbox.container.labels["swe-srl.expires"]) <= time.time() + 3
    deadline = time.monotonic() + 30
    while _exists(client, sandbox.container.id) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _exists(client, sandbox.container.id)  # was `sleep infinity`, forever
    sandbox.close()  # the engine got there first: closing is still quiet


def test_leftovers_of_a_killed_owner_are_reaped_at_the_next_start(engine, request, tiny_task, make_sandbox):
    name, client = engine
    child = _child(engine, request, tiny_task, "time.sleep(60)")
    container_id = child.stdout.readline().strip()  # type: ignore[union-attr]
    assert container_id
    os.kill(child.pid, signal.SIGKILL)  # no atexit, no clean-up
    child.wait(timeout=30)
    assert _exists(client, container_id)
    make_sandbox(name)
    assert not _exists(client, container_id)


def test_a_bundled_task_runs_at_its_base_commit(engine):
    bundled = pytest.importorskip("swe_srl.tasks.bundled")
    tasks = bundled.bundled_tasks()
    if not tasks:
        pytest.skip("no bundled tasks in environments/")
    task = tasks[0]
    name, client = engine
    with backend(name).start(task, SandboxLimits(timeout=60), client) as sandbox:
        assert sandbox.run("git rev-parse HEAD; stat -c %U .").output == f"{task.base_commit}\nagent\n"
        assert sandbox.diff() == ""
        if task.pass_to_pass:
            obs = sandbox.run(f"python3 -m pytest -q -p no:cacheprovider '{task.pass_to_pass[0]}'")
            assert obs.exit_code == 0 and "passed" in obs.output, obs.output
    assert not _exists(client, sandbox.container.id)
