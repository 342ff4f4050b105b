use super::*;
use crate::conf::{Conf, ConfMap, Item, print};

fn conf(text: &str) -> ConfMap {
    parse_conf(text).unwrap_or_else(|e| panic!("{}:{}: {}", e.pos.line, e.pos.col + 1, e.message))
}
fn err(text: &str) -> ParseError {
    parse(text).expect_err("must not parse")
}
fn get<'a>(m: &'a ConfMap, k: &str) -> &'a Conf {
    m.get(k).unwrap_or_else(|| panic!("no key {k} in {m:?}"))
}

#[test]
fn separators_and_key_styles() {
    let m = conf("a: 1\nb = 2\nc 3\n\"d e\": 4; 'f': 5, g=6\n");
    for (k, v) in [("a", 1), ("b", 2), ("c", 3), ("d e", 4), ("f", 5), ("g", 6)] {
        assert_eq!(get(&m, k), &Conf::Int(v), "{k}");
    }
}

#[test]
fn scalars_are_typed_as_the_server_types_them() {
    let m = conf(
        "s: \"x\\ty\\\"\\\\\\x41\"\nq: 'raw\\n'\nb1: yes\nb2: OFF\nb3: True\nn: -42\nf: 1.5\nsz: \
         2Gi\nk: 64K\nmb: 1MB\nd: 10s\nm: 2m\nip: 127.0.0.1:4222\nw: MEMORY\nurl: \
         nats://h:4222\ndt: 2020-01-02T03:04:05Z\n",
    );
    assert_eq!(get(&m, "s"), &Conf::Str("x\ty\"\\A".into()));
    assert_eq!(get(&m, "q"), &Conf::Str("raw\\n".into()));
    assert_eq!(get(&m, "b1"), &Conf::Bool(true));
    assert_eq!(get(&m, "b2"), &Conf::Bool(false));
    assert_eq!(get(&m, "b3"), &Conf::Bool(true));
    assert_eq!(get(&m, "n"), &Conf::Int(-42));
    assert_eq!(get(&m, "f"), &Conf::Float(1.5));
    assert_eq!(get(&m, "sz"), &Conf::Bare("2Gi".into()));
    assert_eq!(crate::conf::size_bytes(get(&m, "sz")), Some(2 << 30));
    assert_eq!(crate::conf::size_bytes(get(&m, "k")), Some(64_000));
    assert_eq!(crate::conf::size_bytes(get(&m, "mb")), Some(1 << 20));
    // A number followed by letters that are no size suffix is text to the server: a duration.
    assert_eq!(get(&m, "d"), &Conf::Bare("10s".into()));
    // ...but `m` is the mega suffix: `2m` is two million, not two minutes, as in the server.
    assert_eq!(crate::conf::size_bytes(get(&m, "m")), Some(2_000_000));
    assert_eq!(get(&m, "ip"), &Conf::Bare("127.0.0.1:4222".into()));
    assert_eq!(get(&m, "w"), &Conf::Bare("MEMORY".into()));
    assert_eq!(get(&m, "url"), &Conf::Bare("nats://h:4222".into()));
    assert_eq!(get(&m, "dt"), &Conf::Bare("2020-01-02T03:04:05Z".into()));
}

#[test]
fn blocks_arrays_and_comments() {
    let m = conf(
        "# top\n// also a comment\ncluster {\n  port: 6222 # trailing\n  routes = \
         [\n    nats://a:6222 // one\n    \"nats://b:6222\",\n  ]\n}\nempty {}\nlist: []\ninline: \
         { a: 1, b: [1, 2 ] }\n",
    );
    let Conf::Map(c) = get(&m, "cluster") else {
        panic!()
    };
    assert_eq!(get(c, "port"), &Conf::Int(6222));
    assert_eq!(
        get(c, "routes"),
        &Conf::List(vec![
            Conf::Bare("nats://a:6222".into()),
            Conf::Str("nats://b:6222".into())
        ])
    );
    assert_eq!(get(&m, "empty"), &Conf::Map(ConfMap::new()));
    assert_eq!(get(&m, "list"), &Conf::List(vec![]));
    let Conf::Map(i) = get(&m, "inline") else {
        panic!()
    };
    assert_eq!(get(i, "b"), &Conf::List(vec![Conf::Int(1), Conf::Int(2)]));
}

#[test]
fn the_chart_json_style_parses() {
    // What the NATS Helm chart renders: a JSON object, `<< $VAR >>` unquoted, includes spliced in.
    let text = "{\n  \"accounts\": {\n    include ../accounts/accounts.conf;\n    \"SYS\": \
                {}\n  },\n  \"jetstream\": {\n    \"max_memory_store\": \
                2Gi\n  },\n  \"lame_duck_duration\": \"30s\",\n  \"port\": \
                4222,\n  \"server_name\": $SERVER_NAME\n}\n";
    let m = conf(text);
    let Conf::Map(a) = get(&m, "accounts") else {
        panic!()
    };
    assert_eq!(
        a.items[0],
        Item::Include("../accounts/accounts.conf".into())
    );
    assert_eq!(get(&m, "server_name"), &Conf::Var("SERVER_NAME".into()));
    assert_eq!(get(&m, "port"), &Conf::Int(4222));
    // And printing it and reading it back gives the same tree.
    assert_eq!(conf(&print("", &m)), m);
}

