#!/usr/bin/env bash
# Installs everything the workspace needs on a fresh machine with Node >= 20 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
PNPM_VERSION=12.21.0
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$PNPM_VERSION" ]; then
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi
# better-sqlite3 compiles from source when no prebuilt binary can be downloaded; point node-gyp at
# the installed Node headers when they exist so it needs no download either.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then
  export npm_config_nodedir=/usr
fi
pnpm install --frozen-lockfile
