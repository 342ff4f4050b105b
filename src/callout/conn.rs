//! natscc's one small NATS client: the responder's connection (connect with the AUTHX user's
//! NKey, one subscription per subject, messages with their headers, replies with or without
//! headers) and `up`'s JetStream API calls ([`Conn::request`]). Blocking, on the caller's own
//! thread; `Stopper` unblocks a pending read from another thread. A full client (and an async
//! runtime) would be a heavy start for a service that answers one kind of request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::time::Duration;

fn err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::other(msg.into())
}

/// A message delivered on one of our subscriptions.
#[derive(Debug)]
pub struct Msg {
    pub subject: String,
    pub sid: u64,
    pub reply: Option<String>,
    /// The raw header block (`NATS/1.0\r\nKey: value\r\n...`), when the message has one.
    pub headers: Option<String>,
    pub payload: Vec<u8>,
}

impl Msg {
    /// The first value of header `name` (case-insensitive, as NATS headers are canonicalised).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.as_deref()?.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    /// The server's INFO `server_id`, for log lines.
    pub server_id: String,
    /// How many requests this connection has made.
    requests: u64,
}

/// Closes the socket from another thread, so a blocked `next_msg` returns.
#[derive(Clone)]
pub struct Stopper(std::sync::Arc<TcpStream>);

