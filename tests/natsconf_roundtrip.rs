//! The NATS config reader against the printers: every config tree the compiler builds for every
//! golden case and every chart reference case (`fixtures/chart-ref/<case>/`) prints and reads back
//! to the same tree, every config file a compile writes reads back, and every golden .conf file
//! reads and prints back byte for byte with the printer that wrote it (natscc's own, or the
//! chart's `nats.formatConfig` for the nats.conf each event-bus pod mounts); random trees survive
//! the round trip (proptest).

use natscc::chart::print::format_config;
use natscc::conf::{Conf, ConfMap, Item, print};
use natscc::natsconf::parse_conf;
use proptest::prelude::*;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A case's compile inputs: from its `args` file (golden cases); for a chart reference case (it
/// holds the chart's `rendered.yaml`) every other .yaml file in name order, as tests/chart_ref.rs
/// passes them; else `-f values.yaml`.
fn inputs(case: &Path) -> natscc::load::Inputs {
    let mut inputs = natscc::load::Inputs::default();
    if !case.join("args").is_file() && case.join("rendered.yaml").is_file() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(case)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("rendered.yaml"))
            .collect();
        files.sort();
        inputs.files = files;
        return inputs;
    }
    let args =
        std::fs::read_to_string(case.join("args")).unwrap_or_else(|_| "-f values.yaml".into());
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

/// Whether a folder is one compile case (golden or chart reference) rather than a folder of them.
fn is_case(dir: &Path) -> bool {
    ["args", "values.yaml", "rendered.yaml"]
        .iter()
        .any(|f| dir.join(f).is_file())
}

/// Every case under fixtures/: the golden cases, and the cases of a folder of cases
/// (`chart-ref/`), each by its path relative to fixtures/.
fn cases() -> Vec<PathBuf> {
    let fixtures = root().join("fixtures");
    let mut v = vec![];
    for dir in std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        // `access` holds explain queries (tests/access.rs), no values; `diff` value pairs
        // (tests/diff.rs).
        if !dir.is_dir()
            || dir.ends_with("bad")
            || dir.ends_with("post-render")
            || dir.ends_with("access")
            || dir.ends_with("diff")
        {
            continue;
        }
        if is_case(&dir) {
            v.push(dir);
            continue;
        }
        let subcases: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        for sub in &subcases {
            assert!(
                is_case(sub),
                "{} is neither a case nor a folder of cases",
                sub.display()
            );
        }
        assert!(
            !subcases.is_empty(),
            "{} is neither a case nor a folder of cases",
            dir.display()
        );
        v.extend(subcases);
    }
    v.sort();
    v
}

fn round_trip(what: &str, tree: &ConfMap) {
    let text = print("header", tree);
    let back = parse_conf(&text).unwrap_or_else(|e| {
        panic!(
            "{what}: printed config does not read back at {}:{}: {}\n{text}",
            e.pos.line,
            e.pos.col + 1,
            e.message
        )
    });
    assert_eq!(
        &back, tree,
        "{what}: print then parse changed the tree\n{text}"
    );
    assert_eq!(
        print("header", &back),
        text,
        "{what}: printing is not stable"
    );
}

/// An integral float as the integer the printer writes for it (on purpose: the server wants
/// integers there), everywhere in a tree.
fn integral_floats_as_ints(tree: &ConfMap) -> ConfMap {
    fn conf(c: &Conf) -> Conf {
        match c {
            Conf::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Conf::Int(*f as i64),
            Conf::List(l) => Conf::List(l.iter().map(conf).collect()),
            Conf::Map(m) => Conf::Map(integral_floats_as_ints(m)),
            other => other.clone(),
        }
    }
    let mut out = tree.clone();
    for item in &mut out.items {
        if let Item::Kv(_, v) = item {
            *v = conf(v);
        }
    }
    out
}

/// The round trip for the trees of values natscc refuses, which it never writes: the refused
/// numbers (`1.5e+09` for an integer) print as integers, so they read back as integers.
fn round_trip_refused(what: &str, tree: &ConfMap) {
    let text = print("header", tree);
    let back = parse_conf(&text).unwrap_or_else(|e| {
        panic!(
            "{what}: printed config does not read back at {}:{}: {}\n{text}",
            e.pos.line,
            e.pos.col + 1,
            e.message
        )
    });
    assert_eq!(
        back,
        integral_floats_as_ints(tree),
        "{what}: print then parse changed the tree\n{text}"
    );
    assert_eq!(
        print("header", &back),
        text,
        "{what}: printing is not stable"
    );
}

fn read_conf(what: &str, text: &str) -> ConfMap {
    parse_conf(text).unwrap_or_else(|e| {
        panic!(
            "{what} does not read at {}:{}: {}\n{text}",
            e.pos.line,
            e.pos.col + 1,
            e.message
        )
    })
}

/// Whether a config file is the nats.conf of an event-bus pod, in the chart's printing.
fn chart_printed(file: &str) -> bool {
    file.ends_with("/nats-config/nats.conf")
}

