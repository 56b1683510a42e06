"""Loading any command's config: a frozen dataclass of sections, each a frozen dataclass of fields.

A YAML file has one mapping per section whose keys are the section's fields. Values are checked
against the fields' type hints. ``key=value`` overrides and command-line flags name a field as
``section.field`` or, where the field name is unique across sections, as ``field`` alone; text
values are read as YAML unless the field takes text (``lr=1e-5``, ``enabled=false``,
``target_modules=[q_proj,v_proj]``, ``native_tools=on``). Later sources win: the dataclass
defaults, then the YAML file (a bundled preset or the user's own), then flags, then overrides.
"""

from __future__ import annotations

import dataclasses
import types
from functools import cache
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from swe_srl.errors import ConfigError

PRESETS_ROOT = Path(__file__).resolve().parent.parent / "presets"
_NULL_TEXTS = ("", "null", "~", "None")

C = TypeVar("C")


@cache
def field_hints(cls: type) -> dict[str, Any]:
    """A dataclass's fields and their resolved type hints, in field order."""
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def field_default(cls: type, name: str) -> Any:
    """The default of field ``name`` of ``cls``, or dataclasses.MISSING when it has none."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def union_members(hint: Any) -> tuple[Any, ...]:
    return get_args(hint) if get_origin(hint) in (Union, types.UnionType) else (hint,)


def describe(hint: Any) -> str:
    """What a value of ``hint`` looks like, for error messages."""
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text", Path: "a path",
             type(None): "null"}
    parts = []
    for member in union_members(hint):
        if get_origin(member) is Literal:
            parts.append("one of " + ", ".join(map(str, get_args(member))))
        elif get_origin(member) is tuple:
            parts.append(f"a list of {describe(get_args(member)[0])}")
        else:
            parts.append(names.get(member, getattr(member, "__name__", str(member))))
    return " or ".join(parts)


def _coerce_one(value: Any, hint: Any) -> Any:
    """``value`` as ``hint`` wants it; raises ValueError when it is not one."""
    if hint is Any:
        return value
    if hint is type(None):
        if value is None:
            return None
    elif get_origin(hint) is Literal:
        if value in get_args(hint) and not isinstance(value, bool):
            return value
    elif get_origin(hint) is tuple:
        if isinstance(value, (list, tuple)):
            return tuple(coerce(v, get_args(hint)[0], "an item") for v in value)
    elif hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, str):
            try:
                value = float(value)  # YAML 1.1 reads "3e-3" (no dot) as text
            except ValueError:
                pass
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint in (str, Path):
        if value is None and hint is str:
            return ""  # an empty YAML value
        if isinstance(value, (str, int, float, Path)) and not isinstance(value, bool):
            return hint(value) if hint is Path else str(value)
    else:
        return value
    raise ValueError(value)


def coerce(value: Any, hint: Any, where: str) -> Any:
    """``value`` checked against ``hint`` (the first member of a union that takes it wins)."""
    if value is None and type(None) in union_members(hint):
        return None
    for member in union_members(hint):
        try:
            return _coerce_one(value, member)
        except ValueError:
            continue
    raise ConfigError(f"{where}: expected {describe(hint)}, got {value!r}")


def _takes_text(hint: Any, text: str) -> bool:
    """Whether ``text`` itself is a value of ``hint`` (so it must not be read as YAML)."""
    for member in union_members(hint):
        if member in (str, Path) or (get_origin(member) is Literal and text in get_args(member)):
            return True
    return False


def parse_text(text: str, hint: Any, where: str) -> Any:
    """A value from the command line, as ``hint`` wants it."""
    if type(None) in union_members(hint) and text.strip() in _NULL_TEXTS:
        return None
    if _takes_text(hint, text):
        return coerce(text, hint, where)
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: value is not valid YAML ({exc})") from None
    return coerce(value, hint, where)


def section_types(cls: type) -> dict[str, type]:
    """The sections of a command's config class, by name."""
    return dict(field_hints(cls))


