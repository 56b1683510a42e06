"""A validation container: the pristine package repo at /testbed, where the suite runs again and again.

One long-lived container per package and worker; a candidate bug is written into it, the
relevant tests run, and `git checkout` puts the file back. Bytecode is never written, so a
restored file can never be shadowed by a stale .pyc of the bug.
"""

from __future__ import annotations

import io
import json
import logging
import shlex
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swebench.harness.log_parsers import parse_log_pytest

from swe_srl.errors import SandboxError
from swe_srl.errors import PackageError
from swe_srl.host.docker import owned_labels, reap_leftovers, remove_container, start_container

log = logging.getLogger(__name__)

LABEL = "swe-srl.factory"
PLUGIN_DIR = "/opt/swe-srl-factory"
CALLS_OUT = "/tmp/swe-srl-calls.json"
TIMED_OUT = (124, 137)  # coreutils timeout: TERM answered, or KILL needed


@dataclass(frozen=True)
class SuiteRun:
    """One pytest run: status per test node id (as the harness's parser reads them), output, time."""

    statuses: dict[str, str]
    output: str
    seconds: float
    timed_out: bool
    exit_code: int

    def passed(self) -> set[str]:
        return {t for t, s in self.statuses.items() if s in ("PASSED", "XFAIL")}


class ValidationContainer:
    """See the module docstring. Use as a context manager."""

    def __init__(self, client: Any, image: str, repo: Path, spec: str) -> None:
        self.spec = spec
        self.client = client
        reap_leftovers(client, LABEL)
        try:
            self.container = start_container(client, image, owned_labels(LABEL), network_mode="none", mem_limit="4g")
        except SandboxError as err:
            raise PackageError(spec, str(err), stage="baseline") from None
        try:
            self._put(repo, "/testbed")
            plugin = Path(__file__).with_name("pytest_calls.py")
            self._put_bytes({"swe_srl_calls.py": plugin.read_bytes()}, PLUGIN_DIR)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "ValidationContainer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            remove_container(self.container)
        except SandboxError as err:  # cleanup: keep going
            log.warning("%s: %s", self.spec, err)

    def _put(self, folder: Path, dest: str) -> None:
        stream = io.BytesIO()
        with tarfile.open(fileobj=stream, mode="w") as tar:
            tar.add(folder, arcname=Path(dest).name)
        self.container.put_archive(str(Path(dest).parent), stream.getvalue())

    def _put_bytes(self, files: dict[str, bytes], dest: str) -> None:
        self.exec(f"mkdir -p {shlex.quote(dest)}")
        stream = io.BytesIO()
        with tarfile.open(fileobj=stream, mode="w") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o644
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(data))
        self.container.put_archive(dest, stream.getvalue())

    def exec(self, command: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        code, output = self.container.exec_run(["bash", "-c", command], workdir="/testbed", environment=env)
        return code, output.decode("utf-8", errors="replace")

    def write(self, path: str, text: str) -> None:
        """Replace a repo file (the candidate bug)."""
        parent, name = str(Path(path).parent), Path(path).name
        self._put_bytes({name: text.encode()}, f"/testbed/{parent}" if parent != "." else "/testbed")

    def restore(self, path: str) -> None:
        code, out = self.exec(f"git checkout -q HEAD -- {shlex.quote(path)}")
        if code != 0:
            raise PackageError(self.spec, f"could not restore {path} in the validation container: {out.strip()}")

    def pytest(self, files: list[str] | None, timeout: float, *, calls: bool = False, tb: str = "short") -> SuiteRun:
        """Run pytest as the eval script does (-rA), on ``files`` or the whole configured suite."""
        args = " ".join(shlex.quote(f) for f in files) if files else ""
        plugin = "-p swe_srl_calls" if calls else ""
        command = (f"timeout -k 5 {int(timeout)} python3 -m pytest -rA -p no:cacheprovider --tb={tb} "
                   f"{plugin} {args}")
        env = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0"}
        if calls:
            env |= {"PYTHONPATH": PLUGIN_DIR, "SWE_SRL_CALLS_OUT": CALLS_OUT}
        start = time.monotonic()
        code, output = self.exec(command, env)
        seconds = time.monotonic() - start
        statuses = parse_log_pytest(output, None)
        return SuiteRun(statuses, output, seconds, code in TIMED_OUT, code)

    def calls(self) -> dict[str, list[str]]:
        """What the last `pytest(..., calls=True)` run recorded: test node id -> functions called."""
        code, out = self.exec(f"cat {CALLS_OUT}")
        if code != 0:
            return {}
        try:
            return json.loads(out)
        except json.JSONDecodeError:
            return {}
