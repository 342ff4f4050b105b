//! The NATS config reader against the printer: every config tree the compiler builds for every
//! golden case prints and reads back to the same tree, every golden .conf file reads and
//! prints back byte for byte, and random trees survive the round trip (proptest).

use natscc::emit::conf::{Conf, ConfMap, Item, print};
use natscc::natsconf::parse_conf;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A golden case's compile inputs, from its `args` file (default `-f values.yaml`).
fn inputs(case: &Path) -> natscc::load::Inputs {
    let args = std::fs::read_to_string(case.join("args")).unwrap_or_else(|_| "-f values.yaml".into());
    let mut inputs = natscc::load::Inputs::default();
    let mut it = args.split_whitespace();
    while let Some(a) = it.next() {
        let v = it.next().expect("every flag takes a value");
        match a {
            "-f" | "--values" => inputs.files.push(case.join(v)),
            "--set" => inputs.set.push(v.into()),
            "--set-string" => inputs.set_string.push(v.into()),
            other => panic!("unknown flag {other} in {}", case.display()),
        }
    }
    inputs
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("bad") && !p.ends_with("post-render"))
        .collect();
    v.sort();
    v
}

fn round_trip(what: &str, tree: &ConfMap) {
    let text = print("header", tree);
    let back =
        parse_conf(&text).unwrap_or_else(|e| panic!("{what}: printed config does not read back at {}:{}: {}\n{text}", e.pos.line, e.pos.col + 1, e.message));
    assert_eq!(&back, tree, "{what}: print then parse changed the tree\n{text}");
    assert_eq!(print("header", &back), text, "{what}: printing is not stable");
}

#[test]
fn every_config_the_compiler_builds_reads_back() {
    let mut trees = 0;
    for case in cases() {
        let compiled = natscc::compile(&inputs(&case));
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let Some(m) = compiled.model.as_ref() else {
            // Plain NATS chart values have no event-bus model; their nats.conf is printed text.
            let text = compiled.files.get("nats.conf").unwrap_or_else(|| panic!("{} compiles no nats.conf", case.display()));
            let tree = parse_conf(text).unwrap_or_else(|e| panic!("{name}/nats.conf does not read at {}:{}: {}", e.pos.line, e.pos.col + 1, e.message));
            round_trip(&format!("{name}/nats.conf"), &tree);
            trees += 1;
            continue;
        };
        let mut all = vec![
            ("nats.conf", natscc::emit::server::main_conf(m)),
            ("accounts.conf", natscc::emit::server::accounts_conf(m)),
            ("leafnodes.conf", natscc::emit::server::leafnodes_conf(m)),
        ];
        if m.mtls {
            all.push(("nats-mtls.conf", natscc::emit::server::mtls_conf(m)));
            all.push(("mtls-accounts.conf", natscc::emit::server::mtls_accounts_conf(m)));
        }
        for (file, tree) in all {
            round_trip(&format!("{name}/{file}"), &tree);
            trees += 1;
        }
    }
    assert!(trees >= 40, "only {trees} trees checked");
}

#[test]
fn every_golden_conf_file_reads_and_prints_back_byte_for_byte() {
    let mut files = 0;
    for dir in std::fs::read_dir(root().join("golden")).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            let path = f.unwrap().path();
            if path.extension().is_none_or(|e| e != "conf") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("# ")).map(|l| &l[2..]).collect();
            let tree = parse_conf(&text).unwrap_or_else(|e| panic!("{}:{}:{}: {}", path.display(), e.pos.line, e.pos.col + 1, e.message));
            assert_eq!(print(&header.join("\n"), &tree), text, "{} does not print back", path.display());
            files += 1;
        }
    }
    assert!(files >= 40, "only {files} golden .conf files");
}

