//! Stage 2 (render, beside `model`): the event-bus chart's values turned into what the chart
//! deploys. The two NATS subcharts (`nats`, and `nats-mtls` when mTLS is on) are rendered by
//! the one NATS-chart renderer in [`crate::chart`] from their own values (the parent's `nats:`
//! and `nats-mtls:` over the NATS chart's defaults, as Helm coalesces them); the bus's own
//! ConfigMaps (accounts, leaf remotes, env, permissions, the auth-callout config) come from
//! [`templates`].

pub mod templates;

use crate::chart::render::{self, Rendered};
use crate::conf::{Conf, ConfMap, Item};
use crate::load::Node;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A ConfigMap the chart renders: its name and its data, byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigMap {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// One NATS server release of the bus (`nats` or `nats-mtls`).
#[derive(Debug, Clone)]
pub struct Instance {
    pub release: &'static str,
    /// Shared: every cluster whose release has the same values renders the same config.
    pub rendered: Arc<Rendered>,
    /// `nats.conf` as the chart prints it.
    pub printed: Arc<str>,
    /// Where its pod mounts each ConfigMap: (ConfigMap name, mount folder under /etc).
    pub mounts: Vec<(String, String)>,
    /// Its files read back as nats-server reads them, once for every rule and listing.
    pub read_back: ReadBack,
}

/// A pod's `.conf` files as nats-server reads them.
#[derive(Debug, Clone, Default)]
pub struct ReadBack {
    /// The server's config tree with its includes read back and inlined: what the account
    /// graph, the start-time rules and the variable listing see.
    pub resolved: ConfMap,
    /// The files nats-server could not parse, in mount order: (path, error, the line it is on).
    pub unreadable: Vec<(String, crate::natsconf::ParseError, String)>,
}

/// Everything the chart renders for one cluster that natscc compiles.
#[derive(Debug, Clone, Default)]
pub struct Bus {
    pub nats: Instance,
    pub mtls: Option<Instance>,
    /// Every ConfigMap, in the order natscc prints them.
    pub config_maps: Vec<ConfigMap>,
}

/// The values one subchart alias renders from: the parent's section, which the loader has
/// already laid over the NATS chart's defaults.
pub fn subchart_values<'a>(root: &'a Node, alias: &str) -> Option<&'a Node> {
    root.get(alias).filter(|n| !n.is_null())
}

pub fn mtls_enabled(root: &Node) -> bool {
    root.path(&["global", "eventBus", "mtls", "enabled"])
        .and_then(Node::as_bool)
        .unwrap_or(false)
}

/// A release's config as rendered and as the chart prints it.
type RenderedPrinted = (Arc<Rendered>, Arc<str>);

/// Renders of the subcharts' values, by those values (spans included); a few are kept.
static RENDERED: crate::memo::Memo<Node, RenderedPrinted> = crate::memo::Memo::new(64);
static SHARED: crate::memo::ByIdentity<Node, (usize, crate::diag::Span), RenderedPrinted> =
    crate::memo::ByIdentity::new(64);

fn instance(root: &Node, release: &'static str, mounts: &[(&str, &str)]) -> Instance {
    let empty = Node::map(root.span);
    let values = subchart_values(root, release).unwrap_or(&empty);
    let render_print = |values: &Node| {
        let rendered = render::render(values);
        let printed: Arc<str> = (crate::chart::print::format_config(&rendered.conf) + "\n").into();
        (Arc::new(rendered), printed)
    };
    // Values the defaults share are known by identity; others, equal or not, by content.
    let (rendered, printed) = match values.identity() {
        Some(id) => SHARED.get(
            id,
            || values.clone(),
            || RENDERED.get(values, 1, render_print),
        ),
        None => RENDERED.get(values, 1, render_print),
    };
    let mut all = vec![(rendered.names.config_map.clone(), "nats-config".to_string())];
    all.extend(mounts.iter().map(|(c, d)| (c.to_string(), d.to_string())));
    Instance {
        release,
        rendered,
        printed,
        mounts: all,
        read_back: ReadBack::default(),
    }
}

pub fn build(root: &Node) -> Bus {
    let nats = instance(
        root,
        "nats",
        &[
            ("nats-accounts-config", "nats-accounts"),
            ("nats-leafnodes-config", "nats-leafnodes"),
        ],
    );
    let mtls = mtls_enabled(root).then(|| {
        instance(
            root,
            "nats-mtls",
            &[("nats-mtls-accounts-config", "nats-mtls-accounts")],
        )
    });
    let mut config_maps = vec![server_config_map(&nats)];
    config_maps.extend(mtls.iter().map(server_config_map));
    config_maps.extend(templates::config_maps(root).into_iter().map(|c| ConfigMap {
        name: c.name,
        data: c.data,
    }));
    let mut bus = Bus {
        nats,
        mtls,
        config_maps,
    };
    bus.nats.read_back = bus.read_back(&bus.nats);
    if let Some(i) = &bus.mtls {
        bus.mtls.as_mut().expect("just seen").read_back = bus.read_back(i);
    }
    bus
}

