//! Plain-chart mode through the command line: JWTs inline, from the environment and from files;
//! a JWT with one flipped signature byte refused; lint on chart values.

mod common;

use common::natscc;
use natscc::check::nats_chart::jwt;
use nkeys::KeyPair;

struct Keys {
    operator: KeyPair,
    sys: KeyPair,
}

fn keys() -> Keys {
    Keys {
        operator: KeyPair::new_operator(),
        sys: KeyPair::new_account(),
    }
}

fn values(k: &Keys, operator: &str, sys_jwt: &str) -> String {
    format!(
        "config:\n  resolver:\n    enabled: true\n    merge: {{ type: full }}\n  merge:\n    operator: {operator}\n    system_account: {sys}\n    resolver_preload:\n      {sys}: {sys_jwt}\n",
        sys = k.sys.public_key()
    )
}

fn compile(dir: &std::path::Path, text: &str) -> (i32, String, std::path::PathBuf) {
    std::fs::write(dir.join("values.yaml"), text).unwrap();
    let out = dir.join("out");
    let run = natscc()
        .current_dir(dir)
        .args(["compile", "-f", "values.yaml", "-o"])
        .arg(&out)
        .args(["--format", "concise"])
        .output()
        .unwrap();
    (
        run.status.code().unwrap(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
        out,
    )
}

#[test]
fn inline_jwts_are_checked_and_kept() {
    let k = keys();
    let op = jwt::encode(
        jwt::operator_claims("op", &k.operator, &[], None),
        &k.operator,
    );
    let sys = jwt::encode(
        jwt::account_claims("SYS", &k.sys.public_key(), false, &[]),
        &k.operator,
    );
    let tmp = tempfile::tempdir().unwrap();
    let (code, stderr, out) = compile(tmp.path(), &values(&k, &op, &sys));
    assert_eq!(code, 0, "{stderr}");
    let conf = std::fs::read_to_string(out.join("nats.conf")).unwrap();
    assert!(conf.contains(&op) && conf.contains(&sys), "{conf}");
    common::check_with_server(&out, "nats.conf");
}

#[test]
fn one_flipped_signature_byte_is_refused() {
    let k = keys();
    let op = jwt::encode(
        jwt::operator_claims("op", &k.operator, &[], None),
        &k.operator,
    );
    let sys = jwt::encode(
        jwt::account_claims("SYS", &k.sys.public_key(), false, &[]),
        &k.operator,
    );
    let (head, sig) = sys.rsplit_once('.').unwrap();
    let mut raw = data_encoding::BASE64URL_NOPAD
        .decode(sig.as_bytes())
        .unwrap();
    for i in [0, 31, 63] {
        raw[i] ^= 0x80;
        let tampered = format!("{head}.{}", data_encoding::BASE64URL_NOPAD.encode(&raw));
        raw[i] ^= 0x80;
        let tmp = tempfile::tempdir().unwrap();
        let (code, stderr, out) = compile(tmp.path(), &values(&k, &op, &tampered));
        assert_eq!(code, 1, "byte {i} flipped, yet accepted:\n{stderr}");
        assert!(
            stderr.contains("natscc::operator::jwt_signature"),
            "{stderr}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn environment_references_are_kept_and_listed() {
    let k = keys();
    let sys = jwt::encode(
        jwt::account_claims("SYS", &k.sys.public_key(), false, &[]),
        &k.operator,
    );
    let tmp = tempfile::tempdir().unwrap();
    let (code, stderr, out) = compile(tmp.path(), &values(&k, "<< $OPERATOR_JWT >>", &sys));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning: natscc::operator::jwt_unchecked"),
        "{stderr}"
    );
    let conf = std::fs::read_to_string(out.join("nats.conf")).unwrap();
    assert!(conf.contains("operator: $OPERATOR_JWT"), "{conf}");
    let env = std::fs::read_to_string(out.join("env.yaml")).unwrap();
    assert!(env.contains("name: OPERATOR_JWT"), "{env}");
}

#[test]
fn files_are_read_beside_the_values_and_inlined() {
    let k = keys();
    let signing = KeyPair::new_operator();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("jwt")).unwrap();
    std::fs::write(
        tmp.path().join("jwt/op.jwt"),
        jwt::encode(
            jwt::operator_claims("op", &k.operator, &[signing.public_key()], None),
            &k.operator,
        ) + "\n",
    )
    .unwrap();
    // Issued by the operator's signing key: trusted.
    let sys = jwt::encode(
        jwt::account_claims("SYS", &k.sys.public_key(), false, &[]),
        &signing,
    );
    std::fs::write(tmp.path().join("jwt/sys.jwt"), &sys).unwrap();
    let (code, stderr, out) = compile(tmp.path(), &values(&k, "jwt/op.jwt", "jwt/sys.jwt"));
    assert_eq!(code, 0, "{stderr}");
    let conf = std::fs::read_to_string(out.join("nats.conf")).unwrap();
    assert!(
        conf.contains(&sys) && !conf.contains("jwt/sys.jwt"),
        "{conf}"
    );
    // Signed by a stranger: refused, naming the issuer.
    let stranger = KeyPair::new_operator();
    std::fs::write(
        tmp.path().join("jwt/sys.jwt"),
        jwt::encode(
            jwt::account_claims("SYS", &k.sys.public_key(), false, &[]),
            &stranger,
        ),
    )
    .unwrap();
    let (code, stderr, _) = compile(tmp.path(), &values(&k, "jwt/op.jwt", "jwt/sys.jwt"));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("natscc::operator::account_issuer")
            && stderr.contains(&stranger.public_key()),
        "{stderr}"
    );
}

