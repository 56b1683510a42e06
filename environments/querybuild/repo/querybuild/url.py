"""An immutable URL with helpers for paths and query strings."""

from urllib.parse import urlsplit, urlunsplit

from querybuild.encode import encode_query


class URL:
    def __init__(self, text):
        self._parts = urlsplit(text)

    def __str__(self):
        return urlunsplit(self._parts)

    def __repr__(self):
        return f"URL({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, URL) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    @property
    def path(self):
        return self._parts.path

    @property
    def query(self):
        return self._parts.query

    def _replace(self, **changes):
        new = URL.__new__(URL)
        new._parts = self._parts._replace(**changes)
        return new

    def join(self, *segments):
        """Append path segments, with exactly one "/" between each."""
        path = self._parts.path.rstrip("/")
        for segment in segments:
            path += "/" + str(segment).strip("/")
        return self._replace(path=path)

    def with_query(self, params=None, **kwargs):
        """A copy with the query replaced by ``params`` and keyword parameters.

        Options of encode_query (expand_lists, skip_none, safe) are not accepted here: use
        ``with_query_options`` for those.
        """
        merged = dict(params or {})
        merged.update(kwargs)
        return self._replace(query=encode_query(merged))

    def with_query_options(self, params, **options):
        """Like with_query, passing ``options`` on to encode_query."""
        return self._replace(query=encode_query(params, **options))

    def add_query(self, params=None, **kwargs):
        """A copy with parameters appended to the existing query."""
        merged = dict(params or {})
        merged.update(kwargs)
        extra = encode_query(merged)
        query = f"{self._parts.query}&{extra}" if self._parts.query and extra else self._parts.query or extra
        return self._replace(query=query)
