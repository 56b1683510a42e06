"""How a task's image is made, recorded in its row as ``image_source`` (as swebench 5 records ``image``).

- ``{"kind": "bundled", "environment": "inikit"}``: built on the base image from environments/<environment>;
- ``{"kind": "registry"}``: the row's ``image``, pulled when the engine lacks it (official SWE-bench images);
- ``{"kind": "synthesized", "package": ..., "version": ..., "pristine_commit": ...}``: rebuilt from the
  package's sdist when missing (the factory's tasks, whose images are pushed nowhere).

images/task_image.py dispatches on it, so no layer needs to know who made a task. Rows written
before the field existed get it derived when loaded: a bundled instance id is bundled, a row
with the factory's ``synthesis`` record is synthesized, any other row is registry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Mapping, Union

from swe_srl.errors import DataError
from swe_srl.tasks.environments import bundled_task_dir

FIELD = "image_source"  # the row column


@dataclass(frozen=True)
class BundledImage:
    """Built on the base image with a bundled repository at /testbed."""

    kind: ClassVar[str] = "bundled"
    environment: str  # the folder under environments/


@dataclass(frozen=True)
class RegistryImage:
    """The row's ``image``, pulled from its registry when the engine does not have it."""

    kind: ClassVar[str] = "registry"


@dataclass(frozen=True)
class SynthesizedImage:
    """Rebuilt from a PyPI source distribution when the engine does not have it."""

    kind: ClassVar[str] = "synthesized"
    package: str  # the PyPI project
    version: str  # its version
    pristine_commit: str  # the commit its unpacked sdist must give, or the sdist has changed


ImageSource = Union[BundledImage, RegistryImage, SynthesizedImage]
_KINDS: dict[str, type] = {cls.kind: cls for cls in (BundledImage, RegistryImage, SynthesizedImage)}


def image_source_json(image_source: ImageSource) -> dict[str, Any]:
    """The row field of ``image_source``."""
    return {"kind": image_source.kind, **asdict(image_source)}


def image_source_from_row(row: Mapping[str, Any], *, source: str | None = None, line: int | None = None) -> ImageSource:
    """The row's recorded image source, or the one derived for a row written before the field existed."""
    recorded = row.get(FIELD)
    if recorded is not None:
        return _parse(recorded, source, line)
    meta = row.get("synthesis")
    if isinstance(meta, Mapping):
        return SynthesizedImage(str(meta.get("package", "")), str(meta.get("version", "")),
                                str(meta.get("pristine_commit", "")))
    task_dir = bundled_task_dir(str(row.get("instance_id", "")))
    if task_dir is not None:
        return BundledImage(task_dir.name)
    return RegistryImage()


def _parse(recorded: Any, source: str | None, line: int | None) -> ImageSource:
    def fail(message: str) -> DataError:
        return DataError(message, source=source, line=line, field=FIELD)

    if not isinstance(recorded, Mapping) or recorded.get("kind") not in _KINDS:
        raise fail(f"expected an object whose 'kind' is one of {', '.join(_KINDS)}")
    cls = _KINDS[recorded["kind"]]
    names = [f.name for f in fields(cls)]
    missing = [n for n in names if not isinstance(recorded.get(n), str)]
    if missing:
        raise fail(f"a {recorded['kind']} image source needs {', '.join(missing)} (strings)")
    return cls(**{n: recorded[n] for n in names})
