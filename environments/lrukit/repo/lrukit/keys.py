"""Cache keys for function calls."""

_KWARGS_MARK = object()


def make_key(args, kwargs, typed=False):
    """A hashable key for a call; with ``typed``, 1 and 1.0 get different keys."""
    key = tuple(args)
    if kwargs:
        key += (_KWARGS_MARK,) + tuple(sorted(kwargs.items()))
    if typed:
        key += tuple(type(a) for a in args) + tuple(type(v) for _, v in sorted(kwargs.items()))
    return key
