"""Clean-up on every way out that is not SIGKILL, the containers' lifetime cap, and the image build lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from swe_srl.host import docker as host_docker
from swe_srl.host.owners import OWNER_LABEL, owner_id
from swe_srl.images.base import build_lock

REPO_ROOT = Path(__file__).resolve().parents[2]

_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from swe_srl.sandbox import live

    class Box:
        def close(self):
            Path({marker!r}).write_text("closed")
            live.forget(self)

    live.track(Box())
    print("ready", flush=True)
    time.sleep(60)
""")


def test_sigterm_closes_open_sandboxes_and_still_ends_the_process(tmp_path):
    marker = tmp_path / "closed"
    code = _CHILD.format(root=str(REPO_ROOT), marker=str(marker))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) == -signal.SIGTERM  # dies of the signal, as a scheduler expects
    assert marker.read_text() == "closed"


class _Container:
    def __init__(self, name: str, labels: dict[str, str]) -> None:
        self.name, self.labels, self.removed = name, labels, False

    def remove(self, force: bool = False) -> None:
        self.removed = True


class _Client:
    def __init__(self, containers: list[_Container]) -> None:
        self.containers = self
        self._all = containers

    def list(self, **_: object) -> list[_Container]:
        return self._all


def test_the_reaper_removes_containers_past_their_lifetime_whoever_owns_them():
    now = int(time.time())
    mine = {"swe-srl": "1", OWNER_LABEL: owner_id()}
    expired = _Container("old", {**mine, host_docker.EXPIRES_LABEL: str(now - 1)})
    elsewhere = _Container("other-host", {"swe-srl": "1", OWNER_LABEL: "another-host:1:1",
                                          host_docker.EXPIRES_LABEL: str(now - 1)})
    alive = _Container("alive", {**mine, host_docker.EXPIRES_LABEL: str(now + 3600)})
    assert host_docker.reap_leftovers(_Client([expired, elsewhere, alive]), "swe-srl") == 2
    assert expired.removed and elsewhere.removed and not alive.removed


def test_the_build_lock_leaves_no_file_and_still_excludes(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    inside: list[int] = []
    overlaps: list[int] = []

    def build(n: int) -> None:
        with build_lock("swe-srl-test:lock"):
            if inside:
                overlaps.append(n)
            inside.append(n)
            time.sleep(0.02)
            inside.remove(n)

    threads = [threading.Thread(target=build, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not overlaps
    assert list(tmp_path.iterdir()) == []  # was one swe-srl-image-*.lock per image, forever
