//! The NACK streams of each cluster's streams.yaml, created through the JetStream API as the
//! NACK controller creates them, and the readiness of what they source.

use crate::callout::conn::Conn;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Parses a Go duration (`3h`, `1h30m`, `90s`, `500ms`) to nanoseconds.
pub fn duration_nanos(text: &str) -> Option<i64> {
    crate::gotmpl::go_duration(text).map(|seconds| (seconds * 1e9) as i64)
}

/// A NACK Stream spec as the JetStream API's stream configuration.
pub fn stream_config(spec: &Value) -> Value {
    let mut c = json!({
        "name": spec["name"],
        "subjects": spec["subjects"],
        "retention": spec["retention"],
        "discard": spec["discard"],
        "storage": spec["storage"],
        "num_replicas": spec["replicas"].as_i64().unwrap_or(1),
        "max_bytes": spec["maxBytes"],
    });
    if let Some(age) = spec["maxAge"].as_str().and_then(duration_nanos) {
        c["max_age"] = json!(age);
    }
    if let Some(n) = spec["maxMsgsPerSubject"].as_i64() {
        c["max_msgs_per_subject"] = json!(n);
    }
    if let Some(sources) = spec["sources"].as_array() {
        c["sources"] = sources
            .iter()
            .map(|src| {
                let mut out = json!({"name": src["name"]});
                if src.get("externalApiPrefix").is_some() {
                    out["external"] = json!({
                        "api": src["externalApiPrefix"],
                        "deliver": src["externalDeliverPrefix"],
                    });
                }
                let transforms: Vec<Value> = src["subjectTransforms"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| json!({"src": t["source"], "dest": t["dest"]}))
                    .collect();
                if !transforms.is_empty() {
                    out["subject_transforms"] = Value::Array(transforms);
                }
                out
            })
            .collect();
    }
    c
}

/// JetStream errors of a cluster still forming: no suitable peers for placement (10005), and
/// JetStream not yet available in the cluster (10008).
const TRANSIENT: [u64; 2] = [10005, 10008];

