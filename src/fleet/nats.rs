//! Just enough of the NATS client protocol and of HTTP for `natscc up`: connect with an NKey,
//! send one request and read its reply (the JetStream API), and read a monitoring endpoint.
//! Blocking, one request at a time; a full client would be a heavy dependency for this.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Base64 URL alphabet without padding, as the server accepts a nonce signature.
fn base64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    next_sid: u64,
}

fn err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::other(msg.into())
}

impl Conn {
    /// Connects to `127.0.0.1:port`, authenticating with a user seed when given.
    pub fn connect(port: u16, seed: Option<&str>, timeout: Duration) -> std::io::Result<Conn> {
        let stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        let writer = stream.try_clone()?;
        let mut c = Conn {
            reader: BufReader::new(stream),
            writer,
            next_sid: 1,
        };
        let info = c.line()?;
        let info = info
            .strip_prefix("INFO ")
            .ok_or_else(|| err(format!("expected INFO, got `{info}`")))?;
        let info: serde_json::Value =
            serde_json::from_str(info).map_err(|e| err(format!("bad INFO: {e}")))?;
        let mut connect = serde_json::json!({
            "verbose": false, "pedantic": false, "protocol": 1, "headers": true,
            "no_responders": true, "name": "natscc-up",
        });
        if let Some(seed) = seed {
            let kp = nkeys::KeyPair::from_seed(seed.trim())
                .map_err(|e| err(format!("bad seed: {e}")))?;
            let nonce = info["nonce"]
                .as_str()
                .ok_or_else(|| err("the server sent no nonce to sign"))?;
            let sig = kp
                .sign(nonce.as_bytes())
                .map_err(|e| err(format!("cannot sign: {e}")))?;
            connect["nkey"] = kp.public_key().into();
            connect["sig"] = base64url(&sig).into();
        }
        c.writer
            .write_all(format!("CONNECT {connect}\r\nPING\r\n").as_bytes())?;
        loop {
            let l = c.line()?;
            match l.as_str() {
                "PONG" => return Ok(c),
                "PING" => c.writer.write_all(b"PONG\r\n")?,
                l if l.starts_with("-ERR") => {
                    return Err(err(format!("the server refused the connection: {l}")));
                }
                _ => {}
            }
        }
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut l = String::new();
        if self.reader.read_line(&mut l)? == 0 {
            return Err(err("the server closed the connection"));
        }
        Ok(l.trim_end_matches(['\r', '\n']).to_string())
    }

    fn payload(&mut self, len: usize) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0; len + 2];
        self.reader.read_exact(&mut buf)?;
        buf.truncate(len);
        Ok(buf)
    }

    /// Publishes `payload` on `subject` and waits for one reply.
    pub fn request(
        &mut self,
        subject: &str,
        payload: &[u8],
        timeout: Duration,
    ) -> std::io::Result<Vec<u8>> {
        let sid = self.next_sid;
        self.next_sid += 1;
        let inbox = format!("_INBOX.natscc.{}.{sid}", std::process::id());
        self.writer.write_all(
            format!(
                "SUB {inbox} {sid}\r\nPUB {subject} {inbox} {}\r\n",
                payload.len()
            )
            .as_bytes(),
        )?;
        self.writer.write_all(payload)?;
        self.writer.write_all(b"\r\n")?;
        let deadline = Instant::now() + timeout;
        loop {
            if Instant::now() > deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no reply to {subject}"),
                ));
            }
            let l = self.line()?;
            let parts: Vec<&str> = l.split(' ').collect();
            match parts.first().copied() {
                Some("PING") => self.writer.write_all(b"PONG\r\n")?,
                Some("MSG") if parts.len() >= 4 => {
                    let len: usize = parts.last().unwrap().parse().map_err(|_| err("bad MSG"))?;
                    let body = self.payload(len)?;
                    if parts[2] == sid.to_string() {
                        self.writer
                            .write_all(format!("UNSUB {sid}\r\n").as_bytes())?;
                        return Ok(body);
                    }
                }
                Some("HMSG") if parts.len() >= 5 => {
                    let total: usize =
                        parts.last().unwrap().parse().map_err(|_| err("bad HMSG"))?;
                    let hlen: usize = parts[parts.len() - 2]
                        .parse()
                        .map_err(|_| err("bad HMSG"))?;
                    let body = self.payload(total)?;
                    if parts[2] == sid.to_string() {
                        let head = String::from_utf8_lossy(&body[..hlen.min(body.len())]);
                        if head.starts_with("NATS/1.0 503") {
                            return Err(err(format!("no responders on {subject}")));
                        }
                        self.writer
                            .write_all(format!("UNSUB {sid}\r\n").as_bytes())?;
                        return Ok(body[hlen.min(body.len())..].to_vec());
                    }
                }
                Some("-ERR") => return Err(err(format!("server error: {l}"))),
                _ => {}
            }
        }
    }
}

/// `GET path` on a loopback monitoring port: the status code and the body.
pub fn http_get(port: u16, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.write_all(
        format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64url_without_padding() {
        assert_eq!(super::base64url(b"f"), "Zg");
        assert_eq!(super::base64url(b"fo"), "Zm8");
        assert_eq!(super::base64url(b"foo"), "Zm9v");
        assert_eq!(super::base64url(&[0xfb, 0xff]), "-_8");
    }
}
