"""Reading settings out of an environment mapping: numbers and lists with clear errors.

Every part of the project (the ingest service, the upkeep jobs, the orchestration) builds its
settings from a mapping (default `os.environ`) with these helpers, when it needs them and never at
import, so tests can hand in a mapping of their own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SettingsError(ValueError):
    """An environment variable holds a value the service or pipeline cannot use; the message says which."""


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw} must be at least {minimum:g}")  # as the user typed it
    return value


def env_float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw} must be at least {minimum:g}")  # as the user typed it
    return value


def env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list; blanks dropped."""
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} must be true or false")


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return raw


def sql_identifier(name: str, what: str = "DBT_PG_SCHEMA") -> str:
    """`name` if it is a plain SQL identifier (safe to put into SQL text), else SettingsError."""
    if not _IDENTIFIER.fullmatch(name):
        raise SettingsError(f"{what}={name!r} is not a valid SQL identifier (letters, digits, _)")
    return name
