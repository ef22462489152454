#!/usr/bin/env bash
# The Python training example end to end: a repository with training data, a pin written by the CLI,
# `varve serve` in the background, and train.py reading the pinned commit through the gateway.
#   bash examples/python-training/run.sh [workdir] [python]     (python: one with pandas, s3fs, numpy)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
varve() { node "$here/../../packages/cli/dist/bin.js" "$@"; }
work="${1:-./python-training-workdir}"
python="${2:-python3}"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export VARVE_AUTHOR=python-training

node "$here/../make-parquet.mjs" data 1 3
varve init
varve put data/ main:train/
varve commit main -m "Three days of training data"
varve pin main --name train-data                  # writes varve.lock: commit it with the job's code

export VARVE_SERVE_ACCESS_KEY=trainer VARVE_SERVE_SECRET_KEY=trainer-secret
# node itself in the background (not the varve function: $! would be a subshell, and the server outlive it)
node "$here/../../packages/cli/dist/bin.js" serve .varve --name lake --listen 127.0.0.1:0 > serve.out 2> serve.err &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do grep -q '^listening on ' serve.out 2>/dev/null && break; sleep 0.1; done
endpoint="$(sed -n 's/^listening on //p' serve.out | head -1)"
[ -n "$endpoint" ] || { cat serve.err; echo "varve serve did not start"; exit 1; }

# main moves on after the pin: the job still trains on the pinned commit
node "$here/../make-parquet.mjs" more 4 1
varve put more/ main:train/
varve commit main -m "Day 4"

AWS_ACCESS_KEY_ID=trainer AWS_SECRET_ACCESS_KEY=trainer-secret "$python" "$here/train.py" varve.lock "$endpoint" train-data model.json

# SIGTERM drains and exits 0
kill -TERM $server
wait $server
trap - EXIT
echo "varve serve stopped"