/// Creates the streams of one cluster (connected as its NACK controller user) and waits until
/// every source of every stream is active (its sourcing consumer has reported in), or the
/// deadline passes.
pub fn create_and_wait(
    cluster: &str,
    port: u16,
    nack_seed: &str,
    streams: &[Value],
    deadline: Instant,
) -> Result<(), String> {
    let addr = format!("127.0.0.1:{port}");
    let mut conn = Conn::connect(&addr, Some(nack_seed), "natscc-up", Duration::from_secs(3))
        .map_err(|e| format!("{cluster}: cannot connect as nack-controller: {e}"))?;
    let mut sourced = vec![];
    for spec in streams {
        let cfg = stream_config(&spec["spec"]);
        let name = cfg["name"].as_str().unwrap_or_default().to_string();
        // Right after start the meta leader may not yet count every peer of an R3 stream
        // ("no suitable peers for placement, peer offline"); NACK keeps reconciling in
        // production, so creation is retried until the deadline.
        // A request can also go unanswered while the meta leader is being elected.
        let reply = loop {
            let reply = match api(
                &mut conn,
                &format!("$JS.API.STREAM.CREATE.{name}"),
                &cfg,
                deadline,
            ) {
                Ok(reply) => reply,
                Err(e) if e.unanswered && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                Err(e) => return Err(format!("{cluster}: creating stream {name}: {e}")),
            };
            let transient = reply["error"]["err_code"]
                .as_u64()
                .is_some_and(|c| TRANSIENT.contains(&c));
            if !transient || Instant::now() > deadline {
                break reply;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(e) = reply.get("error") {
            return Err(format!(
                "{cluster}: the server refused stream {name}: {}",
                e["description"].as_str().unwrap_or("unknown error")
            ));
        }
        if cfg.get("sources").is_some() {
            sourced.push(name);
        }
    }
    for name in sourced {
        loop {
            let info = match api(
                &mut conn,
                &format!("$JS.API.STREAM.INFO.{name}"),
                &json!({}),
                deadline,
            ) {
                Ok(info) => info,
                Err(e) if e.unanswered && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                Err(e) => return Err(format!("{cluster}: stream {name}: {e}")),
            };
            if sources_active(&info) {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{cluster}: timed out waiting for the sources of stream {name} to be active: \
                     {}",
                    info["sources"]
                ));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
    Ok(())
}

/// What NACK does with one changed Stream resource, and JetStream's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Reconciled {
    /// Created, updated or deleted; the stream's configuration as the server now holds it.
    Applied(&'static str, Value),
    /// The JetStream API refused it (NACK reports the error; the stream stays as it was).
    Refused(String),
}

/// Applies changed Stream resources as the NACK controller does (connected as its user): a new
/// resource is created, a changed one updated, a removed one deleted. `old` and `new` map each
/// resource's name to its spec.
pub fn reconcile(
    cluster: &str,
    port: u16,
    nack_seed: &str,
    old: &std::collections::BTreeMap<String, Value>,
    new: &std::collections::BTreeMap<String, Value>,
    deadline: Instant,
) -> Result<Vec<(String, Reconciled)>, String> {
    let addr = format!("127.0.0.1:{port}");
    let mut conn = Conn::connect(&addr, Some(nack_seed), "natscc-up", Duration::from_secs(3))
        .map_err(|e| format!("{cluster}: cannot connect as nack-controller: {e}"))?;
    let names: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let mut out = vec![];
    for resource in names {
        let (verb, spec) = match (old.get(resource), new.get(resource)) {
            (None, Some(n)) => ("CREATE", n),
            (Some(o), None) => ("DELETE", o),
            (Some(o), Some(n)) if o != n => ("UPDATE", n),
            _ => continue,
        };
        let cfg = stream_config(spec);
        let name = cfg["name"].as_str().unwrap_or_default().to_string();
        let body = if verb == "DELETE" { json!({}) } else { cfg };
        let reply = api(
            &mut conn,
            &format!("$JS.API.STREAM.{verb}.{name}"),
            &body,
            deadline,
        )
        .map_err(|e| format!("{cluster}: stream {name}: {e}"))?;
        let result = match reply.get("error") {
            Some(e) => Reconciled::Refused(format!(
                "{} ({})",
                e["description"].as_str().unwrap_or("unknown error"),
                e["err_code"]
            )),
            None => Reconciled::Applied(
                match verb {
                    "CREATE" => "created",
                    "DELETE" => "deleted",
                    _ => "updated",
                },
                reply["config"].clone(),
            ),
        };
        out.push((name, result));
    }
    Ok(out)
}

/// Why a JetStream API request failed; `unanswered` when no reply came in time (worth asking
/// again while the deadline allows).
struct ApiError {
    unanswered: bool,
    message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A JetStream API request; its JSON reply.
fn api(conn: &mut Conn, subject: &str, body: &Value, deadline: Instant) -> Result<Value, ApiError> {
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .clamp(Duration::from_millis(500), Duration::from_secs(2));
    let reply = conn
        .request(subject, body.to_string().as_bytes(), wait)
        .map_err(|e| ApiError {
            // No reply in time, or no JetStream API responder yet: both pass as the cluster forms.
            unanswered: matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) || e.to_string().starts_with("no responders"),
            message: e.to_string(),
        })?;
    serde_json::from_slice(&reply).map_err(|e| ApiError {
        unanswered: false,
        message: format!("bad reply: {e}"),
    })
}

/// Every source has been heard from (`active` is the time since, -1 before) and reports no error.
pub fn sources_active(info: &Value) -> bool {
    let Some(sources) = info["sources"].as_array() else {
        return false;
    };
    !sources.is_empty()
        && sources
            .iter()
            .all(|s| s.get("error").is_none() && s["active"].as_i64().is_some_and(|a| a >= 0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn go_durations() {
        assert_eq!(super::duration_nanos("3h"), Some(3 * 3600 * 1_000_000_000));
        assert_eq!(
            super::duration_nanos("1h30m"),
            Some(90 * 60 * 1_000_000_000)
        );
        assert_eq!(super::duration_nanos("500ms"), Some(500_000_000));
        assert_eq!(super::duration_nanos("3x"), None);
    }
}
