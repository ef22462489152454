"""varve.lock files, as `varve pin` and `pinDataset` write them, so one lockfile serves both languages."""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from typing import Any, Dict, Optional


def read_lock(path: str) -> Dict[str, Any]:
    """The lockfile's pins by name ({} when the file does not exist)."""
    try:
        with open(path, encoding="utf-8") as f:
            lock = json.load(f)
    except FileNotFoundError:
        return {}
    if lock.get("version") != 1 or not isinstance(lock.get("pins"), dict):
        raise ValueError(f"{path} is not a varve.lock file (version 1)")
    return lock["pins"]


def write_pin(path: str, name: str, *, repo: str, ref: str, commit: str, endpoint: Optional[str] = None) -> Dict[str, Any]:
    """Adds or moves pin `name` in the lockfile, written whole to a temporary file and renamed."""
    pins = read_lock(path)
    pin: Dict[str, Any] = {
        "name": name, "repo": repo, "ref": ref, "commit": commit,
        "pinnedAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "code": None, "repoPin": name,
    }
    if endpoint:
        pin["endpoint"] = endpoint
    pins[name] = pin
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".varve.lock.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"version": 1, "pins": pins}, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)
    return pin
