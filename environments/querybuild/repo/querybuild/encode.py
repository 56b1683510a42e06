"""Encode a mapping of parameters as a query string."""

from urllib.parse import quote_plus

from querybuild.values import is_sequence, to_text


def _pairs(params, expand_lists, skip_none):
    items = params.items() if hasattr(params, "items") else params
    for key, value in items:
        if value is None:
            if not skip_none:
                yield key, ""
            continue
        if is_sequence(value):
            texts = [to_text(v) for v in value if v is not None]
            if expand_lists:
                for text in texts:
                    yield key, text
            else:
                yield key, ",".join(texts)
        else:
            yield key, to_text(value)


def encode_query(params, *, expand_lists=False, skip_none=True, safe=""):
    """A query string (no leading "?") from a mapping or a list of (key, value) pairs.

    ``safe`` lists characters that are not percent-encoded in values (e.g. "," or "/").
    """
    return "&".join(
        f"{quote_plus(str(key), safe=safe)}={quote_plus(text, safe=safe)}"
        for key, text in _pairs(params, expand_lists, skip_none)
    )
