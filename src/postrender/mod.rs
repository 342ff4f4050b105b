//! `natscc post-render`: Helm's post-renderer. It reads the rendered manifest stream on stdin,
//! checks the event-bus objects in it with the compiler's rules (the NATS configs its
//! ConfigMaps carry, read the way nats-server reads them, includes resolved through the pods'
//! volume mounts; the account graph of each server; the routes against the Gateway's
//! listeners) and answers with the stream unchanged, byte for byte. With values files, the
//! generated ConfigMaps' contents are first replaced by what natscc compiles from them.
//! It returns an [`Outcome`]; the CLI prints it: on any error, diagnostics on stderr, nothing
//! on stdout, exit 1, so `helm install` stops.

mod messages;
mod objects;
mod replace;
mod rules;

use crate::diag::{Code, Diagnostic, Diags, Source, Sources};
use crate::load::{Inputs, Node, yaml};
use crate::natsconf::{self, Block, Entry, Options, ParseError, Val};
use messages::Finding;
use objects::{ConfFile, Resolved};

/// The name findings give the stream.
pub const STDIN: &str = "<stdin>";

/// What a run produces: the stream to write (only when nothing is wrong) and the findings.
pub struct Outcome {
    pub output: Option<String>,
    pub diags: Vec<Diagnostic>,
    pub sources: Sources,
}

fn refuse(diags: Vec<Diagnostic>, sources: Sources) -> Outcome {
    let mut d = Diags::default();
    d.extend(diags);
    Outcome {
        output: None,
        diags: d.finish(),
        sources,
    }
}

/// Checks (and with `values`, first rewrites) one rendered stream.
pub fn run(input: Vec<u8>, values: Option<&Inputs>) -> Outcome {
    run_stated(input, values, None)
}

/// [`run`], with the nats-server release the operator states (`--server-version`) for images
/// that name none.
pub fn run_stated(
    input: Vec<u8>,
    values: Option<&Inputs>,
    stated: Option<&crate::server_version::Stated>,
) -> Outcome {
    let mut sources = Sources::default();
    let text = match String::from_utf8(input) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            return refuse(vec![Finding::NotUtf8 { offset }.into()], sources);
        }
    };
    let id = sources.add(Source::new(STDIN, text.clone()));
    let (nodes, mut diags) = yaml::parse_stream(id, &sources);
    let Some(mut nodes) = nodes else {
        return refuse(diags, sources);
    };
    if nodes.is_empty() {
        diags.push(Finding::Empty.into());
        return refuse(diags, sources);
    }
    let mut out_text = text;
    if let Some(inputs) = values {
        let (root, load_diags) = crate::load::load(inputs, &mut sources);
        let compiled = crate::driver::compile_tree_stated(root, load_diags, sources, true, stated);
        sources = compiled.sources;
        diags.extend(compiled.diags.iter().cloned());
        if compiled.diags.iter().any(Diagnostic::is_error) || compiled.files.is_empty() {
            return refuse(diags, sources);
        }
        let replaced = replace::replace(&out_text, &objects::docs(&nodes), &compiled.files);
        match replaced {
            Err(d) => {
                diags.extend(d);
                return refuse(diags, sources);
            }
            Ok(new) if new != out_text => {
                let new_id = sources.add(Source::new(
                    format!("{STDIN} with the compiled ConfigMaps"),
                    new.clone(),
                ));
                let (n, d) = yaml::parse_stream(new_id, &sources);
                diags.extend(d);
                match n {
                    Some(n) => nodes = n,
                    None => return refuse(diags, sources),
                }
                out_text = new;
            }
            Ok(_) => {}
        }
    }
    diags.extend(check(&nodes, &sources, stated));
    let mut d = Diags::default();
    d.extend(diags);
    let diags = d.finish();
    let ok = !diags.iter().any(Diagnostic::is_error);
    Outcome {
        output: ok.then_some(out_text),
        diags,
        sources,
    }
}

/// Every `include` path in a block, nested blocks included.
fn includes_of(b: &Block, out: &mut Vec<String>) {
    fn walk(v: &Val, out: &mut Vec<String>) {
        match v {
            Val::Map(b) => includes_of(b, out),
            Val::List(items) => items.iter().for_each(|n| walk(&n.v, out)),
            _ => {}
        }
    }
    for e in &b.entries {
        match e {
            Entry::Include { path, .. } => out.push(path.clone()),
            Entry::Kv { value, .. } => walk(&value.v, out),
        }
    }
}

/// Keys only a NATS server config sets at its top level.
const NATS_KEYS: &[&str] = &[
    "server_name",
    "jetstream",
    "leafnodes",
    "accounts",
    "system_account",
    "max_payload",
    "max_pending",
    "lame_duck_duration",
    "lame_duck_grace_period",
    "http_port",
    "no_auth_user",
];

