"""A real `varve serve` (the built CLI, spawned) over a fresh repository, for each test session.

VARVE_BIN names the CLI (default: packages/cli/dist/bin.js of this checkout); NODE the node binary.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = os.environ.get("VARVE_BIN", str(ROOT / "packages" / "cli" / "dist" / "bin.js"))
NODE = os.environ.get("NODE", "node")

KEYS = {
    "etl": ("etl-secret", ["read", "write", "commit", "admin"]),
    "reviewer": ("reviewer-secret", ["read", "approve"]),
}


def varve(args: List[str], cwd: Path) -> str:
    r = subprocess.run([NODE, BIN, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1", "VARVE_REPO": ""}, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"varve {' '.join(args)}: {r.stderr}")
    return r.stdout


class Served:
    def __init__(self, url: str, lake: Path, work: Path) -> None:
        self.url = url
        self.lake = lake
        self.work = work

    def client(self, key: str = "etl"):
        from varve_client import Client

        return Client(self.url, key, KEYS[key][0])


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("varve-serve")
    lake = work / "lake"
    varve(["init", str(lake)], work)
    keys = "\n".join(
        f"  - accessKey: {k}\n    secretKey: {s}\n    grants: [{{ actions: [{', '.join(a)}] }}]" for k, (s, a) in KEYS.items()
    )
    (work / "serve.yaml").write_text(f"listen: 127.0.0.1:0\nrepositories:\n  - name: lake\n    location: {lake}\nuploadDir: {work / 'uploads'}\nkeys:\n{keys}\n")
    proc = subprocess.Popen([NODE, BIN, "serve", "--config", str(work / "serve.yaml")], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "VARVE_REPO": ""})
    try:
        first = proc.stdout.readline().strip() if proc.stdout else ""
        if not first.startswith("listening on "):
            raise RuntimeError(f"varve serve did not start: {first} {proc.stderr.read() if proc.stderr else ''}")
        yield Served(first[len("listening on "):], lake, work)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            print("varve serve did not stop within 30 s", file=sys.stderr)
