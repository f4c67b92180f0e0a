"""Reading Fourfold's configuration from the environment, shared by the settings and the ``fourfold`` command."""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def data_dir() -> Path:
    """Where local files live (SQLite database, secret key, collected static files).

    ``FOURFOLD_DATA_DIR``, or ``./data`` under the directory Fourfold is started from.
    """
    return Path(os.environ.get("FOURFOLD_DATA_DIR") or Path.cwd() / "data").resolve()


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable; anything unrecognised is an error, not a silent ``False``."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value (expected true/false, 1/0, yes/no, on/off)")


def env_list(name: str, default: str) -> list[str]:
    """Read a comma-separated environment variable into a list, ignoring blanks."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    """Read a bounded integer so that a typo fails at start-up with the variable named."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from error
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} is out of range (expected {minimum}..{maximum})")
    return value


PACKAGE_DIR = Path(__file__).resolve().parent
