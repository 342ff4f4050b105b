//! Per-code severities, as cargo-deny and ruff have them: `allow` drops a code's findings,
//! `warn` keeps them as warnings, `deny` makes them errors. Applied after the checks, on the
//! findings only, so a level never changes what a stage computes.

use super::{Code, Diagnostic, Severity};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Allow,
    Warn,
    Deny,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Warn => "warn",
            Level::Deny => "deny",
        }
    }
}

/// The level chosen for each code that has one; later choices replace earlier ones.
#[derive(Debug, Clone, Default)]
pub struct Levels {
    by_code: BTreeMap<Code, Level>,
}

/// The code a name stands for: `natscc::gateway::tlsroute_hostnames` or
/// `gateway::tlsroute_hostnames`.
pub fn parse_code(name: &str) -> Result<Code, String> {
    let full = if name.starts_with("natscc::") {
        name.to_string()
    } else {
        format!("natscc::{name}")
    };
    if let Some(c) = Code::ALL.iter().find(|c| c.name() == full) {
        return Ok(*c);
    }
    let hint = match super::suggest(&full, Code::ALL.iter().map(|c| c.name())) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    };
    Err(format!(
        "unknown code `{name}`{hint} (`natscc rules` lists every code)"
    ))
}

impl Levels {
    /// Sets `name`'s level. Only a warning can be allowed or kept a warning: an error is what
    /// nats-server or Helm refuses, and compile writes nothing while one stands.
    pub fn set(&mut self, name: &str, level: Level) -> Result<(), String> {
        let code = parse_code(name)?;
        if level != Level::Deny && code.default_severity() == Severity::Error {
            return Err(format!(
                "`{}` is an error (what nats-server or Helm refuses), and errors cannot be \
                 lowered; only warnings can be given `{}`",
                code.name(),
                level.name()
            ));
        }
        self.by_code.insert(code, level);
        Ok(())
    }

    pub fn get(&self, code: Code) -> Option<Level> {
        self.by_code.get(&code).copied()
    }

    /// Drops allowed findings and sets the severity of warned and denied ones.
    pub fn apply(&self, diags: &mut Vec<Diagnostic>) {
        if self.by_code.is_empty() {
            return;
        }
        diags.retain(|d| self.get(d.code) != Some(Level::Allow));
        for d in diags.iter_mut() {
            match self.get(d.code) {
                Some(Level::Deny) => d.severity = Severity::Error,
                Some(Level::Warn) => d.severity = Severity::Warning,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_drop_raise_and_refuse() {
        let mut l = Levels::default();
        l.set("gateway::tlsroute_hostnames", Level::Allow).unwrap();
        l.set("natscc::cross_layer::redundant", Level::Deny)
            .unwrap();
        let mut diags = vec![
            Diagnostic::new(Code::TlsRouteHostnames, "a"),
            Diagnostic::new(Code::CrossLayerRedundant, "b"),
            Diagnostic::new(Code::AccountOwnedField, "c"),
        ];
        l.apply(&mut diags);
        assert_eq!(diags.len(), 2);
        assert_eq!(diags[0].severity, Severity::Error);
        assert_eq!(diags[1].severity, Severity::Warning);
        assert!(
            l.set("natscc::graph::cycle", Level::Allow)
                .unwrap_err()
                .contains("cannot be lowered")
        );
        let e = l
            .set("natscc::gateway::tlsroute_hostname", Level::Allow)
            .unwrap_err();
        assert!(
            e.contains("did you mean `natscc::gateway::tlsroute_hostnames`"),
            "{e}"
        );
    }
}
