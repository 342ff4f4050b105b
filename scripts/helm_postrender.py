#!/usr/bin/env python3
"""Helm 4's own install action (client dry-run) on a chart, with a postrenderer/v1 plugin, as

    helm install RELEASE CHART -n NS -f VALUES --dry-run=client \\
        --post-renderer PLUGIN [--post-renderer-args ARG ...]

would run it, through PyPI helm-python-sdk (Helm's Go SDK as a shared library; scripts/setup.sh
installs it into .tools/venv). No helm binary, no cluster.

    .tools/venv/bin/python scripts/helm_postrender.py --chart DIR -f VALUES [-f MORE] \\
        [--plugin helm-plugin/natscc-postrender] [--natscc BIN] [--report FILE] \\
        [--release NAME] [-n NS] [--post-renderer-arg=ARG ...]

(`--post-renderer-arg=--values`: with `=`, so an argument that starts with `--` stays one.)

The install runs twice, without the plugin and with it. Prints one JSON object:
  render    the manifest Helm's install returns without a post-renderer (the chart's render)
  manifest  the manifest it returns with the plugin as post-renderer; null when Helm refused
  error     Helm's message when it refused the install with the plugin, else null
Exit 0 when the install with the plugin succeeded, 1 when Helm refused it, 2 when something
else is wrong (helm_python missing, the chart's own render failing, bad arguments).

The plugin is copied into a temporary HELM_PLUGINS folder (Helm's config, cache and data
folders go there too, and it is removed at the end). Helm's Go runtime reads the environment
the process started with, so the script sets HELM_PLUGINS, NATSCC_BIN (the natscc the plugin
runs), NATSCC_REPORT (where the plugin copies its findings) and NATSCC_NO_TTY, then starts
itself again.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "_NATSCC_HELM_HOME"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chart", required=True, help="the chart folder")
    p.add_argument("-f", "--values", action="append", default=[], metavar="FILE", help="values file; repeatable, later files win")
    p.add_argument("--plugin", default=os.path.join(ROOT, "helm-plugin", "natscc-postrender"), help="the plugin folder (default: the repository's)")
    p.add_argument("--natscc", help="the natscc the plugin runs (default: NATSCC_BIN, else natscc on PATH)")
    p.add_argument("--report", help="the file the plugin copies its findings to (NATSCC_REPORT)")
    p.add_argument("--release", default="nats-event-bus", help="release name (default: nats-event-bus)")
    p.add_argument("-n", "--namespace", default="nats", help="namespace (default: nats)")
    p.add_argument("--post-renderer-arg", action="append", default=[], metavar="ARG",
                   help="one --post-renderer-args argument; repeatable")
    return p.parse_args()


def fail(msg):
    sys.stderr.write(f"helm_postrender.py: {msg}\n")
    sys.exit(2)


def start_again(args):
    """Lays out the plugin folder and Helm's homes, sets the environment, and runs this script again."""
    plugin = os.path.abspath(args.plugin)
    if not os.path.isfile(os.path.join(plugin, "plugin.yaml")):
        fail(f"no plugin.yaml in {plugin}")
    home = tempfile.mkdtemp(prefix="natscc-helm-")
    plugins = os.path.join(home, "plugins")
    shutil.copytree(plugin, os.path.join(plugins, os.path.basename(plugin.rstrip("/"))))
    env = dict(os.environ, HELM_PLUGINS=plugins, NATSCC_NO_TTY="1", **{MARK: home})
    for var, sub in (("HELM_CONFIG_HOME", "config"), ("HELM_CACHE_HOME", "cache"), ("HELM_DATA_HOME", "data")):
        env[var] = os.path.join(home, sub)
    if args.natscc:
        env["NATSCC_BIN"] = os.path.abspath(args.natscc)
    if args.report:
        env["NATSCC_REPORT"] = os.path.abspath(args.report)
    script = os.path.abspath(__file__)
    try:
        os.execve(sys.executable, [sys.executable, script] + sys.argv[1:], env)
    except OSError as e:
        shutil.rmtree(home, ignore_errors=True)
        fail(f"cannot start {sys.executable} again: {e}")


def merge_maps(a, b):
    """Helm's MergeMaps: maps merge key by key, anything else from b replaces."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merge_maps(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def install(helm, native, chart, args, values, post_renderer):
    """The manifest Helm's install returns (client dry-run); raises helm.HelmError when Helm refuses."""
    opts = {"namespace": args.namespace, "dry_run": "client"}
    if post_renderer:
        opts.update(post_renderer=post_renderer, post_renderer_args=args.post_renderer_arg)
    with helm.Config(namespace=args.namespace, storage_driver="memory") as cfg:
        handle, ref = cfg._chart_args(chart)
        payload = native.call_string("helm_install", cfg._raw(), cfg._context_arg(None), handle, ref, args.release,
                                     json.dumps(values), json.dumps(opts))
    return json.loads(payload).get("manifest", "")


def main():
    args = parse_args()
    if not os.environ.get(MARK):
        start_again(args)
    home = os.environ[MARK]
    try:
        try:
            import helm_python as helm
            from helm_python import _native
        except ImportError as e:
            fail(f"cannot import helm_python ({e}); run scripts/setup.sh and use .tools/venv/bin/python")
        plugin = os.path.basename(os.path.abspath(args.plugin).rstrip("/"))
        chart = os.path.abspath(args.chart)
        values = {}
        for f in args.values:
            try:
                with open(f, encoding="utf-8") as fh:
                    values = merge_maps(values, helm.values_from_yaml(fh.read()) or {})
            except (OSError, helm.HelmError) as e:
                fail(f"cannot read values file {f}: {e}")
        try:
            render = install(helm, _native, chart, args, values, None)
        except helm.HelmError as e:
            fail(f"the chart's own render failed: {e}")
        out = {"render": render, "manifest": None, "error": None}
        try:
            out["manifest"] = install(helm, _native, chart, args, values, plugin)
        except helm.HelmError as e:
            out["error"] = str(e)
        sys.stdout.write(json.dumps(out) + "\n")
        return 0 if out["error"] is None else 1
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
