"""Exceptions raised by inikit."""


class ParseError(ValueError):
    """A line of INI text that cannot be understood."""

    def __init__(self, message, lineno):
        self.lineno = lineno
        super().__init__(f"line {lineno}: {message}")