// Random trees. Keys and variable names never collide (a `$NAME` matching an earlier key would
// be resolved, by design); floats have a fraction (an integral float prints as an integer, on
// purpose: the server wants integers there); bare words are sizes, the only bare words the
// compiler writes besides chart `<< >>` values.

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_-]{0,8}",
        "[a-z][a-zA-Z0-9 .$>*:=#{}\\[\\],;'\\\\-]{0,10}",
        "[a-z][^\"]{0,6}\"[^']{0,4}",
        Just("include".to_string()),
        Just("true".to_string()),
        Just("$JS.API.>".to_string()),
        Just(String::new()),
    ]
    // Keys are written verbatim: both kinds of quote, or a NUL (the server's end of file), cannot be.
    .prop_filter("a key cannot hold both kinds of quote", |k| !(k.contains('"') && k.contains('\'')) && !k.contains('\0'))
}

fn leaf() -> impl Strategy<Value = Conf> {
    prop_oneof![
        any::<String>().prop_map(Conf::Str),
        "ENV_[A-Z0-9_]{0,8}".prop_map(Conf::Var),
        any::<i64>().prop_map(Conf::Int),
        (any::<i32>(), 1u32..1000).prop_map(|(i, f)| Conf::Float(i as f64 + f as f64 / 1000.0)),
        any::<bool>().prop_map(Conf::Bool),
        (1u32..100_000, prop::sample::select(vec!["K", "k", "KB", "Ki", "MB", "M", "G", "Gi", "GiB", "T", "Ti"]))
            .prop_map(|(n, s)| Conf::Bare(format!("{n}{s}"))),
    ]
}

fn map_of(inner: impl Strategy<Value = Conf> + Clone) -> impl Strategy<Value = ConfMap> {
    (prop::collection::vec((key(), inner), 0..5), prop::collection::vec((0usize..5, "[a-z./_-]{1,12}"), 0..2)).prop_map(|(kvs, includes)| {
        let mut m = ConfMap::new();
        for (k, v) in kvs {
            m.set(k, v);
        }
        for (at, path) in includes {
            let at = at.min(m.items.len());
            m.items.insert(at, Item::Include(path));
        }
        m
    })
}

fn tree() -> impl Strategy<Value = ConfMap> {
    let value = leaf()
        .prop_recursive(4, 48, 6, |inner| prop_oneof![prop::collection::vec(inner.clone(), 0..6).prop_map(Conf::List), map_of(inner).prop_map(Conf::Map)]);
    map_of(value)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn random_trees_print_and_read_back(t in tree()) {
        let text = print("generated", &t);
        let back = parse_conf(&text).map_err(|e| TestCaseError::fail(format!("{}:{}: {}\n{text}", e.pos.line, e.pos.col + 1, e.message)))?;
        prop_assert_eq!(&back, &t, "{}", text);
    }
}

mod common;

fn vars(c: &Conf, out: &mut Vec<String>) {
    match c {
        Conf::Var(v) => out.push(v.clone()),
        Conf::List(l) => l.iter().for_each(|c| vars(c, out)),
        Conf::Map(m) => m.items.iter().for_each(|i| {
            if let Item::Kv(_, c) = i {
                vars(c, out)
            }
        }),
        _ => {}
    }
}

/// The real server reads what the printer writes: random trees, written without includes, meet
/// `nats-server -t`, which may refuse the (meaningless) keys but must never fail to parse.
#[test]
fn the_server_parses_what_the_printer_writes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let server = common::nats_server_path();
    let dir = tempfile::tempdir().unwrap();
    let mut runner = TestRunner::deterministic();
    let strategy = tree().prop_filter("no includes", |t| !print("", t).contains("include "));
    let n: usize = std::env::var("NATSCC_CONF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    for i in 0..n {
        let t = strategy.new_tree(&mut runner).unwrap().current();
        let path = dir.path().join(format!("t{i}.conf"));
        std::fs::write(&path, print("random", &t)).unwrap();
        let mut names = vec![];
        t.items.iter().for_each(|it| {
            if let Item::Kv(_, c) = it {
                vars(c, &mut names)
            }
        });
        let out = std::process::Command::new(&server).args(["-t", "-c"]).arg(&path).envs(names.iter().map(|n| (n.clone(), "x".to_string()))).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
        assert!(!err.contains("Parse error") && !err.contains("parse error"), "the server cannot parse:\n{}\n{err}", print("random", &t));
    }
}