/// The NATS chart's ConfigMap of one release: `nats.conf`, in the chart's printing.
fn server_config_map(i: &Instance) -> ConfigMap {
    ConfigMap {
        name: i.rendered.names.config_map.clone(),
        data: BTreeMap::from([("nats.conf".to_string(), i.printed.to_string())]),
    }
}

impl Default for Instance {
    fn default() -> Self {
        Instance {
            release: "nats",
            rendered: Arc::default(),
            printed: "".into(),
            mounts: vec![],
            read_back: ReadBack::default(),
        }
    }
}

impl Bus {
    pub fn config_map(&self, name: &str) -> Option<&ConfigMap> {
        self.config_maps.iter().find(|c| c.name == name)
    }

    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        std::iter::once(&self.nats).chain(self.mtls.iter())
    }

    /// The files of one pod as it mounts them: `<release>/<mount folder>/<key>`, so the
    /// chart's relative includes (`../nats-accounts/accounts.conf`) resolve as in the pod.
    pub fn pod_files(&self, i: &Instance) -> Vec<(String, String)> {
        let mut out = vec![];
        for (cm, dir) in &i.mounts {
            let Some(c) = self.config_map(cm) else {
                continue;
            };
            for (key, text) in &c.data {
                out.push((format!("{}/{dir}/{key}", i.release), text.clone()));
            }
        }
        out
    }

    /// A server's config tree with its includes read back and inlined, as nats-server sees
    /// it: what the account graph and the start-time rules check.
    pub fn resolved<'a>(&self, i: &'a Instance) -> &'a ConfMap {
        &i.read_back.resolved
    }

    /// Reads every `.conf` file of the pod once: the unreadable ones are kept for their rule,
    /// the readable ones inlined where the config includes them.
    fn read_back(&self, i: &Instance) -> ReadBack {
        let files = self.pod_files(i);
        let mut parsed = BTreeMap::new();
        let mut unreadable = vec![];
        for (path, text) in &files {
            if !path.ends_with(".conf") {
                continue;
            }
            match crate::natsconf::parse_conf(text) {
                Ok(conf) => {
                    parsed.insert(path.as_str(), conf);
                }
                Err(e) => {
                    let line = text.lines().nth(e.pos.line.saturating_sub(1) as usize);
                    let line = line.unwrap_or_default().trim().to_string();
                    unreadable.push((path.clone(), e, line));
                }
            }
        }
        // The chart prints `...$include` keys as include lines; the server reads those.
        let mut resolved = crate::chart::view::server_view(&i.rendered.conf);
        inline(
            &mut resolved,
            &format!("{}/nats-config/nats.conf", i.release),
            &parsed,
            0,
        );
        ReadBack {
            resolved,
            unreadable,
        }
    }

    /// All accounts of the main server, includes inlined.
    pub fn main_accounts(&self) -> ConfMap {
        match self.nats.read_back.resolved.get("accounts") {
            Some(Conf::Map(a)) => a.clone(),
            _ => ConfMap::new(),
        }
    }
}

/// Replaces each `include` by the entries of the file it names (already read back).
fn inline(m: &mut ConfMap, at: &str, files: &BTreeMap<&str, ConfMap>, depth: usize) {
    let mut items = vec![];
    for item in std::mem::take(&mut m.items) {
        match item {
            Item::Include(path) if depth < 8 => {
                let full = crate::natsconf::join(at, &path);
                if let Some(parsed) = files.get(full.as_str()) {
                    let mut sub = parsed.clone();
                    inline(&mut sub, &full, files, depth + 1);
                    items.extend(sub.items);
                }
            }
            Item::Kv(k, mut v) => {
                inline_conf(&mut v, at, files, depth);
                items.push(Item::Kv(k, v));
            }
            other => items.push(other),
        }
    }
    m.items = items;
}

fn inline_conf(c: &mut Conf, at: &str, files: &BTreeMap<&str, ConfMap>, depth: usize) {
    match c {
        Conf::Map(m) => inline(m, at, files, depth),
        Conf::List(l) => l.iter_mut().for_each(|x| inline_conf(x, at, files, depth)),
        _ => {}
    }
}
