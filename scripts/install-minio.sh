#!/usr/bin/env bash
# Puts a MinIO server binary in $(go env GOPATH)/bin unless one is already on PATH or there.
# Needs Go and the Go module proxy; the build is cached, so only the first run pays for it (minutes).
set -euo pipefail
gobin="$(go env GOPATH | cut -d: -f1)/bin"
if command -v minio >/dev/null 2>&1 || [ -x "$gobin/minio" ]; then
  echo "minio: $(command -v minio || echo "$gobin/minio")"
  exit 0
fi
echo "building MinIO with go install (first time only)..."
GOTOOLCHAIN=local go install github.com/minio/minio@latest
echo "minio: $gobin/minio"
