#!/usr/bin/env python3
"""`helm template` of one chart for many values files, with Helm's own engine: Helm SDK v4.2.3
from PyPI helm-python-sdk (scripts/setup.sh installs it into .tools/venv), no helm binary.

    .tools/venv/bin/python scripts/helm_template.py --chart DIR [--release nats] [-n nats] CASE...

Each CASE is a folder holding `values.yaml`; the script writes `rendered.yaml` there (the
manifest of Helm's install action in client dry-run, what `helm template --no-hooks` prints)
or, when Helm refuses the values, `refused.txt` with Helm's message. One process renders every
case, so Helm's library is loaded once. Exit 0 when every case got one of the two files, 2 when
something else is wrong (helm_python missing, a values file unreadable).
"""
import argparse
import os
import sys

GO_SPACE = "\t\n\v\f\r \x85\xa0"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chart", required=True, help="the chart folder")
    p.add_argument("--release", default="nats", help="release name (default: nats)")
    p.add_argument("-n", "--namespace", default="nats", help="namespace (default: nats)")
    p.add_argument("cases", nargs="+", metavar="CASE", help="folders holding values.yaml")
    args = p.parse_args()
    try:
        import helm_python as helm
    except ImportError as e:
        sys.stderr.write(f"helm_template.py: cannot import helm_python ({e}); run scripts/setup.sh "
                         "and use .tools/venv/bin/python\n")
        return 2
    chart = os.path.abspath(args.chart)
    for case in args.cases:
        try:
            with open(os.path.join(case, "values.yaml"), encoding="utf-8") as fh:
                text = fh.read()
        except OSError as e:
            sys.stderr.write(f"helm_template.py: {e}\n")
            return 2
        for name in ("rendered.yaml", "refused.txt"):
            if os.path.exists(os.path.join(case, name)):
                os.remove(os.path.join(case, name))
        try:
            values = helm.values_from_yaml(text) or {}
            with helm.Config(namespace=args.namespace, storage_driver="memory") as cfg:
                rel = cfg.install(chart, args.release, values, namespace=args.namespace, dry_run="client")
            out, body = "rendered.yaml", rel.get("manifest", "").strip(GO_SPACE) + "\n"
        except helm.HelmError as e:
            out, body = "refused.txt", f"Error: {e}\n"
        with open(os.path.join(case, out), "w", encoding="utf-8") as fh:
            fh.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
