"""Images of synthesized tasks: a package's environment image, and one image per task.

The environment image is the base image plus the package's test requirements (installed from
wheels fetched on the host: containers have no network) and a `.pth` file that puts /testbed (or
/testbed/src) on the path, with a minimal dist-info so `importlib.metadata` finds the package.
Every other copy of the package's modules in it (Debian's, one vendored in another package, one
a requirement pulled in) is then deleted (images/copies.py): the tools import the one at /testbed.
Its tag is a digest of everything that goes in, so it is built once per content. A task image adds
the buggy repository at /testbed (one commit: the task's base_commit) and is tagged by that sha.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swe_srl.errors import PackageError, SandboxError
from swe_srl.images import copies
from swe_srl.host.docker import build_image, has_image
from swe_srl.images.base import AGENT_UID, LABEL_BASE, ensure_base_image
from swe_srl.images.sdist import normalize

log = logging.getLogger(__name__)

SITE_PACKAGES = "/usr/local/lib/python3.11/dist-packages"  # first on the base image's sys.path
ENV_REPOSITORY = "swe-srl-synth-env"
TASK_REPOSITORY = "swe-srl-synth"
LABEL_ENV = "swe-srl.synth-env"


def _digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _site_files(name: str, version: str, root: str) -> dict[str, bytes]:
    dist = f"{normalize(name).replace('-', '_')}-{version}.dist-info"
    path = "/testbed" + (f"/{root}" if root else "")
    return {
        "site/swe_srl_testbed.pth": f"{path}\n".encode(),
        f"site/{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"site/{dist}/INSTALLER": b"swe-srl\n",
    }


@dataclass(frozen=True)
class PackageEnv:
    """What goes into a package's environment image."""

    spec: str  # PACKAGE==VERSION or an sdist path, as the user gave it (for messages and the label)
    name: str  # the project's name
    version: str
    root: str  # where the package imports from: "src", or "" for the repo root
    wheels: Path  # the folder of wheels downloaded on the host (pip's own among them)
    requirements: tuple[str, ...]  # the test requirements those wheels provide
    fingerprint: str  # JSON of the package's module fingerprints (images/copies.py): what to delete


def env_image_tag(env: PackageEnv, base: str) -> str:
    """The content tag of a package's environment image."""
    wheel_digests = [f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in sorted(env.wheels.glob("*.whl"))]
    digest = _digest(base, env.name, env.version, env.root, "\n".join(env.requirements), "\n".join(wheel_digests),
                     env.fingerprint, Path(copies.__file__).read_bytes())
    return f"{ENV_REPOSITORY}.{normalize(env.name)}:{digest[:12]}"


def ensure_env_image(env: PackageEnv, client: Any) -> str:
    """Build (or reuse) the environment image of one package; PackageError naming it on failure."""
    base = ensure_base_image(client)
    tag = env_image_tag(env, base)
    if has_image(client, tag) is not None:
        return tag
    files: dict[str, bytes | Path] = dict(_site_files(env.name, env.version, env.root))
    lines = [f"FROM {base}", f"COPY site/ {SITE_PACKAGES}/"]
    if env.requirements:
        pips = sorted(env.wheels.glob("pip-*.whl"))
        if not pips:
            raise PackageError(env.spec, f"no pip wheel in {env.wheels} to install the test requirements with",
                               stage="build")
        for wheel in sorted(env.wheels.glob("*.whl")):
            files[f"wheels/{wheel.name}"] = wheel.read_bytes()
        files["wheels/requirements.txt"] = ("\n".join(env.requirements) + "\n").encode()
        lines += [
            "COPY wheels/ /tmp/swe-srl-wheels/",
            # pip runs straight from its wheel: the base image has no pip of its own.
            f"RUN python3 /tmp/swe-srl-wheels/{pips[-1].name}/pip install -q --no-index --find-links /tmp/swe-srl-wheels "
            "--break-system-packages --root-user-action=ignore --no-warn-script-location --disable-pip-version-check "
            "--no-cache-dir "
            "-r /tmp/swe-srl-wheels/requirements.txt && rm -rf /tmp/swe-srl-wheels",
        ]
    files["copies/copies.py"] = Path(copies.__file__).read_bytes()
    files["copies/fingerprint.json"] = env.fingerprint.encode()
    lines += ["COPY copies/ /tmp/swe-srl-copies/",
              "RUN python3 /tmp/swe-srl-copies/copies.py remove /tmp/swe-srl-copies/fingerprint.json "
              "&& rm -rf /tmp/swe-srl-copies"]
    log.info("%s: building environment image %s (%d requirements)", env.spec, tag, len(env.requirements))
    _build(client, tag, "\n".join(lines) + "\n", files, {LABEL_BASE: base, LABEL_ENV: env.spec}, env.spec)
    return tag


def ensure_synthesized_image(env_tag: str, testbed: Path, base_commit: str, name: str, client: Any, spec: str) -> str:
    """The image of one task: ``env_tag`` plus the buggy repo at /testbed, tagged by its commit."""
    tag = f"{TASK_REPOSITORY}.{normalize(name)}:{base_commit[:12]}"
    image = has_image(client, tag)
    if image is not None and (image.labels or {}).get(LABEL_ENV) == env_tag:
        return tag
    dockerfile = f"FROM {env_tag}\nCOPY --chown={AGENT_UID}:{AGENT_UID} testbed /testbed\nWORKDIR /testbed\n"
    _build(client, tag, dockerfile, {"testbed": testbed}, {LABEL_ENV: env_tag}, spec)
    return tag


def _build(client: Any, tag: str, dockerfile: str, files: dict[str, bytes | Path], labels: dict[str, str],
           spec: str) -> None:
    try:
        build_image(client, tag, dockerfile, files, labels)
    except SandboxError as err:
        raise PackageError(spec, str(err), stage="build") from None