/// Which `.conf` keys are NATS configs: the names the bus uses, anything named for NATS or
/// reading like a NATS server config, and whatever those include. Other charts' `.conf`
/// files (nginx, fluent-bit, ...) are not ours to judge.
fn nats_configs(
    confs: &[ConfFile],
    parsed: &[Result<Block, ParseError>],
    filesystems: &[objects::Fs],
) -> Vec<bool> {
    let mut nats: Vec<bool> = confs
        .iter()
        .zip(parsed)
        .map(|(c, p)| {
            let named = replace::GENERATED.contains(&c.key.as_str())
                || c.cm.to_ascii_lowercase().contains("nats")
                || c.key.to_ascii_lowercase().contains("nats");
            named
                || p.as_ref()
                    .is_ok_and(|b| NATS_KEYS.iter().any(|k| b.get(k).is_some()))
        })
        .collect();
    loop {
        let mut grew = false;
        for fs in filesystems {
            for (i, path) in fs.confs() {
                let (true, Ok(b)) = (nats[i], &parsed[i]) else {
                    continue;
                };
                let mut paths = vec![];
                includes_of(b, &mut paths);
                for p in paths {
                    if let Resolved::Conf(j) = fs.resolve(&natsconf::join(path, &p), confs) {
                        grew |= !nats[j];
                        nats[j] = true;
                    }
                }
            }
        }
        if !grew {
            return nats;
        }
    }
}

/// The rules on the objects of one stream.
fn check(
    nodes: &[Node],
    sources: &Sources,
    stated: Option<&crate::server_version::Stated>,
) -> Vec<Diagnostic> {
    let docs = objects::docs(nodes);
    let mut out = vec![];
    let confs = objects::conf_files(&docs, sources);
    let filesystems = objects::filesystems(&docs, &confs);

    // Each file alone: its syntax (reported only for NATS configs, below).
    let parsed: Vec<Result<Block, ParseError>> =
        confs.iter().map(|c| natsconf::parse(&c.text)).collect();
    let nats = nats_configs(&confs, &parsed, &filesystems);
    let (broken, trees) = syntax(&confs, parsed, &nats, sources, &mut out);
    // Each server config as the server in each pod reads it: the files its containers start
    // with, else every config no other config of the pod includes.
    let mut servers = vec![];
    for fs in &filesystems {
        let deployed =
            crate::server_version::from_image(&fs.owner, fs.image.as_ref(), stated, &mut out);
        let here: Vec<(usize, &str)> = fs.confs().into_iter().filter(|(i, _)| nats[*i]).collect();
        let mut roots = roots(fs, &here, &trees, &confs);
        roots.dedup();
        for (i, path) in roots {
            if broken[i] || servers.iter().any(|s: &rules::Server| s.root == i) {
                continue;
            }
            let vfs = objects::Vfs { fs, confs: &confs };
            match natsconf::parse_with(path, &confs[i].text, &vfs, Options::default()) {
                Ok(parsed) => servers.push(rules::Server {
                    parsed,
                    root: i,
                    vfs,
                    sources,
                    deployed: deployed.clone(),
                }),
                Err((e, files)) => {
                    let Some(at) = vfs.conf_at(&files[e.pos.file as usize].path) else {
                        continue;
                    };
                    if broken[at] {
                        continue;
                    }
                    let f = &confs[at];
                    out.push(
                        Finding::Include {
                            conf: f,
                            error: &e,
                            at: f.span(e.pos, sources),
                            owner: &fs.owner,
                            root: &confs[i].key,
                            path,
                        }
                        .into(),
                    );
                }
            }
        }
    }
    for s in &servers {
        rules::server(s, &mut out);
    }
    rules::routes(&docs, &mut out);
    rules::passthrough(&docs, &servers, &mut out);
    if !nats.contains(&true) {
        out.push(Finding::Nothing.into());
    }
    // Name the config, the key and the config's own line in every finding placed inside one.
    for d in &mut out {
        let Some(sp) = d.primary() else { continue };
        if matches!(d.code, Code::NatsConfSyntax | Code::NatsConfInclude) {
            continue;
        }
        if let Some(c) = confs.iter().find(|c| c.contains(sp)) {
            d.message.push_str(&format!(" [{}]", c.place(sp)));
        }
    }
    out
}

/// Each NATS config alone: its syntax. Which are broken, and the trees of those that parse.
fn syntax(
    confs: &[ConfFile],
    parsed: Vec<Result<Block, ParseError>>,
    nats: &[bool],
    sources: &Sources,
    out: &mut Vec<Diagnostic>,
) -> (Vec<bool>, Vec<Option<Block>>) {
    let mut broken = vec![false; confs.len()];
    let mut trees = vec![];
    for (i, c) in confs.iter().enumerate() {
        if !nats[i] {
            trees.push(None);
            continue;
        }
        match parsed[i].clone() {
            Err(e) => {
                broken[i] = true;
                out.push(
                    Finding::Syntax {
                        conf: c,
                        error: &e,
                        at: c.span(e.pos, sources),
                    }
                    .into(),
                );
                trees.push(None);
            }
            Ok(b) => trees.push(Some(b)),
        }
    }
    (broken, trees)
}

/// The configs a pod's server starts with: the files its containers name, else every config
/// no other config of the pod includes.
fn roots<'a>(
    fs: &objects::Fs,
    here: &[(usize, &'a str)],
    trees: &[Option<Block>],
    confs: &[ConfFile],
) -> Vec<(usize, &'a str)> {
    let mut roots: Vec<(usize, &'a str)> = fs
        .started_with
        .iter()
        .filter_map(|p| here.iter().find(|(_, q)| q == p).copied())
        .collect();
    if roots.is_empty() {
        let mut included = vec![];
        for (i, path) in here {
            let mut paths = vec![];
            if let Some(b) = &trees[*i] {
                includes_of(b, &mut paths);
            }
            for p in paths {
                if let Resolved::Conf(j) = fs.resolve(&natsconf::join(path, &p), confs)
                    && j != *i
                {
                    included.push(j);
                }
            }
        }
        roots = here
            .iter()
            .filter(|(i, _)| !included.contains(i))
            .copied()
            .collect();
    }
    roots
}
