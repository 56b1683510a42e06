"""Turn a stream of tokens into a Config."""

from inikit.config import Config
from inikit.errors import ParseError
from inikit.lexer import tokenize


def parse(text):
    """Parse INI ``text`` into a Config."""
    config = Config()
    section = None
    last_key = None
    for token in tokenize(text):
        if token.kind in ("blank", "comment"):
            continue
        if token.kind == "section":
            if token.name in config:
                raise ParseError(f"duplicate section [{token.name}]", token.lineno)
            section = config.add_section(token.name)
            last_key = None
        elif token.kind == "pair":
            if section is None:
                raise ParseError("key/value pair before any [section] header", token.lineno)
            if token.name in section:
                raise ParseError(f"duplicate key {token.name!r} in [{section.name}]", token.lineno)
            section[token.name] = token.value
            last_key = token.name
        elif token.kind == "continuation":
            if last_key is None:
                raise ParseError("indented line does not continue any value", token.lineno)
            previous = section[last_key]
            section[last_key] = f"{previous}\n{token.value}" if previous else token.value
        else:
            raise ParseError(f"cannot parse {token.value!r}", token.lineno)
    return config
