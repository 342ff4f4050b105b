//! Issue 11: secrets never reach an output nor a diagnostic, and every value natscc copies into
//! a config is judged as nats-server 2.15.1 judges it. The server's verdicts the rules follow
//! are measured here too, so a server upgrade that changes one fails this test.

mod common;

use common::{check_with_server, nats_server_path, natscc};
use std::path::Path;

/// A user seed made for these tests (never used anywhere) and its shape's account/curve kin.
const SEED: &str = "SUAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6IC5CQ";
const ACCOUNT_SEED: &str = "SAAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6IFO3A";
const CURVE_SEED: &str = "SXAACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6IC6WE";
const USER: &str = "UDGY6GNR4T73ZROLXDWFKPJEPOKD5LV73TOTJO6JKOIXMF3DIFL4ZXSN";
const FORMATS: [&str; 5] = ["human", "concise", "json", "sarif", "github"];

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `nats-server -t` on a config text: (accepted, output).
fn server(text: &str) -> (bool, String) {
    let tmp = tempfile::tempdir().unwrap();
    let conf = write(tmp.path(), "t.conf", text);
    let out = std::process::Command::new(nats_server_path())
        .arg("-t")
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

fn refused(text: &str, says: &str) {
    let (ok, out) = server(text);
    assert!(
        !ok && out.contains(says),
        "nats-server should refuse `{text}` with `{says}`, said: {out}"
    );
}

fn accepted(text: &str) {
    let (ok, out) = server(text);
    assert!(ok, "nats-server should accept `{text}`, said: {out}");
}

#[test]
fn the_server_verdicts_the_rules_follow() {
    for key in [
        "hello",
        SEED,
        "AAD4RBRAKPPVDXNQ4SDY2WD5TBU7KWYQ3DIIVA4PQYHMTLGWJJYJHCZT",
        "UDGY6GNR4T73ZROLXDWFKPJEPOKD5LV73TOTJO6JKOIXMF3DIFL4ZXSM",
    ] {
        refused(
            &format!("accounts {{ A {{ users: [ {{nkey: {key}}} ] }} }}"),
            "Not a valid public nkey for a user",
        );
    }
    refused(
        &format!(
            "accounts {{ A {{ users: [ {{nkey: {USER}}} ] }}, B {{ users: [ {{nkey: {USER}}} ] }} }}"
        ),
        "Duplicate nkey",
    );
    refused(
        "accounts { A { users: [ {user: a, password: b} ] }, B { users: [ {user: a, password: c} ] } }",
        "Duplicate user",
    );
    refused(
        &format!("accounts {{ A {{ users: [ {{nkey: {USER}, password: b}} ] }} }}"),
        "Nkey users do not take usernames or passwords",
    );
    // A user's keys in any case, `username` and `pass` as synonyms.
    refused(
        "accounts { A { users: [ {NKey: hello} ] } }",
        "Not a valid public nkey for a user",
    );
    for other in ["Username: x", "pass: x", "USER: x"] {
        refused(
            &format!("accounts {{ A {{ users: [ {{NKEY: {USER}, {other}}} ] }} }}"),
            "Nkey users do not take usernames or passwords",
        );
    }
    refused(
        "accounts { A { users: [ {username: a} ] }, B { users: [ {User: a} ] } }",
        "Duplicate user",
    );
    refused(
        "accounts { A { users: [ {user: a, pass: 5} ] } }",
        "interface conversion",
    );
    let svc = |imports: &str| {
        format!(
            "accounts {{ A {{ exports: [ {{service: \"x.>\"}} ] }}, C {{ exports: [ {{service: \"x.>\"}} ] }}, B {{ imports: [ {imports} ] }} }}"
        )
    };
    refused(
        &svc(
            "{service: {account: A, subject: \"x.>\"}}, {service: {account: A, subject: \"x.>\"}}",
        ),
        "Duplicate service import subject",
    );
    refused(
        &svc(
            "{service: {account: A, subject: \"x.>\"}}, {service: {account: A, subject: \"x.>\"}, to: \"x.>\"}",
        ),
        "Duplicate service import subject",
    );
    // From two exporters, or onto two local subjects, the server takes them.
    accepted(&svc(
        "{service: {account: A, subject: \"x.>\"}}, {service: {account: C, subject: \"x.>\"}}",
    ));
    accepted(&svc(
        "{service: {account: A, subject: \"x.>\"}, to: \"y.>\"}, {service: {account: A, subject: \"x.>\"}, to: \"z.>\"}",
    ));
    accepted(
        "accounts { A { users: [ {user: a, password: \"$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy\"} ] } }",
    );
    // The top level: unknown keys are refused (not ignored), types as in check/server_conf.rs.
    refused("max_paylod: 1048576", "unknown field \"max_paylod\"");
    refused("users: [{user: a, password: b}]", "unknown field \"users\"");
    refused(
        "port: \"abc\"",
        "interface conversion: interface {} is string, not int64",
    );
    refused(
        "jetstream: 5",
        "Expected map, bool or string to define JetStream, got int64",
    );
    refused(
        "max_payload: []",
        "interface conversion: interface {} is []interface {}, not int64",
    );
    refused(
        "debug: \"yes\"",
        "interface conversion: interface {} is string, not bool",
    );
    accepted("PORT: 4222\nMax_Payload: 1MB\njetstream: enabled\nserver_tags: \"a\"");
    accepted("FOO: 5\nport: $FOO");
    // Lists inside lists, where natscc prints them (Go's indented JSON).
    refused(
        "\"authorization\": {\n  \"users\": [\n    [\n      0\n    ]\n  ]\n}\n",
        "Expected user entry to be a map/struct",
    );
    refused(
        "\"cluster\": {\n  \"routes\": [\n    [\n      \"nats://a:1\"\n    ]\n  ]\n}\n",
        "interface conversion",
    );
    refused(
        "\"accounts\": {\n  \"A\": {\n  \"exports\": [\n    [\n      {\"stream\": \"a\"}\n    ]\n  ]\n}\n}\n",
        "Export Items should be a map",
    );
}

/// Compiles one values text in every format: exit 1, nothing written, and the texts never seen.
fn refused_without_echo(values: &str, code: &str, never: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "values.yaml", values);
    for format in FORMATS {
        let out = tmp.path().join(format!("out-{format}"));
        let run = natscc()
            .args(["compile", "-f"])
            .arg(&file)
            .arg("-o")
            .arg(&out)
            .args(["--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout).into_owned()
            + &String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{format}: not refused:\n{text}");
        assert!(!out.exists(), "{format}: an output folder was written");
        assert!(text.contains(code), "{format}: no {code}:\n{text}");
        for secret in never {
            assert!(
                !text.contains(secret),
                "{format} echoes `{secret}`:\n{text}"
            );
        }
    }
}

#[test]
fn a_seed_as_an_extra_account_users_nkey_is_refused_and_never_echoed() {
    let values = format!(
        "global:\n  eventBus:\n    clusterType: csc\n    extraAccounts:\n      Mes:\n        users:\n          - nkey: {SEED}\n"
    );
    refused_without_echo(&values, "natscc::secrets::seed", &[SEED]);
}

#[test]
fn a_seed_as_a_key_name_account_or_id_is_never_echoed() {
    let as_account = format!(
        "global:\n  eventBus:\n    clusterType: csc\n    extraAccounts:\n      {SEED}:\n        exports: [{{stream: \"a.>\"}}]\n"
    );
    refused_without_echo(&as_account, "natscc::secrets::seed", &[SEED]);
    // A map-valued id holding a password is drawn as Go prints maps: redacted too (found by the
    // mutation fuzz: `cpc.map[authorization:map[Password:x]].telemetry.>`).
    let map_id = "global:\n  eventBus:\n    clusterType: cpc\n    cscEndpoint: nats://csc:7422\n    clusterId:\n      authorization:\n        Password: drawn-secret\n";
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "values.yaml", map_id);
    let run = natscc().args(["graph", "-f"]).arg(&file).output().unwrap();
    let text =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(
        text.contains("cpc.map["),
        "the drawing names the id:\n{text}"
    );
    assert!(
        !text.contains("drawn-secret"),
        "graph shows the password:\n{text}"
    );
    // graph and explain still draw and explain values with errors: the seed is redacted there.
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "values.yaml", &as_account);
    for args in [
        vec!["graph", "-f"],
        vec!["graph", "--format", "mermaid", "-f"],
        vec!["explain", "--account", SEED, "a.b", "-f"],
    ] {
        let run = natscc().args(&args).arg(&file).output().unwrap();
        let text = String::from_utf8_lossy(&run.stdout).into_owned()
            + &String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}:\n{text}");
        assert!(!text.contains(SEED), "{args:?} shows the seed:\n{text}");
    }
    // As a cluster id the id rule (upper case) reports it too: neither echoes it.
    let as_id = format!(
        "global:\n  eventBus:\n    clusterType: cpc\n    clusterId: {SEED}\n    cscEndpoint: nats://csc:7422\n"
    );
    refused_without_echo(&as_id, "natscc::secrets::seed", &[SEED]);
    let as_landing = format!(
        "global:\n  eventBus:\n    clusterType: csc\n    auth:\n      permissions:\n        nkey:\n          bridge:\n            public_key: {USER}\n            account: {ACCOUNT_SEED}\n"
    );
    refused_without_echo(&as_landing, "natscc::secrets::seed", &[ACCOUNT_SEED]);
    let in_merge = format!(
        "global:\n  eventBus:\n    clusterType: csc\nnats:\n  config:\n    merge:\n      server_tags: [\"{CURVE_SEED}\"]\n"
    );
    refused_without_echo(&in_merge, "natscc::secrets::seed", &[CURVE_SEED]);
    // Plain-chart mode copies config.merge into nats.conf too.
    let plain = format!("config:\n  merge:\n    server_tags: [\"{SEED}\"]\n");
    refused_without_echo(&plain, "natscc::secrets::seed", &[SEED]);
}

