#!/usr/bin/env bash
# Puts the store emulators the tests start in $(go env GOPATH)/bin unless already there: MinIO (S3),
# versitygw (a second S3 implementation) and fake-gcs-server (GCS), each at a pinned version.
# Azurite (Azure) is an npm dev dependency.
# Needs Go and the Go module proxy; builds are cached, so only the first run pays (minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-minio.sh
gobin="$(go env GOPATH | cut -d: -f1)/bin"
FAKE_GCS_VERSION=v1.56.1
if command -v fake-gcs-server >/dev/null 2>&1 || [ -x "$gobin/fake-gcs-server" ]; then
  echo "fake-gcs-server: $(command -v fake-gcs-server || echo "$gobin/fake-gcs-server")"
else
  echo "building fake-gcs-server $FAKE_GCS_VERSION with go install (first time only)..."
  GOTOOLCHAIN=local go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
  echo "fake-gcs-server: $gobin/fake-gcs-server"
fi
VERSITYGW_VERSION=v1.8.0
if command -v versitygw >/dev/null 2>&1 || [ -x "$gobin/versitygw" ]; then
  echo "versitygw: $(command -v versitygw || echo "$gobin/versitygw")"
else
  echo "building versitygw $VERSITYGW_VERSION with go install (first time only)..."
  GOTOOLCHAIN=local go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION"
  echo "versitygw: $gobin/versitygw"
fi
