#!/usr/bin/env bash
# Puts a MinIO server binary in $(go env GOPATH)/bin unless one is already on PATH or there.
# Needs Go and the Go module proxy; the build is cached, so only the first run pays for it (minutes).
set -euo pipefail
gobin="$(go env GOPATH | cut -d: -f1)/bin"
if command -v minio >/dev/null 2>&1 || [ -x "$gobin/minio" ]; then
  echo "minio: $(command -v minio || echo "$gobin/minio")"
  exit 0
fi
# Pinned: MinIO's upstream repository is archived, so @latest may change or vanish. This is the build
# every test here ran against (RELEASE of 2026-02-12).
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
echo "building MinIO $MINIO_VERSION with go install (first time only)..."
GOTOOLCHAIN=local go install "github.com/minio/minio@$MINIO_VERSION"
echo "minio: $gobin/minio"
