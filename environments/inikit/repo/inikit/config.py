"""Config and Section: ordered mappings with typed getters."""

_TRUE = {"1", "yes", "true", "on"}
_FALSE = {"0", "no", "false", "off"}
_MISSING = object()


class Section(dict):
    """The keys of one [section], in file order."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def _raw(self, key, default):
        if key in self:
            return self[key]
        if default is _MISSING:
            raise KeyError(f"[{self.name}] has no key {key!r}")
        return None

    def get_int(self, key, default=_MISSING):
        raw = self._raw(key, default)
        return default if raw is None else int(raw)

    def get_float(self, key, default=_MISSING):
        raw = self._raw(key, default)
        return default if raw is None else float(raw)

    def get_bool(self, key, default=_MISSING):
        raw = self._raw(key, default)
        if raw is None:
            return default
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"[{self.name}] {key} = {raw!r} is not a boolean")

    def get_list(self, key, default=_MISSING, sep=","):
        """Split on newlines and ``sep``; blank items are dropped."""
        raw = self._raw(key, default)
        if raw is None:
            return default
        items = []
        for line in raw.splitlines():
            items.extend(part.strip() for part in line.split(sep))
        return [item for item in items if item]


class Config(dict):
    """Sections by name, in file order."""

    def add_section(self, name):
        if name in self:
            raise ValueError(f"section [{name}] already exists")
        section = Section(name)
        self[name] = section
        return section

    def sections(self):
        return list(self)
