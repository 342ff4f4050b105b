//! The NATS chart's printing of nats.conf (placeholder).
use crate::emit::conf::{self, ConfMap};
pub fn format_config(c: &ConfMap) -> String {
    conf::print("", c)
}