impl Stopper {
    pub fn stop(&self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

/// `nats://host:port` (or `host:port`) to a socket address string.
fn host_port(url: &str) -> std::io::Result<String> {
    let rest = url
        .strip_prefix("nats://")
        .or_else(|| url.strip_prefix("tcp://"))
        .unwrap_or(url);
    if url.contains("://") && !url.starts_with("nats://") && !url.starts_with("tcp://") {
        return Err(err(format!(
            "unsupported NATS URL `{url}` (only nats:// without TLS)"
        )));
    }
    let rest = rest.rsplit_once('@').map(|(_, h)| h).unwrap_or(rest);
    let rest = rest.trim_end_matches('/');
    Ok(
        if rest
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            rest.to_string()
        } else {
            format!("{rest}:4222")
        },
    )
}

impl Conn {
    /// Connects and authenticates with the user seed; returns after the server's PONG, so a
    /// refused connection is an error here.
    pub fn connect(
        url: &str,
        seed: Option<&str>,
        name: &str,
        timeout: Duration,
    ) -> std::io::Result<Conn> {
        let addr = host_port(url)?
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| err(format!("`{url}` resolves to no address")))?;
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        let writer = stream.try_clone()?;
        let mut c = Conn {
            reader: BufReader::new(stream),
            writer,
            server_id: String::new(),
            requests: 0,
        };
        let info = c.line()?;
        let info = info
            .strip_prefix("INFO ")
            .ok_or_else(|| err(format!("expected INFO, got `{info}`")))?;
        let info: serde_json::Value =
            serde_json::from_str(info).map_err(|e| err(format!("bad INFO: {e}")))?;
        c.server_id = info["server_id"].as_str().unwrap_or_default().to_string();
        let mut connect = serde_json::json!({
            "verbose": false, "pedantic": false, "protocol": 1, "headers": true,
            "no_responders": true, "name": name, "lang": "rust",
            "version": env!("CARGO_PKG_VERSION"),
        });
        if let Some(seed) = seed {
            // The seed's own text never goes into an error.
            let kp = nkeys::KeyPair::from_seed(seed.trim())
                .map_err(|_| err("the NATS NKey seed is not a valid user seed"))?;
            let nonce = info["nonce"]
                .as_str()
                .ok_or_else(|| err("the server sent no nonce to sign"))?;
            let sig = kp
                .sign(nonce.as_bytes())
                .map_err(|e| err(format!("cannot sign the nonce: {e}")))?;
            connect["nkey"] = kp.public_key().into();
            connect["sig"] = data_encoding::BASE64URL_NOPAD.encode(&sig).into();
        }
        c.writer
            .write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())?;
        loop {
            let l = c.line()?;
            match l.as_str() {
                "PONG" => break,
                "PING" => c.writer.write_all(b"PONG\r\n")?,
                l if l.starts_with("-ERR") => {
                    return Err(err(format!("the server refused the connection: {l}")));
                }
                _ => {}
            }
        }
        // From here on reads block until a message, a PING, or `Stopper::stop`.
        c.reader.get_ref().set_read_timeout(None)?;
        Ok(c)
    }

    pub fn stopper(&self) -> std::io::Result<Stopper> {
        Ok(Stopper(std::sync::Arc::new(self.writer.try_clone()?)))
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut l = String::new();
        if self.reader.read_line(&mut l)? == 0 {
            return Err(err("the server closed the connection"));
        }
        Ok(l.trim_end_matches(['\r', '\n']).to_string())
    }

    pub fn subscribe(
        &mut self,
        subject: &str,
        queue: Option<&str>,
        sid: u64,
    ) -> std::io::Result<()> {
        let q = queue.map(|q| format!(" {q}")).unwrap_or_default();
        self.writer
            .write_all(format!("SUB {subject}{q} {sid}\r\n").as_bytes())
    }

    /// Sends a PING; the matching PONG comes back through `next_msg` as `Event::Pong`.
    pub fn ping(&mut self) -> std::io::Result<()> {
        self.writer.write_all(b"PING\r\n")
    }

    pub fn publish(
        &mut self,
        subject: &str,
        headers: Option<&str>,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(payload.len() + 128);
        match headers {
            Some(h) => {
                let hlen = h.len();
                buf.extend_from_slice(
                    format!("HPUB {subject} {hlen} {}\r\n", hlen + payload.len()).as_bytes(),
                );
                buf.extend_from_slice(h.as_bytes());
            }
            None => {
                buf.extend_from_slice(format!("PUB {subject} {}\r\n", payload.len()).as_bytes())
            }
        }
        buf.extend_from_slice(payload);
        buf.extend_from_slice(b"\r\n");
        self.writer.write_all(&buf)
    }

    /// The next message (PINGs are answered on the way); `Ok(None)` for a PONG.
    pub fn next_msg(&mut self) -> std::io::Result<Option<Msg>> {
        loop {
            let l = self.line()?;
            let parts: Vec<&str> = l.split_ascii_whitespace().collect();
            match parts.first().copied() {
                Some("PING") => self.writer.write_all(b"PONG\r\n")?,
                Some("PONG") => return Ok(None),
                Some("MSG") if parts.len() == 4 || parts.len() == 5 => {
                    let len: usize = parts[parts.len() - 1].parse().map_err(|_| err("bad MSG"))?;
                    let payload = self.payload(len)?;
                    return Ok(Some(Msg {
                        subject: parts[1].to_string(),
                        sid: parts[2].parse().map_err(|_| err("bad MSG sid"))?,
                        reply: (parts.len() == 5).then(|| parts[3].to_string()),
                        headers: None,
                        payload,
                    }));
                }
                Some("HMSG") if parts.len() == 5 || parts.len() == 6 => {
                    let n = parts.len();
                    let total: usize = parts[n - 1].parse().map_err(|_| err("bad HMSG"))?;
                    let hlen: usize = parts[n - 2].parse().map_err(|_| err("bad HMSG"))?;
                    let body = self.payload(total)?;
                    let hlen = hlen.min(body.len());
                    return Ok(Some(Msg {
                        subject: parts[1].to_string(),
                        sid: parts[2].parse().map_err(|_| err("bad HMSG sid"))?,
                        reply: (n == 6).then(|| parts[3].to_string()),
                        headers: Some(String::from_utf8_lossy(&body[..hlen]).into_owned()),
                        payload: body[hlen..].to_vec(),
                    }));
                }
                Some(s) if s.starts_with("-ERR") => {
                    return Err(err(format!("the server reported {l}")));
                }
                _ => {}
            }
        }
    }

    fn payload(&mut self, len: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; len + 2];
        self.reader.read_exact(&mut buf)?;
        buf.truncate(len);
        Ok(buf)
    }

    /// Publishes `payload` on `subject` with a reply inbox and waits up to `timeout` for the
    /// one reply (a no-responders status is an error). Messages of other subscriptions that
    /// arrive meanwhile are dropped: the caller has none.
    pub fn request(
        &mut self,
        subject: &str,
        payload: &[u8],
        timeout: Duration,
    ) -> std::io::Result<Vec<u8>> {
        // Requests take sids above any a subscriber numbers by hand.
        self.requests += 1;
        let sid = (1 << 32) + self.requests;
        let inbox = format!("_INBOX.natscc.{}.{sid}", std::process::id());
        self.subscribe(&inbox, None, sid)?;
        let mut buf = format!("PUB {subject} {inbox} {}\r\n", payload.len()).into_bytes();
        buf.extend_from_slice(payload);
        buf.extend_from_slice(b"\r\n");
        self.writer.write_all(&buf)?;
        let deadline = std::time::Instant::now() + timeout;
        let reply = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no reply to {subject}"),
                ));
            }
            self.reader.get_ref().set_read_timeout(Some(left))?;
            match self.next_msg() {
                Ok(Some(m)) if m.sid == sid => {
                    if m.headers
                        .as_deref()
                        .is_some_and(|h| h.starts_with("NATS/1.0 503"))
                    {
                        break Err(err(format!("no responders on {subject}")));
                    }
                    break Ok(m.payload);
                }
                Ok(_) => {}
                Err(e) => break Err(e),
            }
        };
        self.reader.get_ref().set_read_timeout(None)?;
        self.writer
            .write_all(format!("UNSUB {sid}\r\n").as_bytes())?;
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(host_port("nats://nats:4222").unwrap(), "nats:4222");
        assert_eq!(host_port("nats://127.0.0.1").unwrap(), "127.0.0.1:4222");
        assert_eq!(host_port("127.0.0.1:5000").unwrap(), "127.0.0.1:5000");
        assert!(host_port("tls://x:1").is_err());
    }

    #[test]
    fn headers() {
        let m = Msg {
            subject: "s".into(),
            sid: 1,
            reply: None,
            headers: Some("NATS/1.0\r\nNats-Server-Xkey: XABC\r\n\r\n".into()),
            payload: vec![],
        };
        assert_eq!(m.header("nats-server-xkey"), Some("XABC"));
    }
}