#[test]
fn lint_reads_chart_values() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    natscc()
        .current_dir(root)
        .args([
            "lint",
            "fixtures/operator-mode/values.yaml",
            "fixtures/tls-roles/values.yaml",
            "--format",
            "concise",
        ])
        .assert()
        .code(0);
    let out = natscc()
        .current_dir(root)
        .args([
            "lint",
            "fixtures/bad/chart-legacy-keys.yaml",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("natscc::nats_chart::legacy_key")
            && text.contains("config.jetstream.enabled"),
        "{text}"
    );
}

/// Every rule of plain-chart mode is triggered by at least one bad fixture.
#[test]
fn every_chart_rule_has_a_bad_fixture() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad");
    let expects: String = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let ours = [
        "natscc::operator::",
        "natscc::tls_auth::",
        "natscc::mqtt::",
        "natscc::tunable::",
        "natscc::start::",
    ];
    let named = [
        "natscc::nats_chart::legacy_key",
        "natscc::nats_chart::type",
        "natscc::nats_chart::tls_no_secret",
        "natscc::nats_chart::remote_url",
        "natscc::nats_chart::embedded_ref",
        "natscc::values::file",
        "natscc::values::natscc_key",
    ];
    let missing: Vec<&str> = natscc::diag::Code::ALL
        .iter()
        .map(|c| c.name())
        .filter(|n| ours.iter().any(|p| n.starts_with(p)) || named.contains(n))
        .filter(|n| !expects.contains(&format!("# expect: {n} ")))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a bad fixture: {missing:?}"
    );
}

/// A shortcut user is a reader by its role, whatever its name; a user written by hand in
/// `config.merge` only when its name has the word `reader` in it.
#[test]
fn readers_are_judged_by_role_then_by_name() {
    let tls = "config:\n  nats:\n    tls:\n      enabled: true\n      secretName: certs\n      merge:\n        verify_and_map: true\n";
    let ca = "tlsCA:\n  enabled: true\n  secretName: ca\n";
    let cases = [
        // An admin by role may publish, though its name says reader.
        (
            format!(
                "{tls}{ca}natscc:\n  tlsRoles:\n    subjects: [\"events.>\"]\n    users:\n      - {{ subject: \"CN=reader-sync\", role: admin }}\n"
            ),
            0,
        ),
        // A hand-written user named like a reader, with publish rights.
        (
            format!(
                "{tls}  merge:\n    accounts:\n      APP:\n        users:\n          - {{ user: \"CN=dash-reader\", permissions: {{ publish: [\"events.>\"], subscribe: [\"events.>\"] }} }}\n{ca}"
            ),
            1,
        ),
        // `reader` inside another word is no reader.
        (
            format!(
                "{tls}  merge:\n    accounts:\n      APP:\n        users:\n          - {{ user: \"CN=proofreader\", permissions: {{ publish: [\"events.>\"], subscribe: [\"events.>\"] }} }}\n{ca}"
            ),
            0,
        ),
    ];
    for (text, want) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let (code, stderr, _) = compile(tmp.path(), &text);
        assert_eq!(code, want, "{text}\n{stderr}");
        assert_eq!(
            stderr.contains("natscc::tls_auth::reader_publishes"),
            want == 1,
            "{stderr}"
        );
    }
}
