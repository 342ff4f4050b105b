//! What a rendered stream holds for the bus: its documents, the NATS config files its
//! ConfigMaps carry, and where the pods see those files (their volume mounts), so that an
//! `include` resolves the way it will in the pod.

use crate::diag::block::{BlockLines, span_in};
use crate::diag::{Sources, Span};
use crate::load::Node;
use crate::natsconf::{self, Found, Reader, clean};
use std::collections::BTreeMap;

/// One document of the stream with the fields every object has.
pub struct Doc<'a> {
    /// 1-based position in the stream.
    pub index: usize,
    pub node: &'a Node,
    pub api: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
}

pub fn docs(nodes: &[Node]) -> Vec<Doc<'_>> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let s = |path: &[&str]| node.path(path).and_then(Node::as_str);
            Doc {
                index: i + 1,
                node,
                api: s(&["apiVersion"]).unwrap_or(""),
                kind: s(&["kind"]).unwrap_or(""),
                name: s(&["metadata", "name"]).unwrap_or(""),
                namespace: s(&["metadata", "namespace"]),
            }
        })
        .collect()
}

impl Doc<'_> {
    pub fn is_gateway_api(&self) -> bool {
        self.api.starts_with("gateway.networking.k8s.io/")
    }
}

/// A NATS config carried by one ConfigMap key.
pub struct ConfFile {
    pub cm: String,
    pub key: String,
    pub doc: usize,
    pub text: String,
    pub value_span: Span,
    lines: Option<BlockLines>,
}

/// The prefix of the paths given to ConfigMap keys no workload of the stream mounts.
pub const UNMOUNTED: &str = "/configmap/";

impl ConfFile {
    /// Where a place in this config is in the stream.
    pub fn span(&self, pos: natsconf::Pos, sources: &Sources) -> Span {
        span_in(
            self.lines,
            self.value_span,
            (pos.line, pos.col, pos.len),
            sources,
        )
    }
    /// Do the config's lines sit in the stream line by line (a literal block)?
    pub fn mapped(&self) -> bool {
        self.lines.is_some()
    }
    pub fn describe(&self) -> String {
        format!("ConfigMap `{}` (document {})", self.cm, self.doc)
    }
    /// Is this place of the stream inside the config's text?
    pub fn contains(&self, sp: Span) -> bool {
        sp.src == self.value_span.src
            && sp.offset >= self.value_span.offset
            && sp.offset < self.value_span.offset + self.value_span.len.max(1)
    }
    /// Names a place inside the config for a message: ConfigMap, key and the config's own line.
    pub fn place(&self, sp: Span) -> String {
        match self.lines {
            Some(lm) => format!(
                "ConfigMap `{}`, {} line {}",
                self.cm,
                self.key,
                sp.line.saturating_sub(lm.first_line) + 1
            ),
            None => format!("ConfigMap `{}`, {}", self.cm, self.key),
        }
    }
}

/// Every `.conf` key of every ConfigMap, in stream order.
pub fn conf_files(docs: &[Doc], sources: &Sources) -> Vec<ConfFile> {
    let mut out = vec![];
    for d in docs
        .iter()
        .filter(|d| d.kind == "ConfigMap" && d.api == "v1")
    {
        for e in d.node.get("data").map(Node::entries).unwrap_or_default() {
            let Some(text) = e.value.as_str() else {
                continue;
            };
            if !e.key.ends_with(".conf") {
                continue;
            }
            out.push(ConfFile {
                cm: d.name.to_string(),
                key: e.key.clone(),
                doc: d.index,
                text: text.to_string(),
                value_span: e.value.span,
                lines: BlockLines::find(text, e.value.span, sources),
            });
        }
    }
    out
}

/// Where one mounted path leads.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Conf(usize),
    /// A Secret, an emptyDir, a key that is no NATS config: not ours to read.
    Opaque,
}

