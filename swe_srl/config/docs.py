"""Each config field's one-line doc, read from the comment beside it in the dataclass's source.

The config dataclasses document a field with a comment after it on its line, or on the lines just
above it; ``--help`` lists the fields from here, so the list cannot drift from the code.
"""

from __future__ import annotations

import ast
import inspect
import io
import textwrap
import tokenize
from functools import cache


@cache
def field_docs(cls: type) -> dict[str, str]:
    """Field name -> its comment in ``cls``'s source ("" where it has none; all "" where no source is installed)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # bytecode only: --help lists the fields without their docs
        return {name: "" for name in cls.__dataclass_fields__}
    lines = source.splitlines()
    comments = {token.start[0]: token.string.lstrip("#").strip()
                for token in tokenize.generate_tokens(io.StringIO(source).readline) if token.type == tokenize.COMMENT}
    (node,) = ast.parse(source).body
    docs = {}
    for item in node.body:
        if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
            continue
        above = []
        line = item.lineno - 1
        while line in comments and lines[line - 1].lstrip().startswith("#"):
            above.insert(0, comments[line])
            line -= 1
        docs[item.target.id] = comments.get(item.end_lineno) or " ".join(above)
    return docs
