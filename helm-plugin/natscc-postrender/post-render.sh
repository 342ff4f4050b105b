#!/bin/sh
# Runs `natscc post-render` for Helm 4. Helm 4 keeps a post-renderer plugin's stderr to itself
# and reports only "exited with error", so the findings are also copied to the terminal when
# there is one (unless NATSCC_NO_TTY is set), and to the file NATSCC_REPORT names when it is set.
set -u
natscc="${NATSCC_BIN:-natscc}"
if ! command -v "$natscc" >/dev/null 2>&1; then
    msg="natscc-postrender: cannot find natscc (install it with 'cargo install --path .' or set NATSCC_BIN)"
    echo "$msg" >&2
    { echo "$msg" >/dev/tty; } 2>/dev/null || true
    exit 2
fi
# The arguments are post-render's own; a leading `post-render` (Helm 3's
# `--post-renderer-args post-render`, kept when moving to this plugin) is dropped, not doubled.
if [ "${1:-}" = post-render ]; then
    shift
fi
report="$(mktemp "${TMPDIR:-/tmp}/natscc-post-render.XXXXXX")" || exit 2
trap 'rm -f "$report"' EXIT
"$natscc" post-render "$@" 2>"$report"
status=$?
if [ -s "$report" ]; then
    cat "$report" >&2
    if [ -n "${NATSCC_REPORT:-}" ]; then
        cp "$report" "$NATSCC_REPORT"
    fi
    if [ "$status" -ne 0 ] && [ -z "${NATSCC_NO_TTY:-}" ]; then
        { cat "$report" >/dev/tty; } 2>/dev/null || true
    fi
fi
exit "$status"
