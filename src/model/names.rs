//! Generated names: account tokens, secrets, env variables, NKey users.
//! One place, so checks and emitters can never disagree about a name; the tokens are the
//! chart's own helpers (`bus::templates`), so the chart's files agree too.

use super::{ClusterType, Model};
use crate::chart::secrets::TlsFile;

/// `LEAF_<TOKEN>_USER_SEED`: the chart's own `extraAccountEnvName`, rune for rune as Go maps
/// case (the one definition: `bus::templates` renders the chart's helpers).
pub use crate::bus::templates::extra_account_env_name as env_token;
/// `nats-leaf-<token>-csc`: the chart's own `extraAccountSecretName`.
pub use crate::bus::templates::extra_account_secret_name as secret_token;

/// What kind of NKey or file a secret key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    UserSeed,
    UserPublicKey,
    AccountSeed,
    AccountPublicKey,
    CurveSeed,
    CurvePublicKey,
    Certificate,
    PrivateKey,
    CaCertificate,
    /// A user seed in the `.nk` file form NACK reads.
    UserNkFile,
}

/// One key of one Secret, and the env variable that carries it into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretKey {
    pub secret: String,
    pub key: String,
    pub kind: KeyKind,
    /// (env variable, consumer) pairs: which container reads it under which name.
    pub envs: Vec<(String, &'static str)>,
}

pub const NATS: &str = "nats";
pub const NATS_MTLS: &str = "nats-mtls";
pub const AUTH_CALLOUT: &str = "auth-callout";
pub const NACK: &str = "nack";
pub const SURVEYOR: &str = "surveyor";