def field_hint(cls: type, key: str, where: str) -> tuple[str, str, Any]:
    """(section, field, hint) for ``section.field`` or a unique ``field`` of config class ``cls``."""
    sections = section_types(cls)
    if "." in key:
        section, name = key.split(".", 1)
        if section not in sections or name not in field_hints(sections[section]):
            raise ConfigError(f"{where}: no field '{key}'")
        return section, name, field_hints(sections[section])[name]
    owners = [s for s, section_cls in sections.items() if key in field_hints(section_cls)]
    if not owners:
        raise ConfigError(f"{where}: no field named '{key}'")
    if len(owners) > 1:
        raise ConfigError(f"{where}: '{key}' is ambiguous; write one of {', '.join(o + '.' + key for o in owners)}")
    return owners[0], key, field_hints(sections[owners[0]])[key]


def _section(cls: type, name: str, values: Any, source: str, flags: Mapping[str, str]) -> Any:
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ConfigError(f"{source}: section '{name}' must be a mapping")
    hints = field_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{source}: unknown key '{name}.{key}' (known: {', '.join(sorted(hints))})")
        kwargs[key] = coerce(value, hints[key], f"{source}: {name}.{key}")
    for key in hints:
        if key not in kwargs and field_default(cls, key) is dataclasses.MISSING:
            how = f"pass {flags[f'{name}.{key}']} or set" if f"{name}.{key}" in flags else "set"
            raise ConfigError(f"{source}: {name}.{key} has no default: {how} it in the config file")
    return cls(**kwargs)


def from_dict(cls: type[C], data: Any, source: str = "<config>", flags: Mapping[str, str] = {}) -> C:
    """Build config class ``cls``; unknown sections or keys are errors that name them.

    ``flags`` maps ``section.field`` to the command-line flag that sets it, for the messages.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    sections = section_types(cls)
    unknown = [name for name in data if name not in sections]
    if unknown:
        raise ConfigError(f"{source}: unknown section '{unknown[0]}' (known: {', '.join(sections)})")
    return cls(**{name: _section(section_cls, name, data.get(name), source, flags)
                  for name, section_cls in sections.items()})


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain data (YAML and JSON writable)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    return {s.name: {k: plain(v) for k, v in dataclasses.asdict(getattr(config, s.name)).items()}
            for s in dataclasses.fields(config)}


def presets_in(folder: Path) -> list[str]:
    """The bundled preset names in a command's presets folder."""
    return sorted(p.stem for p in folder.glob("*.yaml"))


def resolve_preset(path_or_name: str | Path, presets: Path) -> Path:
    """A YAML file path, or the name of a bundled preset in ``presets`` (e.g. ``tiny-cpu``)."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    preset = presets / f"{path_or_name}.yaml"
    if preset.is_file():
        return preset
    raise ConfigError(f"config '{path_or_name}' is neither a file nor a preset "
                      f"(presets: {', '.join(presets_in(presets)) or 'none'})")


def read_yaml(path_or_name: str | Path | None, presets: Path) -> tuple[dict[str, Any], str]:
    """The raw sections of a YAML file or preset (none: empty), and its name for messages."""
    if path_or_name is None:
        return {}, "defaults"
    file = resolve_preset(path_or_name, presets)
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of sections")
    return data, str(file)


def load(cls: type[C], path_or_name: str | Path | None, presets: Path, *, flags: Mapping[str, Any] = {},
         flag_names: Mapping[str, str] = {}, overrides: Iterable[str] = ()) -> C:
    """Config class ``cls`` from defaults, a YAML file or preset, flag values, then ``key=value`` overrides.

    ``flags`` maps ``section.field`` to what its flag was given: text, a list of texts, or True.
    """
    data, source = read_yaml(path_or_name, presets)
    data = {name: dict(values or {}) for name, values in data.items()}
    for key, given in flags.items():
        section, name, hint = field_hint(cls, key, "flags")
        where = flag_names.get(key, key)
        if given is True:
            value = True
        elif isinstance(given, list):
            value = [parse_text(text, _item_hint(hint), where) for text in given]
        else:
            value = parse_text(given, hint, where)
        data.setdefault(section, {})[name] = value
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise ConfigError(f"override '{item}' is not of the form key=value")
        section, name, hint = field_hint(cls, key.strip().lstrip("-"), f"override '{item}'")
        data.setdefault(section, {})[name] = parse_text(text, hint, f"override '{item}': {section}.{name}")
    return from_dict(cls, data, source, flag_names)


def _item_hint(hint: Any) -> Any:
    """The item type of a list field (``tuple[X, ...]`` or ``tuple[X, ...] | None``)."""
    for member in union_members(hint):
        if get_origin(member) is tuple:
            return get_args(member)[0]
    return hint