/// The files one pod sees (from its volumes and mounts), or, for the configs no workload of the
/// stream mounts, a stand-in where each sits at `/configmap/<name>/<key>`.
pub struct Fs {
    /// The workload, or empty for the stand-in.
    pub owner: String,
    files: BTreeMap<String, Target>,
    /// Folders something is mounted on: a missing include there is a real miss.
    dirs: Vec<String>,
    opaque_dirs: Vec<String>,
    /// The configs its containers start with (`--config`/`-c`).
    pub started_with: Vec<String>,
    /// The image of its server container (named `nats`, else the first that starts with a
    /// config) and where the stream says it: the nats-server release its configs meet.
    pub image: Option<(String, Span)>,
}

/// The image of a pod's server container: the one named `nats`, else the first started with
/// a config file.
fn server_image(spec: &Node) -> Option<(String, Span)> {
    let containers = spec.get("containers").map(Node::items).unwrap_or_default();
    // Only a nats-server image speaks for a release: another workload that mounts a `.conf`
    // (a web server's) runs no NATS server.
    let is_nats = |c: &&Node| {
        let image = c.get("image").and_then(Node::as_str).unwrap_or("");
        let repo = image.split(['@', ':']).next().unwrap_or("");
        repo.rsplit('/').next().is_some_and(|r| r.contains("nats"))
    };
    let named = containers
        .iter()
        .find(|c| c.get("name").and_then(Node::as_str) == Some("nats"));
    let c = named
        .or_else(|| containers.iter().find(|c| !config_args(c).is_empty()))
        .filter(is_nats)?;
    let image = c.get("image")?;
    Some((image.as_str()?.to_string(), image.span))
}

/// The pod template of a workload.
fn pod_spec<'a>(d: &Doc<'a>) -> Option<&'a Node> {
    match d.kind {
        "Pod" => d.node.get("spec"),
        "CronJob" => d
            .node
            .path(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => d.node.path(&["spec", "template", "spec"]),
    }
}

/// A ConfigMap a volume shows, with its `items` (key, path) when it lists them.
type CmSource = (String, Option<Vec<(String, String)>>);

/// The ConfigMap sources of a volume, and whether anything else is projected into it.
fn volume_sources(v: &Node) -> (Vec<CmSource>, bool) {
    let one = |cm: &Node| -> Option<CmSource> {
        let name = cm.get("name")?.as_str()?.to_string();
        let items = cm.get("items").map(|items| {
            items
                .items()
                .iter()
                .filter_map(|i| {
                    Some((
                        i.get("key")?.as_str()?.to_string(),
                        i.get("path")?.as_str()?.to_string(),
                    ))
                })
                .collect()
        });
        Some((name, items))
    };
    if let Some(cm) = v.get("configMap") {
        return (one(cm).into_iter().collect(), false);
    }
    if let Some(p) = v.get("projected") {
        let mut out = vec![];
        let mut other = false;
        for s in p.get("sources").map(Node::items).unwrap_or_default() {
            match s.get("configMap").and_then(one) {
                Some(x) => out.push(x),
                None => other = true,
            }
        }
        return (out, other);
    }
    (vec![], true)
}

/// The config files given on a container's command line.
fn config_args(c: &Node) -> Vec<String> {
    let args: Vec<&str> = ["command", "args"]
        .iter()
        .flat_map(|k| c.get(k).map(Node::items).unwrap_or_default())
        .filter_map(Node::as_str)
        .collect();
    let mut out = vec![];
    for (i, a) in args.iter().enumerate() {
        match *a {
            "--config" | "-c" | "-config" => out.extend(args.get(i + 1).map(|p| clean(p))),
            a => out.extend(a.strip_prefix("--config=").map(clean)),
        }
    }
    out
}