fn sk(
    secret: impl Into<String>,
    key: &'static str,
    kind: KeyKind,
    envs: &[(&str, &'static str)],
) -> SecretKey {
    SecretKey {
        secret: secret.into(),
        key: key.into(),
        kind,
        envs: envs.iter().map(|(e, c)| (e.to_string(), *c)).collect(),
    }
}

/// Every Secret key the cluster needs, in a stable order: the keys every cluster has, the
/// mTLS instance's, the NATS chart's TLS Secrets, then the leaf users of the cluster's kind.
pub fn secret_keys(m: &Model) -> Vec<SecretKey> {
    let mut v = common_keys();
    if !m.mtls {
        // Without the mTLS instance nothing named nats-mtls reads these keys.
        for k in &mut v {
            k.envs.retain(|(_, c)| *c != NATS_MTLS);
        }
    }
    if m.mtls {
        v.extend(mtls_keys());
    }
    tls_keys(m, &mut v);
    leaf_keys(m, &mut v);
    v
}

/// The callout's keys and the generated users every cluster has.
fn common_keys() -> Vec<SecretKey> {
    use KeyKind::*;
    vec![
        sk(
            "nats-auth-signing",
            "pubkey",
            AccountPublicKey,
            &[("AUTH_SIGNING_KEY", NATS), ("AUTH_SIGNING_KEY", NATS_MTLS)],
        ),
        sk(
            "nats-xkey",
            "pubkey",
            CurvePublicKey,
            &[("XKEY_PUBKEY", NATS), ("XKEY_PUBKEY", NATS_MTLS)],
        ),
        sk(
            "nats-authx-user",
            "pubkey",
            UserPublicKey,
            &[("AUTHX_USER_NKEY", NATS), ("AUTHX_USER_NKEY", NATS_MTLS)],
        ),
        sk(
            "auth-callout-keys",
            "nkey-seed",
            UserSeed,
            &[("AUTH_CALLOUT_NATS_NKEY_SEED", AUTH_CALLOUT)],
        ),
        sk(
            "auth-callout-keys",
            "issuer-seed",
            AccountSeed,
            &[("AUTH_CALLOUT_NATS_ISSUER_SEED", AUTH_CALLOUT)],
        ),
        sk(
            "auth-callout-keys",
            "xkey-seed",
            CurveSeed,
            &[("AUTH_CALLOUT_NATS_XKEY_SEED", AUTH_CALLOUT)],
        ),
        sk("nats-nack-user", "nack-user.nk", UserNkFile, &[]),
        sk(
            "nats-nack-user",
            "pubkey",
            UserPublicKey,
            &[("NKEY_NACK_USER_PUBKEY", AUTH_CALLOUT)],
        ),
        sk("nats-surveyor", "seed", UserSeed, &[]),
        sk(
            "nats-surveyor",
            "pubkey",
            UserPublicKey,
            &[("NKEY_SURVEYOR_PUBKEY", AUTH_CALLOUT)],
        ),
    ]
}

/// The mTLS instance's server certificate and its three leaf users.
fn mtls_keys() -> [SecretKey; 9] {
    use KeyKind::*;
    [
        sk("nats-mtls-server-tls", "ca.crt", CaCertificate, &[]),
        sk("nats-mtls-server-tls", "tls.crt", Certificate, &[]),
        sk("nats-mtls-server-tls", "tls.key", PrivateKey, &[]),
        sk(
            "nats-mtls-leaf",
            "seed",
            UserSeed,
            &[("MTLS_LEAF_USER_SEED", NATS_MTLS)],
        ),
        sk(
            "nats-mtls-leaf",
            "pubkey",
            UserPublicKey,
            &[("NKEY_MTLS_LEAF_PUBKEY", AUTH_CALLOUT)],
        ),
        sk(
            "nats-mtls-authx-leaf",
            "seed",
            UserSeed,
            &[("AUTHX_LEAF_USER_SEED", NATS_MTLS)],
        ),
        sk(
            "nats-mtls-authx-leaf",
            "pubkey",
            UserPublicKey,
            &[("NKEY_MTLS_AUTHX_LEAF_PUBKEY", AUTH_CALLOUT)],
        ),
        sk(
            "nats-mtls-sys-leaf",
            "seed",
            UserSeed,
            &[("MTLS_SYS_LEAF_USER_SEED", NATS_MTLS)],
        ),
        sk(
            "nats-mtls-sys-leaf",
            "pubkey",
            UserPublicKey,
            &[("NKEY_MTLS_SYS_LEAF_PUBKEY", AUTH_CALLOUT)],
        ),
    ]
}

/// The NATS chart's own TLS Secrets, as each release's pod mounts them (a key already listed
/// once is not listed again).
fn tls_keys(m: &Model, v: &mut Vec<SecretKey>) {
    for (secret, key, file) in &m.tls_secrets {
        if v.iter().any(|k| k.secret == *secret && k.key == *key) {
            continue;
        }
        let kind = match file {
            TlsFile::Certificate => KeyKind::Certificate,
            TlsFile::PrivateKey => KeyKind::PrivateKey,
            TlsFile::Ca => KeyKind::CaCertificate,
        };
        v.push(SecretKey {
            secret: secret.clone(),
            key: key.clone(),
            kind,
            envs: vec![],
        });
    }
}

/// The leaf users: a CPC's seeds (one per account it connects with), a CSC's public keys
/// (one per CPC and account).
fn leaf_keys(m: &Model, v: &mut Vec<SecretKey>) {
    use KeyKind::*;
    match m.cluster_type {
        ClusterType::Cpc => {
            v.push(sk(
                "nats-leaf-csc",
                "seed",
                UserSeed,
                &[("LEAF_USER_SEED", NATS)],
            ));
            for a in &m.extra_accounts {
                v.push(SecretKey {
                    secret: format!("nats-leaf-{}-csc", a.secret_token),
                    key: "seed".into(),
                    kind: UserSeed,
                    envs: vec![(format!("LEAF_{}_USER_SEED", a.env_token), NATS)],
                });
            }
        }
        ClusterType::Csc => {
            for id in &m.cpc_ids {
                v.push(SecretKey {
                    secret: format!("nats-leaf-cpc-{}", id.value),
                    key: "pubkey".into(),
                    kind: UserPublicKey,
                    envs: vec![(format!("NKEY_LEAF_CPC_{}_PUBKEY", id.value), AUTH_CALLOUT)],
                });
            }
            for a in &m.extra_accounts {
                for id in &m.cpc_ids {
                    v.push(SecretKey {
                        secret: format!("nats-leaf-{}-cpc-{}", a.secret_token, id.value),
                        key: "pubkey".into(),
                        kind: UserPublicKey,
                        envs: vec![(
                            format!("NKEY_LEAF_{}_CPC_{}_PUBKEY", a.env_token, id.value),
                            AUTH_CALLOUT,
                        )],
                    });
                }
            }
        }
    }
}

/// A generated NKey user of the auth callout: name, env variable of its public key, account.
#[derive(Debug, Clone)]
pub struct GeneratedUser {
    pub name: String,
    pub pubkey_env: String,
    pub account: String,
}

pub fn generated_users(m: &Model) -> Vec<GeneratedUser> {
    let dc = m.dc_account().to_string();
    let u = |name: &str, env: &str, acc: &str| GeneratedUser {
        name: name.into(),
        pubkey_env: env.into(),
        account: acc.into(),
    };
    let mut v = vec![
        u("nack-controller", "NKEY_NACK_USER_PUBKEY", &dc),
        u("surveyor", "NKEY_SURVEYOR_PUBKEY", "SYS"),
    ];
    if m.mtls {
        v.push(u("mtls-leaf", "NKEY_MTLS_LEAF_PUBKEY", &dc));
        v.push(u("mtls-authx-leaf", "NKEY_MTLS_AUTHX_LEAF_PUBKEY", "AUTHX"));
        v.push(u("mtls-sys-leaf", "NKEY_MTLS_SYS_LEAF_PUBKEY", "SYS"));
    }
    if m.cluster_type == ClusterType::Csc {
        for id in &m.cpc_ids {
            v.push(u(
                &format!("leaf-cpc-{}", id.value),
                &format!("NKEY_LEAF_CPC_{}_PUBKEY", id.value),
                "CSC",
            ));
        }
        for a in &m.extra_accounts {
            for id in &m.cpc_ids {
                v.push(u(
                    &format!("leaf-{}-cpc-{}", a.secret_token, id.value),
                    &format!("NKEY_LEAF_{}_CPC_{}_PUBKEY", a.env_token, id.value),
                    &a.name.value,
                ));
            }
        }
    }
    v
}

/// Names the compiler owns in the NKey user map even when the values do not enable them,
/// so an operator user never shadows one that a later values change would generate.
pub fn reserved_user_names(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = generated_users(m).into_iter().map(|u| u.name).collect();
    v.sort();
    v.dedup();
    v
}

/// Every env variable the compiler generates, for the auth-callout collision rule.
pub fn generated_env_names(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = secret_keys(m)
        .into_iter()
        .flat_map(|k| k.envs.into_iter().map(|(e, _)| e))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    /// Go's `strings.ToUpper` maps `ı` to `I` and `ſ` to `S`, and `ToLower` the Kelvin sign to
    /// `k`: the chart's helpers keep those letters, so natscc's listings name them as it does.
    #[test]
    fn tokens_follow_the_charts_case_mapping() {
        assert_eq!(super::env_token("ıd-ſ.1"), "ID_S_1");
        assert_eq!(super::secret_token("\u{212A}ey_é"), "key");
        assert_eq!(super::env_token("app"), "APP");
        assert_eq!(super::secret_token("-App.1-"), "app-1");
    }
}