#[test]
fn every_config_the_compiler_builds_reads_back() {
    let (mut trees, mut chart_refs, mut bus_files) = (0, 0, 0);
    for case in cases() {
        let compiled = natscc::compile(&inputs(&case));
        let name = case
            .strip_prefix(root().join("fixtures"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        chart_refs += usize::from(name.starts_with("chart-ref/"));
        let Some(bus) = compiled.bus.as_ref() else {
            // Plain NATS chart values have no event-bus model; their nats.conf is printed text
            // (none when natscc refuses the values).
            if compiled.has_errors() {
                continue;
            }
            let text = compiled
                .files
                .get("nats.conf")
                .unwrap_or_else(|| panic!("{} compiles no nats.conf", case.display()));
            let tree = read_conf(&format!("{name}/nats.conf"), text);
            round_trip(&format!("{name}/nats.conf"), &tree);
            trees += 1;
            continue;
        };
        let mut all = vec![];
        // The tree the chart renders for each server, and that tree with its includes inlined
        // (what the account graph and the start-time rules check).
        for i in bus.instances() {
            all.push((format!("{} rendered", i.release), i.rendered.conf.clone()));
            all.push((format!("{} resolved", i.release), bus.resolved(i).clone()));
        }
        // Every config file the compile writes (nothing when it refuses the values).
        for (file, text) in compiled.files.iter().filter(|(f, _)| f.ends_with(".conf")) {
            let what = format!("{name}/{file}");
            let tree = read_conf(&what, text);
            if chart_printed(file) {
                assert_eq!(
                    format_config(&tree) + "\n",
                    *text,
                    "{what}: the chart's printing does not print back"
                );
            }
            all.push((file.clone(), tree));
            bus_files += 1;
        }
        assert!(
            compiled.has_errors() || compiled.files.contains_key("nats/nats-config/nats.conf"),
            "{name} compiles without nats/nats-config/nats.conf"
        );
        for (file, tree) in all {
            if compiled.has_errors() {
                round_trip_refused(&format!("{name}/{file} (refused)"), &tree);
            } else {
                round_trip(&format!("{name}/{file}"), &tree);
            }
            trees += 1;
        }
    }
    assert!(chart_refs >= 12, "only {chart_refs} chart reference cases");
    assert!(
        bus_files >= 40,
        "only {bus_files} event-bus config files read back"
    );
    assert!(trees >= 40, "only {trees} trees checked");
}

#[test]
fn every_golden_conf_file_reads_and_prints_back_byte_for_byte() {
    let golden = root().join("golden");
    let mut files = 0;
    for dir in std::fs::read_dir(&golden).unwrap() {
        let case = dir.unwrap().path();
        for rel in common::files_under(&case) {
            if rel.extension().is_none_or(|e| e != "conf") {
                continue;
            }
            let path = case.join(&rel);
            let file = rel.to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).unwrap();
            let tree = parse_conf(&text).unwrap_or_else(|e| {
                panic!(
                    "{}:{}:{}: {}",
                    path.display(),
                    e.pos.line,
                    e.pos.col + 1,
                    e.message
                )
            });
            if chart_printed(&file) {
                assert_eq!(
                    format_config(&tree) + "\n",
                    text,
                    "{} does not print back in the chart's printing",
                    path.display()
                );
            } else if text.starts_with("# ") {
                let header: Vec<&str> = text
                    .lines()
                    .take_while(|l| l.starts_with("# "))
                    .map(|l| &l[2..])
                    .collect();
                assert_eq!(
                    print(&header.join("\n"), &tree),
                    text,
                    "{} does not print back",
                    path.display()
                );
            } else {
                // The event-bus chart's own template text (accounts, leaf remotes): no printer
                // writes it, so it must read, and its tree round-trip.
                round_trip(&path.display().to_string(), &tree);
            }
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
    // Keys are written verbatim: both kinds of quote, or a NUL (the server's end of file), cannot
    // be.
    .prop_filter("a key cannot hold both kinds of quote", |k| {
        !(k.contains('\0') || k.contains('"') && k.contains('\''))
    })
}

fn leaf() -> impl Strategy<Value = Conf> {
    prop_oneof![
        any::<String>().prop_map(Conf::Str),
        "ENV_[A-Z0-9_]{0,8}".prop_map(Conf::Var),
        any::<i64>().prop_map(Conf::Int),
        (any::<i32>(), 1u32..1000).prop_map(|(i, f)| Conf::Float(i as f64 + f as f64 / 1000.0)),
        any::<bool>().prop_map(Conf::Bool),
        (
            1u32..100_000,
            prop::sample::select(vec![
                "K", "k", "KB", "Ki", "MB", "M", "G", "Gi", "GiB", "T", "Ti"
            ])
        )
            .prop_map(|(n, s)| Conf::Bare(format!("{n}{s}"))),
    ]
}

fn map_of(inner: impl Strategy<Value = Conf> + Clone) -> impl Strategy<Value = ConfMap> {
    (
        prop::collection::vec((key(), inner), 0..5),
        prop::collection::vec((0usize..5, "[a-z./_-]{1,12}"), 0..2),
    )
        .prop_map(|(kvs, includes)| {
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
    let value = leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Conf::List),
            map_of(inner).prop_map(Conf::Map)
        ]
    });
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
    let n: usize = std::env::var("NATSCC_CONF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
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
        let out = std::process::Command::new(&server)
            .args(["-t", "-c"])
            .arg(&path)
            .envs(names.iter().map(|n| (n.clone(), "x".to_string())))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(
            !err.contains("Parse error") && !err.contains("parse error"),
            "the server cannot parse:\n{}\n{err}",
            print("random", &t)
        );
    }
}
