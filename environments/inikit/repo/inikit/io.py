"""Reading and writing INI text and files."""

from inikit.parser import parse


def loads(text):
    """Parse INI text."""
    return parse(text)


def load(path):
    """Read and parse the INI file at ``path``."""
    with open(path, encoding="utf-8") as handle:
        return parse(handle.read())


def dumps(config):
    """Render a Config as INI text (multi-line values become continuation lines)."""
    chunks = []
    for name, section in config.items():
        lines = [f"[{name}]"]
        for key, value in section.items():
            first, *rest = str(value).split("\n")
            lines.append(f"{key} = {first}")
            lines.extend(f"    {line}" for line in rest)
        chunks.append("\n".join(lines))
    return "\n\n".join(chunks) + "\n"


def dump(config, path):
    """Write a Config to ``path``."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(dumps(config))
