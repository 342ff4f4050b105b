//! Where a subject mapping sends a message, on real servers, against the explain search.
//!
//! nats-server 2.12.6 runs a hub (accounts with mappings, stream and service imports) and a
//! leaf spoke on loopback; a client in every account subscribes to everything, a message is
//! published in three accounts, and each account's deliveries are what the explain search
//! (`graph::render::explain`, one for `explain` and `explain --fleet`) must answer. Measured:
//! a mapping replaces the subject (the original is not delivered beside it) where a client
//! publishes, where a leaf connection delivers and where a service import's request lands in
//! the exporter, and not where a stream import delivers; a `*` of the source that the
//! destination does not name is dropped, not moved into the destination's `>`.

mod common;

use natscc::graph::{Edge, Graph, Link, render};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const HUB: &str = r#"
accounts {
  A {
    users: [{user: a, password: a}]
    mappings: { "orders.>": "routed.>" }
    exports: [{stream: "orders.>"}, {stream: "routed.>"}]
  }
  B {
    users: [{user: b, password: b}]
    imports: [
      {stream: {account: A, subject: "orders.>"}, to: "b.orders.>"}
      {stream: {account: A, subject: "routed.>"}, to: "b.routed.>"}
      {service: {account: S, subject: "svc.>"}, to: "ask.>"}
    ]
    mappings: { "b.routed.>": "b.remapped.>" }
  }
  S {
    users: [{user: s, password: s}]
    exports: [{service: "svc.>"}]
    mappings: { "svc.>": "handled.>" }
  }
  H {
    users: [{user: h, password: h}]
    mappings: { "up.>": "landed.>" }
  }
  M {
    users: [{user: m, password: m}]
    mappings: { "$MQTT.sess.*.>": "$MQTT.sess.CSC.>" }
  }
}
"#;

const SPOKE: &str = r#"
accounts {
  H {
    users: [{user: l, password: l}]
  }
}
"#;

/// A server that is stopped (and waited for) when the test ends, whatever happens.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path, name: &str, conf: &str) -> Server {
    let path = dir.join(format!("{name}.conf"));
    std::fs::write(&path, conf).unwrap();
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(common::nats_server_of("2.12.6"))
        .arg("-c")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Server(child)
}

/// A plain NATS client: user and password, SUB, PUB, and PING to read what came before.
struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    fn connect(port: u16, user: &str) -> Client {
        let deadline = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => panic!("port {port}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut c = Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        assert!(c.line().starts_with("INFO "));
        let connect = format!(r#"{{"user":"{user}","pass":"{user}","verbose":false}}"#);
        c.send(&format!("CONNECT {connect}\r\n"));
        c.flush();
        c
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        assert!(!l.starts_with("-ERR"), "the server refused: {l}");
        l.trim_end().to_string()
    }

    fn send(&mut self, text: &str) {
        self.writer.write_all(text.as_bytes()).unwrap();
    }

    /// The subjects of the messages that arrived before the server's answer to a PING.
    fn flush(&mut self) -> Vec<String> {
        self.send("PING\r\n");
        let mut got = vec![];
        loop {
            let l = self.line();
            if l == "PONG" {
                return got;
            }
            if let Some(msg) = l.strip_prefix("MSG ") {
                got.push(msg.split(' ').next().unwrap().to_string());
                self.line();
            }
        }
    }
}

/// The explain search's answer as (account, subject) pairs.
fn explained(g: &Graph, account: &str, subject: &str) -> BTreeSet<(String, String)> {
    let start = g.g.node_indices().find(|n| g.g[*n].label() == account);
    render::explain(g, start.unwrap(), subject)
        .into_iter()
        .map(|a| (g.g[a.account].label(), a.subject))
        .collect()
}

/// The hub and the spoke as the explain search reads them: both servers' accounts, the spoke's
/// H bound to the hub's H by the leaf connection.
fn graph(hub: &str, spoke: &str) -> Graph {
    let mut g = Graph::default();
    for (cluster, conf) in [("hub", hub), ("spoke", spoke)] {
        let conf = natscc::natsconf::parse_conf(conf).unwrap();
        let Some(natscc::conf::Conf::Map(accounts)) = conf.get("accounts") else {
            panic!("no accounts in the {cluster} config");
        };
        g.add_accounts(cluster, accounts);
    }
    let (s, h) = (g.node("spoke", "H"), g.node("hub", "H"));
    let link = Link::Leaf;
    g.g.add_edge(s, h, Edge { link, origin: None });
    g
}

#[test]
fn a_mapping_replaces_the_subject_where_the_server_applies_it() {
    let dir = tempfile::tempdir().unwrap();
    let (port, leaf, spoke_port) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let hub_conf =
        format!("listen: 127.0.0.1:{port}\nleafnodes {{ listen: 127.0.0.1:{leaf} }}\n{HUB}");
    let spoke_conf = format!(
        "listen: 127.0.0.1:{spoke_port}\nleafnodes {{ remotes: [{{url: \
         \"nats-leaf://h:h@127.0.0.1:{leaf}\", account: H}}] }}\n{SPOKE}"
    );
    let _hub = start(dir.path(), "hub", &hub_conf);
    let _spoke = start(dir.path(), "spoke", &spoke_conf);

    // A client in every account takes every subject.
    let mut subs: Vec<(&str, Client)> = [("hub/A", "a"), ("hub/B", "b"), ("hub/S", "s")]
        .into_iter()
        .chain([("hub/H", "h"), ("hub/M", "m")])
        .map(|(account, user)| (account, Client::connect(port, user)))
        .collect();
    for (_, c) in &mut subs {
        c.send("SUB > 1\r\n");
        c.flush();
    }

    // Each publish: (account, client, port, subject).
    let publishes = [
        ("hub/A", "a", port, "orders.1"),
        ("hub/B", "b", port, "ask.1"),
        ("spoke/H", "l", spoke_port, "up.1"),
        // The chart's own mapping of an MQTT session subject: its `*` is dropped.
        ("hub/M", "m", port, "$MQTT.sess.a.b"),
    ];
    let g = graph(&hub_conf, &spoke_conf);
    for (account, user, at, subject) in publishes {
        let mut p = Client::connect(at, user);
        let mut delivered: BTreeSet<(String, String)> = BTreeSet::new();
        // The spoke's messages go up once the hub's interest has crossed the leaf connection.
        let deadline = Instant::now() + Duration::from_secs(20);
        while delivered.is_empty() && Instant::now() < deadline {
            p.send(&format!("PUB {subject} 2\r\nhi\r\n"));
            p.flush();
            std::thread::sleep(Duration::from_millis(100));
            for (acc, c) in &mut subs {
                for s in c.flush() {
                    // The publisher's own account seeing its own subject is no arrival.
                    if !(*acc == account && s == subject) {
                        delivered.insert((acc.to_string(), s));
                    }
                }
            }
        }
        assert_eq!(
            explained(&g, account, subject),
            delivered,
            "{account} publishes {subject}: the explain search against the servers"
        );
    }
}