#[test]
fn variables_may_name_blocks_lists_and_included_keys() {
    // Only keys a `$NAME` of the file names are kept for lookup: each form of name still finds
    // its value, blocks and lists included, and a key named nowhere costs nothing.
    let m = conf(
        "LIMITS { max_payload: 2MB }\nSUBS: [\"a\", \"b\"]\nx { y: $LIMITS }\nz: $SUBS;\n\
         w: $LIMITS,\nother { deep { k: 1 } }\nq: \"$NOT_A_VAR\"\n",
    );
    let Conf::Map(x) = get(&m, "x") else { panic!() };
    let Conf::Map(y) = get(x, "y") else { panic!() };
    assert_eq!(get(y, "max_payload"), &Conf::Bare("2MB".into()));
    assert!(matches!(get(&m, "z"), Conf::List(l) if l.len() == 2));
    assert!(matches!(get(&m, "w"), Conf::Map(_)));
    assert_eq!(get(&m, "q"), &Conf::Str("$NOT_A_VAR".into()));
    let mem = Mem(vec![("/c/inc.conf", "SHARED: { a: 1 }\n")]);
    let p = parse_with(
        "/c/main.conf",
        "include inc.conf\nuse: $SHARED\n",
        &mem,
        Options::default(),
    )
    .unwrap();
    assert!(matches!(get(&p.root.to_conf(), "use"), Conf::Map(_)));
}

#[test]
fn variables_resolve_from_enclosing_blocks_and_stay_references_otherwise() {
    let m = conf(
        "TOKEN: \"s3cr3t\"\nsize: 1MB\nauthorization { token: $TOKEN }\nmax_payload: \
         $size\nserver_name: $SERVER_NAME\nhash: $2a$11$abc\n",
    );
    let Conf::Map(a) = get(&m, "authorization") else {
        panic!()
    };
    assert_eq!(get(a, "token"), &Conf::Str("s3cr3t".into()));
    assert_eq!(get(&m, "max_payload"), &Conf::Bare("1MB".into()));
    assert_eq!(get(&m, "server_name"), &Conf::Var("SERVER_NAME".into()));
    assert_eq!(get(&m, "hash"), &Conf::Str("$2a$11$abc".into()));
    // A variable defined later is not visible yet, as in the server.
    assert_eq!(get(&conf("a: $B\nB: 1\n"), "a"), &Conf::Var("B".into()));
    // With an environment, references resolve and are typed like any value.
    let env = |n: &str| (n == "PORT").then(|| "4333".to_string());
    let mut s = parse::Session::new(None, Options { env: Some(&env) });
    s.files.push(File {
        path: String::new(),
        text: "port: $PORT\n".into(),
    });
    assert_eq!(
        s.parse_file(0).unwrap().to_conf().get("port"),
        Some(&Conf::Int(4333))
    );
}

#[test]
fn server_quirks_are_kept() {
    // `[1]`: the server takes `1]` as text and the list stays open; it ends at the next `]`.
    let e = err("x: [1]\n");
    assert!(e.message.contains("never closed"), "{e:?}");
    assert_eq!(
        get(&conf("x: [1 ]\n"), "x"),
        &Conf::List(vec![Conf::Int(1)])
    );
    assert_eq!(
        get(&conf("x: [1k]\n"), "x"),
        &Conf::List(vec![Conf::Bare("1k".into())])
    );
    // A top-level `{` that is never closed is accepted, as the server accepts it.
    assert_eq!(get(&conf("{\nport: 4444\n"), "port"), &Conf::Int(4444));
    // Unquoted text runs to whitespace; `#` inside a word is text.
    assert_eq!(get(&conf("a: b#c\n"), "a"), &Conf::Bare("b#c".into()));
}

#[test]
fn errors_carry_line_and_column() {
    let cases = [
        ("a: 1\nb: \"open\n", 2, 3, "never closed"),
        ("a {\n  port: 1\n", 1, 2, "never closed"),
        ("a:\n", 1, 2, "new line"),
        ("a: \"\\u0041\"\n", 1, 5, "not an escape"),
        ("a: 1 2\n", 1, 5, "after this value"),
        ("a: [1, , 2]\n", 1, 7, "missing"),
        ("a: .5\n", 1, 3, "digit"),
        ("a: 1.x\n", 1, 5, "digit must follow"),
        ("a: 99999999999999999999\n", 1, 3, "range"),
        ("include\n\"x\"\n", 1, 7, "same line"),
        ("}\n", 1, 0, "closes no block"),
        ("a: 2020-1\n", 1, 9, "date"),
    ];
    for (text, line, col, needle) in cases {
        let e = err(text);
        assert_eq!((e.pos.line, e.pos.col), (line, col), "{text:?}: {e:?}");
        assert!(e.message.contains(needle), "{text:?}: {e:?}");
    }
}

