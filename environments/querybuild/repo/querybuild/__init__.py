"""querybuild: URLs and query strings from Python values."""

from querybuild.encode import encode_query
from querybuild.parse import parse_query
from querybuild.url import URL

__all__ = ["URL", "encode_query", "parse_query"]
