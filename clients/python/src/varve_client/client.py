"""The JSON API of `varve serve` (/api/v1) as Python calls. Standard library only."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

JSON = Dict[str, Any]


class VarveError(Exception):
    """An error the server answered: `code` is Varve's stable error code (NOT_FOUND, MERGE_CONFLICT, ...)."""

    def __init__(self, status: int, code: str, message: str, details: Optional[JSON] = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: JSON = details or {}


class Client:
    """A connection to `varve serve`. Credentials are an access key of its config (HTTP Basic).

    Defaults come from the environment: VARVE_ENDPOINT, VARVE_ACCESS_KEY, VARVE_SECRET_KEY.
    """

    def __init__(self, endpoint: Optional[str] = None, access_key: Optional[str] = None, secret_key: Optional[str] = None, timeout: float = 300.0) -> None:
        endpoint = endpoint or os.environ.get("VARVE_ENDPOINT")
        if not endpoint:
            raise ValueError("an endpoint is needed: Client('http://127.0.0.1:9010', ...) or VARVE_ENDPOINT")
        self.endpoint = endpoint.rstrip("/")
        self.access_key = access_key or os.environ.get("VARVE_ACCESS_KEY")
        self.secret_key = secret_key or os.environ.get("VARVE_SECRET_KEY")
        self.timeout = timeout

    # ---- transport ---------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None, query: Optional[Mapping[str, Any]] = None) -> Any:
        url = f"{self.endpoint}/api/v1{path}"
        q = {k: (",".join(v) if isinstance(v, (list, tuple)) else str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (query or {}).items() if v is not None}
        if q:
            url += "?" + urllib.parse.urlencode(q)
        data = None if body is None else json.dumps({k: v for k, v in body.items() if v is not None}).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.access_key is not None:
            token = base64.b64encode(f"{self.access_key}:{self.secret_key or ''}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                raw = res.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                err = json.loads(raw).get("error", {})
            except ValueError:
                err = {}
            raise VarveError(e.code, err.get("code", f"HTTP_{e.code}"), err.get("message", raw.decode(errors="replace")[:500]), err.get("details")) from None
        return json.loads(raw) if raw else None

    @staticmethod
    def _p(*parts: str) -> str:
        # Branch names may hold '/': each part is escaped whole, '/' included (the server accepts both).
        return "/" + "/".join(urllib.parse.quote(p, safe="") for p in parts)

    # ---- repositories and branches -----------------------------------------------------------

    def repositories(self) -> List[str]:
        return [r["name"] for r in self._call("GET", "/repositories")["repositories"]]

    def branches(self, repo: str) -> List[JSON]:
        return self._call("GET", self._p("repositories", repo, "branches"))["branches"]

    def branch(self, repo: str, name: str) -> JSON:
        return self._call("GET", self._p("repositories", repo, "branches", name))

    def create_branch(self, repo: str, name: str, source: Optional[str] = None) -> JSON:
        return self._call("POST", self._p("repositories", repo, "branches"), {"name": name, "from": source})

    def delete_branch(self, repo: str, name: str) -> None:
        self._call("DELETE", self._p("repositories", repo, "branches", name))

    # ---- commits -------------------------------------------------------------------------------

    def commit(self, repo: str, branch: str, message: str, author: Optional[str] = None, metadata: Optional[Mapping[str, Any]] = None, allow_empty: bool = False) -> JSON:
        """Commits what is staged on the branch (uploads through the S3 API stage). The access key is the committer."""
        return self._call("POST", self._p("repositories", repo, "branches", branch, "commits"), {"message": message, "author": author, "metadata": metadata, "allowEmpty": allow_empty or None})

    def uncommitted(self, repo: str, branch: str, prefix: Optional[str] = None) -> List[JSON]:
        return self._call("GET", self._p("repositories", repo, "branches", branch, "changes"), query={"prefix": prefix})["changes"]

    def get_commit(self, repo: str, revision: str) -> JSON:
        return self._call("GET", self._p("repositories", repo, "commits", revision))

    def log(self, repo: str, ref: str, limit: int = 100, prefix: Optional[str] = None, first_parent: bool = False) -> List[JSON]:
        return self._call("GET", self._p("repositories", repo, "log"), query={"ref": ref, "limit": limit, "prefix": prefix, "firstParent": first_parent or None})["commits"]

    def revert(self, repo: str, branch: str, commit: str, parent: Optional[int] = None, author: Optional[str] = None) -> JSON:
        return self._call("POST", self._p("repositories", repo, "branches", branch, "reverts"), {"commit": commit, "parent": parent, "author": author})

    def reset(self, repo: str, branch: str, to: str, discard_changes: bool = False) -> JSON:
        return self._call("POST", self._p("repositories", repo, "branches", branch, "reset"), {"to": to, "discardChanges": discard_changes or None})

    # ---- diffs ---------------------------------------------------------------------------------

    def diff(self, repo: str, left: str, right: str, prefix: Optional[str] = None, page_size: int = 1000) -> Iterator[JSON]:
        """Every change between two revisions, in path order, fetched a page at a time."""
        after: Optional[str] = None
        while True:
            page = self._call("GET", self._p("repositories", repo, "diff"), query={"left": left, "right": right, "prefix": prefix, "limit": page_size, "after": after})
            yield from page["changes"]
            if not page.get("truncated"):
                return
            after = page["next"]

    def diff_rows(self, repo: str, left: str, right: str, path: str, key: Sequence[str], columns: Optional[Sequence[str]] = None, limit: int = 1000) -> JSON:
        """Row-level diff of a Parquet file (or a folder ending in '/' read as one table), matched by `key`.

        Returns {schema, rows (at most `limit`: added / removed / changed records), summary, truncated}.
        """
        return self._call("GET", self._p("repositories", repo, "diff", "rows"), query={"left": left, "right": right, "path": path, "key": list(key), "columns": list(columns) if columns else None, "limit": limit})

    # ---- merging -------------------------------------------------------------------------------

    def merge(self, repo: str, source: str, dest: str, strategy: Optional[str] = None, message: Optional[str] = None, dry_run: bool = False, resolve: Optional[Sequence[Mapping[str, Any]]] = None, author: Optional[str] = None) -> JSON:
        """Merges `source` into `dest` through its gates (MERGE_CONFLICT, HOOK_FAILED and APPROVAL_REQUIRED raise VarveError)."""
        return self._call("POST", self._p("repositories", repo, "merges"), {"source": source, "dest": dest, "strategy": strategy, "message": message, "dryRun": dry_run or None, "resolve": list(resolve) if resolve else None, "author": author})

    def hooks_check(self, repo: str, source: str, dest: str) -> JSON:
        """Runs the destination's pre-merge gates on the merge as it would be; nothing moves."""
        return self._call("POST", self._p("repositories", repo, "hooks", "check"), {"source": source, "dest": dest})

    # ---- merge requests ------------------------------------------------------------------------

    def open_merge_request(self, repo: str, source: str, dest: str, title: str, description: Optional[str] = None) -> JSON:
        return self._call("POST", self._p("repositories", repo, "merge-requests"), {"source": source, "dest": dest, "title": title, "description": description})

    def merge_requests(self, repo: str, state: Optional[str] = None) -> List[JSON]:
        return self._call("GET", self._p("repositories", repo, "merge-requests"), query={"state": state})["mergeRequests"]

    def merge_request(self, repo: str, id: int) -> JSON:
        return self._call("GET", self._p("repositories", repo, "merge-requests", str(id)))

    def approve(self, repo: str, id: int, head: Optional[str] = None, signature: Optional[str] = None) -> JSON:
        """Approves as the access key (`signature`: an SSH signature of `signing_text`, where approvals must be signed)."""
        return self._call("POST", self._p("repositories", repo, "merge-requests", str(id), "approvals"), {"head": head, "signature": signature})

    def signing_text(self, repo: str, id: int) -> JSON:
        return self._call("GET", self._p("repositories", repo, "merge-requests", str(id), "signing-text"))

    def unapprove(self, repo: str, id: int) -> JSON:
        return self._call("DELETE", self._p("repositories", repo, "merge-requests", str(id), "approvals"))

    def comment(self, repo: str, id: int, text: str, path: Optional[str] = None) -> JSON:
        return self._call("POST", self._p("repositories", repo, "merge-requests", str(id), "comments"), {"text": text, "path": path})

    def close_merge_request(self, repo: str, id: int) -> JSON:
        return self._call("POST", self._p("repositories", repo, "merge-requests", str(id), "close"), {})

    def merge_merge_request(self, repo: str, id: int, strategy: Optional[str] = None, message: Optional[str] = None) -> JSON:
        return self._call("POST", self._p("repositories", repo, "merge-requests", str(id), "merge"), {"strategy": strategy, "message": message})

    # ---- tags and pins -------------------------------------------------------------------------

    def tags(self, repo: str) -> List[JSON]:
        return self._call("GET", self._p("repositories", repo, "tags"))["tags"]

    def create_tag(self, repo: str, name: str, ref: str) -> JSON:
        return self._call("POST", self._p("repositories", repo, "tags"), {"name": name, "ref": ref})

    def pins(self, repo: str) -> List[JSON]:
        return self._call("GET", self._p("repositories", repo, "pins"))["pins"]

    def pin(self, repo: str, name: str, ref: str, lock: Optional[str] = None) -> JSON:
        """Pins the commit `ref` names now (gc keeps it); with `lock`, also records it in a varve.lock file."""
        pin = self._call("POST", self._p("repositories", repo, "pins"), {"name": name, "ref": ref})
        if lock is not None:
            from .lock import write_pin

            write_pin(lock, name, repo=f"varve://{repo}", ref=ref, commit=pin["commit"], endpoint=self.endpoint)
        return pin

    def unpin(self, repo: str, name: str) -> None:
        self._call("DELETE", self._p("repositories", repo, "pins", name))
