#!/usr/bin/env bash
# The Python clients the gateway and table tests and the python-training example use (boto3, the AWS CLI,
# pyarrow, DuckDB, pandas + s3fs, polars, fastparquet, delta-rs, pytest for clients/python), in a venv made from the pinned
# test/python/requirements.txt.
# Reused while the requirements are unchanged (its folder is named by their hash). Prints its path.
#   VARVE_TEST_VENV=<dir> overrides where it lives.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
req="$here/test/python/requirements.txt"
hash="$(sha256sum "$req" | cut -c1-12)"
venv="${VARVE_TEST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/varve/test-venv-$hash}"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  start=$(date +%s)
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$req" >&2
  touch "$venv/.complete"
  echo "python venv: installed $(wc -l < "$req") pinned packages into $venv in $(( $(date +%s) - start )) s" >&2
fi
echo "$venv"