#[test]
fn a_clear_password_in_an_extra_account_is_refused_without_repeating_it() {
    let values = "global:\n  eventBus:\n    clusterType: csc\n    extraAccounts:\n      Mes:\n        users: [{user: bob, password: hunter2}]\n";
    // Every format, the human one too: it draws the source line, with the password masked.
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "values.yaml", values);
    for format in FORMATS {
        let run = natscc()
            .args(["compile", "-f"])
            .arg(&file)
            .arg("-o")
            .arg(tmp.path().join("out"))
            .args(["--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stderr).into_owned()
            + &String::from_utf8_lossy(&run.stdout);
        assert_eq!(run.status.code(), Some(1), "{format}:\n{text}");
        assert!(
            text.contains("natscc::secrets::clear_password") && !text.contains("hunter2"),
            "{format}:\n{text}"
        );
    }
    // A bcrypt hash is not a secret in clear: compiled, and the server takes it.
    let hashed = values.replace(
        "hunter2",
        "\"$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy\"",
    );
    let file = write(tmp.path(), "hashed.yaml", &hashed);
    let out = tmp.path().join("hashed");
    let run = natscc()
        .args(["compile", "-f"])
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .args(["--format", "concise"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check_with_server(&out, "nats/nats-config/nats.conf");
}

/// Every way a password can be written where the chart copies it (an extra account's users;
/// nats-server reads `pass` and `password` in any case): refused, and no format shows it, nor
/// the human format's drawn source lines (the flagged line and its neighbours).
#[test]
fn clear_passwords_are_refused_and_masked_in_every_format() {
    let acc = |users: &str| {
        format!(
            "global:\n  eventBus:\n    clusterType: csc\n    extraAccounts:\n      Mes:\n        users:\n{users}"
        )
    };
    let cases: Vec<(String, Vec<&str>)> = vec![
        (acc("          - {user: bob, password: hunter2}\n"), vec!["hunter2"]),
        (acc("          - user: bob\n            password: \"Correct Horse, \\\"battery\\\"\"\n"), vec!["Correct Horse", "battery"]),
        (acc("          - user: bob\n            pass: 'it''s-a-secret'\n"), vec!["it''s-a-secret", "s-a-secret"]),
        (acc("          - {user: bob, PassWord: Tr0ub4dor}\n"), vec!["Tr0ub4dor"]),
        (acc("          - user: bob\n            password: |\n              first-line-secret\n              second-line-secret\n"), vec!["first-line-secret", "second-line-secret"]),
        (acc("          - user: bob\n            password: 31415926535\n"), vec!["31415926535"]),
        // JSON is YAML too.
        ("{\"global\": {\"eventBus\": {\"clusterType\": \"csc\", \"extraAccounts\": {\"Mes\": {\"users\": [{\"user\": \"bob\", \"password\": \"json-secret\"}]}}}}}\n".to_string(), vec!["json-secret"]),
        // An NKey user with a password: two findings draw the line, neither shows it.
        (acc(&format!("          - {{nkey: {USER}, pass: nkey-and-secret}}\n")), vec!["nkey-and-secret"]),
    ];
    // Wherever else the chart copies a password into a config or a ConfigMap (issue 11's fuzz
    // found each one compiled with exit 0 and the password in the outputs).
    let bus = "global:\n  eventBus:\n    clusterType: csc\n";
    let more: Vec<(String, Vec<&str>)> = vec![
        (format!("{bus}nats:\n  config:\n    merge:\n      authorization: {{user: a, password: merge-secret}}\n"), vec!["merge-secret"]),
        (format!("{bus}nats:\n  config:\n    merge:\n      authorization: {{Token: tok-secret}}\n"), vec!["tok-secret"]),
        (format!("{bus}nats:\n  config:\n    leafnodes:\n      merge:\n        remotes: [{{url: \"nats://u:url-secret@hub:7422\"}}]\n"), vec!["url-secret"]),
        (format!("{bus}auth-callout:\n  serviceConfig:\n    users: [{{user: bob, Password: callout-secret}}]\n"), vec!["callout-secret"]),
        ("config:\n  cluster:\n    enabled: true\n    routeURLs:\n      user: route\n      password: route-secret\n".to_string(), vec!["route-secret"]),
        ("config:\n  merge:\n    authorization: {user: a, pass: 12345678}\n".to_string(), vec!["12345678"]),
        (format!("{bus}auth-callout:\n  serviceConfig:\n    password:\n    - listed-secret\n"), vec!["listed-secret"]),
        // A message that quotes the value: a resolver_preload "JWT file" named by a password
        // (found by the mutation fuzz: "the JWT file cannot be read: .../secret-as-path").
        ("config:\n  merge:\n    resolver_preload:\n      password: secret-as-path\n".to_string(), vec!["secret-as-path"]),
    ];
    for (values, secrets) in cases.iter().chain(&more) {
        refused_without_echo(values, "natscc::secrets::clear_password", secrets);
    }
    // A route password cannot come from a Secret (the chart writes it into every route URL):
    // the help says to remove the credentials, not to use a variable.
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "values.yaml",
        "config:\n  cluster:\n    enabled: true\n    routeURLs:\n      user: route\n      password: route-secret\n",
    );
    let run = natscc()
        .args(["lint", "--format", "concise"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        text.contains("remove `routeURLs.user` and `routeURLs.password`") && !text.contains("<< $"),
        "{text}"
    );
    // A variable, a bcrypt hash or nothing at all is no password in clear.
    for ok in [
        format!(
            "{bus}nats:\n  config:\n    merge:\n      authorization: {{user: a, password: << $PW >>}}\n"
        ),
        format!("{bus}nats:\n  config:\n    merge:\n      authorization: {{token: \"$TOKEN\"}}\n"),
        format!("{bus}auth-callout:\n  registry:\n    password: \"\"\n"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let file = write(tmp.path(), "values.yaml", &ok);
        let run = natscc()
            .args(["lint", "--format", "concise"])
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(!text.contains("clear_password"), "{ok}\n{text}");
    }
    // The drawn line keeps its shape, the password masked to the same length.
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "values.yaml", &cases[0].0);
    let run = natscc()
        .args(["lint", "--format", "human"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("- {user: bob, password: *******}"), "{text}");
}

/// The masking the human format draws source lines with finds passwords and tokens by their
/// key in YAML, JSON and the NATS config format, and a URL's password; a variable reference
/// names no secret and stays.
#[test]
fn source_masking_finds_passwords_by_their_key() {
    use natscc::diag::redact::mask_secrets;
    let cases = [
        (
            "users: [{user: a, password: s3cr3t}]",
            "users: [{user: a, password: ******}]",
        ),
        (
            "  password: s3cr3t # why\n  user: a\n",
            "  password: ****** # why\n  user: a\n",
        ),
        ("\"password\": \"s3\\\"cr\",", "\"password\": \"******\","),
        (
            "authorization { token = s3cr3t }",
            "authorization { token = ****** }",
        ),
        ("pass: 'a''b' ", "pass: '****' "),
        (
            "routes: [nats://user:s3cr3t@host:6222]",
            "routes: [nats://user:******@host:6222]",
        ),
        ("password: $ROUTE_PASSWORD\n", "password: $ROUTE_PASSWORD\n"),
        (
            "password: << $ROUTE_PASSWORD >>\n",
            "password: << $ROUTE_PASSWORD >>\n",
        ),
        (
            "a:\n  password: |\n    x1\n    x2\n  b: 1\n",
            "a:\n  password: *\n******\n******\n  b: 1\n",
        ),
        (
            "passwords: 1, bypass: 2, password_file: x",
            "passwords: 1, bypass: 2, password_file: x",
        ),
        (
            "password:\n- s3cr3t\nuser: a\n",
            "password:\n********\nuser: a\n",
        ),
        ("password: [s3cr3t]\n", "password: ********\n"),
        ("pässword: ü, password: ü", "pässword: ü, password: **"),
    ];
    for (text, want) in cases {
        let got = mask_secrets(text);
        assert_eq!(got, want, "masking {text:?}");
        assert_eq!(got.len(), text.len(), "the same length in bytes: {text:?}");
    }
}

#[test]
fn lint_of_key_files_draws_no_seed_and_keeps_the_line_shape() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "keys/csc/leaf.nk", &format!("{SEED}\n"));
    write(
        tmp.path(),
        "keys/csc/values.yaml",
        &format!(
            "global:\n  eventBus:\n    clusterType: csc\n    extraAccounts:\n      Mes:\n        users: [{{nkey: {SEED}}}]\n"
        ),
    );
    for format in FORMATS {
        let run = natscc()
            .current_dir(tmp.path())
            .args(["lint", "keys/**/*", "--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout).into_owned()
            + &String::from_utf8_lossy(&run.stderr);
        assert!(!text.contains(SEED), "{format} echoes the seed:\n{text}");
        assert!(text.contains("natscc::secrets::seed"), "{format}:\n{text}");
    }
    // The human format draws the line with the seed masked to the same length, so the
    // underline still sits under the value.
    let run = natscc()
        .current_dir(tmp.path())
        .args(["lint", "keys/**/*", "--format", "human"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    let masked = format!("SU{}", "*".repeat(56));
    assert!(
        text.contains(&format!("users: [{{nkey: {masked}}}]")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.trim_end().ends_with(&masked) && l.contains("1 │")),
        "{text}"
    );
}

#[test]
fn redaction_finds_seeds_by_shape_and_checksum() {
    use natscc::diag::redact::{contains_seed, mask, redact};
    assert!(contains_seed(SEED) && contains_seed(ACCOUNT_SEED) && contains_seed(CURVE_SEED));
    assert!(!contains_seed(USER), "a public key is not a secret");
    // Inside other text, and inside a longer base32 run (checksum found).
    assert_eq!(redact(&format!("seed={SEED}.")), "seed=SU…(seed redacted).");
    assert_eq!(redact(&format!("XX{SEED}")), "XXSU…(seed redacted)");
    // A URL's password too (graph draws ids and subjects built from the values).
    assert_eq!(
        redact("stream csc2cpc.map[routes:[nats://bob:s3cr3t@host:6222]].>"),
        "stream csc2cpc.map[routes:[nats://bob:***@host:6222]].>"
    );
    assert_eq!(
        redact("nats://host:4222 and tls://a@b"),
        "nats://host:4222 and tls://a@b"
    );
    // A mistyped seed is still a secret: masked by its shape, though not reported as a seed.
    let typo = SEED.replace("C5CQ", "C5CR");
    assert!(!contains_seed(&typo));
    assert_eq!(redact(&typo), "SU…(seed redacted)");
    let line = format!("a: {SEED}\n");
    let m = mask(&line);
    assert_eq!(m.len(), SEED.len() + 4);
    assert_eq!(m, format!("a: SU{}\n", "*".repeat(56)));
}

#[test]
fn extra_account_values_are_judged_as_the_server_judges_them() {
    let acc = |body: &str| {
        format!("global:\n  eventBus:\n    clusterType: csc\n    extraAccounts:\n{body}")
    };
    let cases = [
        (
            acc("      Mes:\n        users: [{nkey: hello}]\n"),
            "natscc::accounts::user_nkey",
            6,
        ),
        (
            acc(&format!(
                "      Mes:\n        users: [{{nkey: {USER}}}]\n      Vision:\n        users: [{{nkey: {USER}}}]\n"
            )),
            "natscc::accounts::duplicate_user",
            8,
        ),
        (
            acc(
                "      Mes:\n        users: [{user: a, password: \"$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy\"}, {user: a, password: \"$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy\"}]\n",
            ),
            "natscc::accounts::duplicate_user",
            6,
        ),
        (
            acc(
                "      Vision:\n        exports: [{service: \"x.>\"}]\n      Mes:\n        imports:\n          - {service: {account: Vision, subject: \"x.>\"}}\n          - {service: {account: Vision, subject: \"x.>\"}, to: \"x.>\"}\n",
            ),
            "natscc::graph::duplicate_import",
            10,
        ),
        // nats-server lowercases a user's keys and reads `username` and `pass` as `user` and
        // `password` (measured in the_server_verdicts_the_rules_follow).
        (
            acc("      Mes:\n        users: [{NKey: hello}]\n"),
            "natscc::accounts::user_nkey",
            6,
        ),
        (
            acc(&format!(
                "      Mes:\n        users: [{{NKEY: {USER}, Username: x}}]\n"
            )),
            "natscc::accounts::user_nkey",
            6,
        ),
        (
            acc("      Mes:\n        users: [{username: a}, {User: a}]\n"),
            "natscc::accounts::duplicate_user",
            6,
        ),
        (
            acc(&format!(
                "      Mes:\n        users: [{{nkey: {USER}}}]\n      Vision:\n        users: [{{Nkey: {USER}}}]\n"
            )),
            "natscc::accounts::duplicate_user",
            8,
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (i, (values, code, line)) in cases.iter().enumerate() {
        let file = write(tmp.path(), &format!("v{i}.yaml"), values);
        let run = natscc()
            .args(["compile", "-f"])
            .arg(&file)
            .arg("-o")
            .arg(tmp.path().join(format!("o{i}")))
            .args(["--format", "concise"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{values}\n{text}");
        assert!(
            text.contains(&format!("v{i}.yaml:{line}:")) && text.contains(code),
            "want {code} at line {line}:\n{values}\n{text}"
        );
    }
    // What the server accepts natscc compiles: one service from two exporters, a valid user key.
    let ok = acc(&format!(
        "      Vision:\n        exports: [{{service: \"x.>\"}}]\n      Line:\n        exports: [{{service: \"x.>\"}}]\n      Mes:\n        users: [{{nkey: {USER}}}]\n        imports:\n          - {{service: {{account: Vision, subject: \"x.>\"}}}}\n          - {{service: {{account: Line, subject: \"x.>\"}}}}\n"
    ));
    let file = write(tmp.path(), "ok.yaml", &ok);
    let out = tmp.path().join("ok");
    let run = natscc()
        .args(["compile", "-f"])
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .args(["--format", "concise"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check_with_server(&out, "nats/nats-config/nats.conf");
}

#[test]
fn merge_blocks_are_judged_as_the_server_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    // Keys and kinds the server accepts compile, and the server takes the result.
    let ok = "global:\n  eventBus:\n    clusterType: csc\nnats:\n  config:\n    merge:\n      MAX_CONNECTIONS: 100\n      ping_max: 3\n      server_tags: [\"a\", \"b\"]\n      debug: false\n";
    let file = write(tmp.path(), "ok.yaml", ok);
    let out = tmp.path().join("ok");
    let run = natscc()
        .args(["compile", "-f"])
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .args(["--format", "concise"])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    check_with_server(&out, "nats/nats-config/nats.conf");
    // An unknown key is refused (the server refuses it, it does not merely warn).
    let bad = ok.replace("ping_max: 3", "ping_maks: 3");
    let file = write(tmp.path(), "bad.yaml", &bad);
    let run = natscc()
        .args(["compile", "-f"])
        .arg(&file)
        .arg("-o")
        .arg(tmp.path().join("bad"))
        .args(["--format", "concise"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{text}");
    assert!(
        text.contains("bad.yaml:8:7: error: natscc::server::unknown_key")
            && text.contains("did you mean `ping_max`?"),
        "{text}"
    );
    // The blocks' own merges, and what the differential found natscc passing (each refused by
    // nats-server 2.15.1: "unknown field", "invalid duration", "strconv.ParseInt", "should in
    // [0..65535] range", "interface conversion", "User entry requires a user").
    let bus = "global:\n  eventBus:\n    clusterType: csc\n";
    let cases = [
        (
            format!("{bus}nats:\n  config:\n    leafnodes:\n      merge: {{bogus_key: 1}}\n"),
            "natscc::server::unknown_key",
            7,
        ),
        (
            format!("{bus}nats:\n  config:\n    leafnodes:\n      merge: {{reconnect: []}}\n"),
            "natscc::server::type",
            7,
        ),
        (
            format!(
                "{bus}nats:\n  config:\n    jetstream:\n      merge: {{max_memory_store: \"abc\"}}\n"
            ),
            "natscc::server::type",
            7,
        ),
        (
            format!("{bus}nats:\n  config:\n    mqtt:\n      merge: {{ack_wait: \"x\"}}\n"),
            "natscc::server::type",
            7,
        ),
        (
            format!("{bus}nats:\n  config:\n    mqtt:\n      merge: {{max_ack_pending: 70000}}\n"),
            "natscc::server::type",
            7,
        ),
        (
            format!("{bus}nats:\n  config:\n    merge: {{MAX_PENDING: \"64MB\"}}\n"),
            "natscc::server::type",
            6,
        ),
        (
            format!("{bus}nats:\n  config:\n    merge: {{authorization: {{timeout: \"x\"}}}}\n"),
            "natscc::server::type",
            6,
        ),
        (
            format!("{bus}    extraAccounts:\n      Mes:\n        users: [{{password: x}}]\n"),
            "natscc::accounts::user_nkey",
            6,
        ),
    ];
    for (i, (values, code, line)) in cases.iter().enumerate() {
        let file = write(tmp.path(), &format!("block{i}.yaml"), values);
        let run = natscc()
            .args(["lint", "--format", "concise"])
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("block{i}.yaml:{line}:"))
                    && l.contains(&format!("error: {code}:"))),
            "{values}\nexpected {code} at line {line}:\n{text}"
        );
    }
    // Durations and sizes as the server reads them pass.
    let ok = format!(
        "{bus}nats:\n  config:\n    jetstream:\n      merge: {{max_memory_store: \"1G\", sync_interval: \"1h30m\"}}\n    leafnodes:\n      merge: {{reconnect: \"1.5s\"}}\n"
    );
    let file = write(tmp.path(), "durations.yaml", &ok);
    let run = natscc()
        .args(["lint", "--format", "concise"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(!text.contains("natscc::server::"), "{text}");
}
