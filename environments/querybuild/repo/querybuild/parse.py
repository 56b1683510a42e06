"""Parse a query string back into values."""

from urllib.parse import unquote_plus


def parse_query(query):
    """Key -> list of values, in order of appearance. A leading "?" is ignored."""
    result = {}
    query = query[1:] if query.startswith("?") else query
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        result.setdefault(unquote_plus(key), []).append(unquote_plus(value))
    return result
