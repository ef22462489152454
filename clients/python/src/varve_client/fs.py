"""varve:// paths for fsspec: `varve://<repository>/<ref>/<path>`, read and written through the
gateway's S3 API (s3fs), so pandas, pyarrow, polars, DuckDB and HF datasets take Varve URLs as they are.

    pd.read_parquet("varve://lake/main/train/", storage_options={"endpoint": ..., "key": ..., "secret": ...})

Defaults come from VARVE_ENDPOINT, VARVE_ACCESS_KEY and VARVE_SECRET_KEY. A ref is a branch (reads
see its uncommitted changes; writes stage on it), a tag or a commit id (read-only, never changes).
"""

from __future__ import annotations

import os
from typing import Any, Optional

try:
    from s3fs import S3FileSystem
except ImportError as e:  # pragma: no cover - the extra is not installed
    raise ImportError("varve:// needs the fsspec extra: pip install 'varve-client[fsspec]'") from e


class VarveFileSystem(S3FileSystem):
    protocol = ("varve",)

    def __init__(self, endpoint: Optional[str] = None, key: Optional[str] = None, secret: Optional[str] = None, **kwargs: Any) -> None:
        endpoint = endpoint or os.environ.get("VARVE_ENDPOINT")
        if not endpoint:
            raise ValueError("varve:// needs an endpoint: storage_options={'endpoint': ...} or VARVE_ENDPOINT")
        client_kwargs = {"endpoint_url": endpoint, "region_name": "us-east-1", **kwargs.pop("client_kwargs", {})}
        config_kwargs = {"s3": {"addressing_style": "path"}, **kwargs.pop("config_kwargs", {})}
        super().__init__(
            key=key or os.environ.get("VARVE_ACCESS_KEY"),
            secret=secret or os.environ.get("VARVE_SECRET_KEY"),
            client_kwargs=client_kwargs,
            config_kwargs=config_kwargs,
            # a repository is a bucket made with varve init, never through S3
            **kwargs,
        )

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        path = str(path)
        if path.startswith("varve://"):
            path = path[len("varve://"):]
        return path.rstrip("/")
