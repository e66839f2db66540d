"""Setting environment variables for the length of one call.

dbt reads its profile and vars from `os.environ`, and dagster-dbt hands `os.environ` to the dbt
it starts, so per-call settings (target, schema, DATA_DIR) have to go there — and come back out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager


@contextmanager
def environment_overrides(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in `os.environ`, restoring every previous value (or absence) afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