/// One file system per workload that mounts a NATS config, then the stand-in for the rest.
pub fn filesystems(docs: &[Doc], confs: &[ConfFile]) -> Vec<Fs> {
    // Every key of each ConfigMap, so a mount with items or subPath resolves.
    let keys_of = |cm: &str| -> Vec<String> {
        docs.iter()
            .filter(|d| d.kind == "ConfigMap" && d.name == cm)
            .flat_map(|d| {
                d.node
                    .get("data")
                    .map(Node::entries)
                    .unwrap_or_default()
                    .iter()
                    .map(|e| e.key.clone())
            })
            .collect()
    };
    let conf = |cm: &str, key: &str| {
        confs
            .iter()
            .position(|c| c.cm == cm && c.key == key)
            .map_or(Target::Opaque, Target::Conf)
    };
    let mut out: Vec<Fs> = vec![];
    for d in docs {
        let Some(spec) = pod_spec(d) else { continue };
        let mut fs = Fs {
            owner: format!("{} `{}`", d.kind, d.name),
            files: BTreeMap::new(),
            dirs: vec![],
            opaque_dirs: vec![],
            started_with: vec![],
            image: server_image(spec),
        };
        let volumes: Vec<(&str, &Node)> = spec
            .get("volumes")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| Some((v.get("name")?.as_str()?, v)))
            .collect();
        for c in ["containers", "initContainers"]
            .into_iter()
            .flat_map(|k| spec.get(k).map(Node::items).unwrap_or_default())
        {
            fs.started_with.extend(config_args(c));
            for vm in c.get("volumeMounts").map(Node::items).unwrap_or_default() {
                let (Some(vol), Some(path)) = (
                    vm.get("name").and_then(Node::as_str),
                    vm.get("mountPath").and_then(Node::as_str),
                ) else {
                    continue;
                };
                let Some((_, v)) = volumes.iter().find(|(n, _)| *n == vol) else {
                    continue;
                };
                let path = clean(path);
                let (sources, other) = volume_sources(v);
                // (file name inside the volume, target) for every file the volume shows.
                let mut entries: Vec<(String, Target)> = vec![];
                for (cm, items) in sources {
                    match items {
                        Some(items) => {
                            entries.extend(items.into_iter().map(|(key, p)| (p, conf(&cm, &key))))
                        }
                        None => entries.extend(
                            keys_of(&cm)
                                .into_iter()
                                .map(|key| (key.clone(), conf(&cm, &key))),
                        ),
                    }
                }
                match vm
                    .get("subPath")
                    .and_then(Node::as_str)
                    .filter(|s| !s.is_empty())
                {
                    Some(sub) => {
                        let t = entries
                            .into_iter()
                            .find(|(p, _)| clean(p) == clean(sub))
                            .map_or(Target::Opaque, |(_, t)| t);
                        fs.files.entry(path).or_insert(t);
                    }
                    None => {
                        for (p, t) in entries {
                            fs.files.entry(clean(&format!("{path}/{p}"))).or_insert(t);
                        }
                        if other {
                            fs.opaque_dirs.push(path.clone());
                        }
                        fs.dirs.push(path);
                    }
                }
            }
        }
        if fs.files.values().any(|t| matches!(t, Target::Conf(_))) {
            out.push(fs);
        }
    }
    if let Some(loose) = unmounted(&out, confs) {
        out.push(loose);
    }
    out
}

/// The configs no pod mounts, as one pseudo filesystem (judged alone), if any.
fn unmounted(out: &[Fs], confs: &[ConfFile]) -> Option<Fs> {
    let mounted: Vec<usize> = out
        .iter()
        .flat_map(|fs| {
            fs.files.values().filter_map(|t| {
                if let Target::Conf(i) = t {
                    Some(*i)
                } else {
                    None
                }
            })
        })
        .collect();
    let mut loose = Fs {
        owner: String::new(),
        files: BTreeMap::new(),
        dirs: vec![],
        opaque_dirs: vec![],
        started_with: vec![],
        image: None,
    };
    for (i, c) in confs
        .iter()
        .enumerate()
        .filter(|(i, _)| !mounted.contains(i))
    {
        loose
            .files
            .insert(format!("{UNMOUNTED}{}/{}", c.cm, c.key), Target::Conf(i));
    }
    (!loose.files.is_empty()).then_some(loose)
}