struct Mem(Vec<(&'static str, &'static str)>);
impl Reader for Mem {
    fn read(&self, path: &str) -> Result<Found, String> {
        self.0
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(p, t)| Found::Text(p.to_string(), t.to_string()))
            .ok_or_else(|| "no such file".into())
    }
}

#[test]
fn includes_resolve_relative_to_the_including_file() {
    let mem = Mem(vec![
        (
            "/etc/nats/accounts.conf",
            "A { users: [{user: a}] }\ninclude \"more/b.conf\"\n",
        ),
        ("/etc/nats/more/b.conf", "B: {}\n"),
    ]);
    let p = parse_with(
        "/etc/nats/nats.conf",
        "port: 4222\naccounts {\n  include accounts.conf\n  C {}\n}\nx: $A\n",
        &mem,
        Options::default(),
    )
    .unwrap();
    let m = p.root.to_conf();
    let Conf::Map(a) = get(&m, "accounts") else {
        panic!()
    };
    let keys: Vec<_> = a
        .items
        .iter()
        .map(|i| match i {
            Item::Kv(k, _) => k.as_str(),
            _ => "include",
        })
        .collect();
    assert_eq!(keys, ["A", "B", "C"]);
    assert_eq!(p.files.len(), 3);
    // Nodes remember which file they came from.
    let b = p
        .root
        .get("accounts")
        .unwrap()
        .as_block()
        .unwrap()
        .entry("B")
        .unwrap()
        .0;
    assert_eq!(
        (p.files[b.file as usize].path.as_str(), b.line),
        ("/etc/nats/more/b.conf", 1)
    );
    // Variables are per file: `$A` in nats.conf does not see keys inside the accounts block.
    assert_eq!(get(&m, "x"), &Conf::Var("A".into()));
}

#[test]
fn include_errors_point_at_the_include() {
    let mem = Mem(vec![
        ("/c/a.conf", "include b.conf\n"),
        ("/c/b.conf", "include a.conf\n"),
        ("/c/bad.conf", "x: [\n"),
    ]);
    let (e, _) = parse_with("/c/a.conf", "include b.conf\n", &mem, Options::default()).unwrap_err();
    assert!(e.message.contains("loop"), "{e:?}");
    let (e, _) = parse_with(
        "/c/m.conf",
        "\n  include missing.conf\n",
        &mem,
        Options::default(),
    )
    .unwrap_err();
    assert_eq!((e.pos.line, e.pos.col), (2, 10));
    assert!(e.message.contains("/c/missing.conf"), "{e:?}");
    let (e, files) =
        parse_with("/c/m.conf", "include bad.conf\n", &mem, Options::default()).unwrap_err();
    assert_eq!(files[e.pos.file as usize].path, "/c/bad.conf");
}

#[test]
fn paths_join_as_the_server_joins_them() {
    assert_eq!(
        join("/etc/nats-config/nats.conf", "accounts.conf"),
        "/etc/nats-config/accounts.conf"
    );
    assert_eq!(
        join("/etc/nats-config/nats.conf", "../accounts/a.conf"),
        "/etc/accounts/a.conf"
    );
    assert_eq!(
        join("/etc/nats-config/nats.conf", "/abs/x.conf"),
        "/etc/nats-config/abs/x.conf"
    );
    assert_eq!(join("nats.conf", "./x.conf"), "x.conf");
}

#[test]
fn printer_output_for_awkward_strings_reads_back() {
    let mut m = ConfMap::new();
    m.set("ctl", Conf::Str("a\u{1}b\u{7f}é\n\"'\\".into()));
    m.set("key with \"quote", Conf::Int(1));
    m.set("it's", Conf::List(vec![Conf::Int(1), Conf::Int(22)]));
    m.set("neg", Conf::List(vec![Conf::Int(-1)]));
    m.set(
        "floats",
        Conf::List(vec![Conf::Float(0.1), Conf::Float(-2.5)]),
    );
    assert_eq!(conf(&print("h", &m)), m);
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let ok = format!("a {}\"x\"{}", "[".repeat(99), "]".repeat(99));
    if let Err(e) = parse(&ok) {
        panic!("{}", e.message);
    }
    for deep in [
        format!("a {}1{}", "[".repeat(20_000), "]".repeat(20_000)),
        format!("a {}", "{b ".repeat(20_000)),
    ] {
        assert!(err(&deep).message.contains("nested more than"));
    }
}
