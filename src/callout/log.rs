//! The responder's log: one JSON object per line (as the peer's zap production logger writes
//! them), to stderr or a file. Fields carry names, accounts, public keys and error texts,
//! never a seed, a token or a private key: no caller hands one to it.

use serde_json::{Map, Value};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn parse(s: &str) -> Level {
        match s.to_ascii_lowercase().as_str() {
            "debug" => Level::Debug,
            "warn" | "warning" => Level::Warn,
            "error" => Level::Error,
            _ => Level::Info,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

pub struct Log {
    min: Level,
    file: Option<Mutex<std::fs::File>>,
}

impl Log {
    pub fn new(min: Level, path: Option<&PathBuf>) -> std::io::Result<Log> {
        let file = match path {
            Some(p) => Some(Mutex::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)?,
            )),
            None => None,
        };
        Ok(Log { min, file })
    }

    pub fn log(&self, level: Level, msg: &str, fields: &[(&str, Value)]) {
        if level < self.min {
            return;
        }
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default();
        let mut o = Map::new();
        o.insert("level".into(), level.name().into());
        o.insert("ts".into(), ts.into());
        o.insert("logger".into(), "auth-callout".into());
        o.insert("msg".into(), msg.into());
        for (k, v) in fields {
            o.insert((*k).to_string(), v.clone());
        }
        let line = format!("{}\n", Value::Object(o));
        match &self.file {
            Some(f) => {
                let _ = f
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }

    pub fn info(&self, msg: &str, fields: &[(&str, Value)]) {
        self.log(Level::Info, msg, fields)
    }
    pub fn warn(&self, msg: &str, fields: &[(&str, Value)]) {
        self.log(Level::Warn, msg, fields)
    }
    pub fn error(&self, msg: &str, fields: &[(&str, Value)]) {
        self.log(Level::Error, msg, fields)
    }
    pub fn debug(&self, msg: &str, fields: &[(&str, Value)]) {
        self.log(Level::Debug, msg, fields)
    }
}