fn under(dirs: &[String], path: &str) -> bool {
    dirs.iter()
        .any(|d| path == d || path.starts_with(&format!("{}/", d.trim_end_matches('/'))))
}

/// What an include path leads to.
pub enum Resolved {
    Conf(usize),
    Opaque,
    Missing(String),
}

impl Fs {
    /// The configs this file system shows, with their paths.
    pub fn confs(&self) -> Vec<(usize, &str)> {
        self.files
            .iter()
            .filter_map(|(p, t)| {
                if let Target::Conf(i) = t {
                    Some((*i, p.as_str()))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The config at `path`, as the server in this pod would open it.
    pub fn resolve(&self, path: &str, confs: &[ConfFile]) -> Resolved {
        match self.files.get(path) {
            Some(Target::Conf(i)) => return Resolved::Conf(*i),
            Some(Target::Opaque) => return Resolved::Opaque,
            None => {}
        }
        if under(&self.opaque_dirs, path) {
            return Resolved::Opaque;
        }
        if under(&self.dirs, path) {
            return Resolved::Missing(format!(
                "nothing is mounted at {path} in {}: no ConfigMap key of the stream is placed \
                 there",
                self.owner
            ));
        }
        if !self.owner.is_empty() {
            // Outside every volume: the container image's own files, which are not ours to see.
            return Resolved::Opaque;
        }
        // No workload shows where these configs live: match the file by name among the ConfigMaps.
        let base = path.rsplit('/').next().unwrap_or(path);
        let same_cm = path
            .strip_prefix(UNMOUNTED)
            .and_then(|r| r.split('/').next());
        let named: Vec<usize> = (0..confs.len()).filter(|&i| confs[i].key == base).collect();
        // The folder names the ConfigMap: its own name, or, as the chart mounts its configs
        // (ConfigMap `nats-accounts-config` at /etc/nats-accounts), the name without `-config`.
        let in_folder = |cm: &str| {
            same_cm.is_some_and(|dir| cm == dir || cm.strip_suffix("-config") == Some(dir))
        };
        if let Some(&i) = named.iter().find(|&&i| in_folder(&confs[i].cm)) {
            return Resolved::Conf(i);
        }
        match named.as_slice() {
            [i] => Resolved::Conf(*i),
            [] => Resolved::Missing(format!("no ConfigMap of the stream carries a key `{base}`")),
            many => Resolved::Missing(format!(
                "several ConfigMaps carry `{base}` ({}) and no workload of the stream mounts them, \
                 so which one is meant is unknown",
                many.iter()
                    .map(|&i| format!("`{}`", confs[i].cm))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
}

/// The files as one pod's server finds them, for `natsconf::parse_with`.
pub struct Vfs<'a> {
    pub fs: &'a Fs,
    pub confs: &'a [ConfFile],
}

impl Vfs<'_> {
    /// The config a parsed file's path names.
    pub fn conf_at(&self, path: &str) -> Option<usize> {
        match self.fs.files.get(path) {
            Some(Target::Conf(i)) => Some(*i),
            _ => None,
        }
    }
}

impl Reader for Vfs<'_> {
    fn read(&self, path: &str) -> Result<Found, String> {
        match self.fs.resolve(path, self.confs) {
            // The stand-in's name-matched file is named by its own path.
            Resolved::Conf(i) => {
                let name = self
                    .fs
                    .confs()
                    .into_iter()
                    .find(|(j, _)| *j == i)
                    .map_or(path.to_string(), |(_, p)| p.to_string());
                Ok(Found::Text(name, self.confs[i].text.clone()))
            }
            Resolved::Opaque => Ok(Found::Opaque),
            Resolved::Missing(why) => Err(why),
        }
    }
}
