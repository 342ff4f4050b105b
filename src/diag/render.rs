//! One renderer per output format. Nothing outside this module knows a format.

use super::{Code, Diagnostic, Severity, Sources, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde_json::{Value, json};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Concise,
    Json,
    Sarif,
    Github,
}

/// Renders the findings of one compilation in one format.
pub fn render(format: Format, diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let items: Vec<(&Diagnostic, &Sources)> = diags.iter().map(|d| (d, sources)).collect();
    render_many(format, &items, color)
}

/// Renders findings of several compilations (each with its own sources) as one report.
pub fn render_many(format: Format, items: &[(&Diagnostic, &Sources)], color: bool) -> String {
    match format {
        Format::Human => items.iter().map(|(d, s)| human(d, s, color)).collect(),
        Format::Concise => items.iter().map(|(d, s)| concise(d, s) + "\n").collect(),
        Format::Github => items.iter().map(|(d, s)| github(d, s) + "\n").collect(),
        Format::Json => serde_json::to_string_pretty(&json_list(items)).unwrap() + "\n",
        Format::Sarif => serde_json::to_string_pretty(&sarif(items)).unwrap() + "\n",
    }
}

fn location(span: Span, sources: &Sources) -> (String, u32, u32) {
    (sources.get(span.src).name.clone(), span.line, span.col + 1)
}

fn sev_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

pub fn concise(d: &Diagnostic, sources: &Sources) -> String {
    let mut out = match d.primary() {
        Some(span) => {
            let (f, l, c) = location(span, sources);
            format!("{f}:{l}:{c}: {}: {}: {}", sev_word(d.severity), d.code.name(), d.message)
        }
        None => format!("natscc: {}: {}: {}", sev_word(d.severity), d.code.name(), d.message),
    };
    if let Some(h) = &d.help {
        out.push_str(&format!(" (help: {h})"));
    }
    out
}

fn github_escape(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn github_prop(s: &str) -> String {
    github_escape(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn github(d: &Diagnostic, sources: &Sources) -> String {
    let kind = sev_word(d.severity);
    let mut msg = format!("{}: {}", d.code.name(), d.message);
    if let Some(h) = &d.help {
        msg.push_str(&format!("\nhelp: {h}"));
    }
    match d.primary() {
        Some(span) => {
            let (f, l, c) = location(span, sources);
            format!("::{kind} file={},line={l},col={c},title={}::{}", github_prop(&f), github_prop(d.code.name()), github_escape(&msg))
        }
        None => format!("::{kind} title={}::{}", github_prop(d.code.name()), github_escape(&msg)),
    }
}

fn json_list(items: &[(&Diagnostic, &Sources)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|&(d, sources)| {
                let labels: Vec<Value> = d
                    .labels
                    .iter()
                    .map(|l| {
                        let (f, line, col) = location(l.span, sources);
                        json!({"file": f, "line": line, "column": col, "message": l.text})
                    })
                    .collect();
                json!({
                    "code": d.code.name(),
                    "severity": sev_word(d.severity),
                    "message": d.message,
                    "help": d.help,
                    "labels": labels,
                })
            })
            .collect(),
    )
}

fn sarif(items: &[(&Diagnostic, &Sources)]) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.name(),
                "shortDescription": {"text": c.doc()},
                "defaultConfiguration": {"level": sev_word(c.default_severity())},
            })
        })
        .collect();
    let results: Vec<Value> = items
        .iter()
        .map(|&(d, sources)| {
            let loc = |span: Span, text: Option<&str>| {
                let (f, l, c) = location(span, sources);
                let mut v = json!({"physicalLocation": {
                    "artifactLocation": {"uri": f},
                    "region": {"startLine": l, "startColumn": c},
                }});
                if let Some(t) = text {
                    v["message"] = json!({"text": t});
                }
                v
            };
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str(&format!("\nhelp: {h}"));
            }
            let mut r = json!({
                "ruleId": d.code.name(),
                "ruleIndex": Code::ALL.iter().position(|c| *c == d.code).unwrap(),
                "level": sev_word(d.severity),
                "message": {"text": text},
            });
            if let Some((first, rest)) = d.labels.split_first() {
                r["locations"] = json!([loc(first.span, None)]);
                if !rest.is_empty() {
                    r["relatedLocations"] = Value::Array(
                        rest.iter().enumerate().map(|(i, l)| {
                            let mut v = loc(l.span, Some(&l.text));
                            v["id"] = json!(i + 1);
                            v
                        }).collect(),
                    );
                }
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "natscc",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/natscc/natscc",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

/// miette's view of one diagnostic: labels in the primary file, the rest as related reports.
#[derive(Debug)]
struct MietteView {
    code: &'static str,
    severity: Severity,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<MietteView>,
}

impl fmt::Display for MietteView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for MietteView {}

impl miette::Diagnostic for MietteView {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() { None } else { Some(Box::new(self.labels.iter().cloned())) }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)))
        }
    }
}

fn view(d: &Diagnostic, sources: &Sources) -> MietteView {
    let mut primary_src = None;
    let mut labels = vec![];
    let mut related = vec![];
    for (i, l) in d.labels.iter().enumerate() {
        let src = sources.get(l.span.src);
        let ls = LabeledSpan::new(Some(l.text.clone()), l.span.offset as usize, (l.span.len as usize).max(1).min(src.text.len().saturating_sub(l.span.offset as usize).max(0)));
        match primary_src {
            None => {
                primary_src = Some(l.span.src);
                labels.push(LabeledSpan::new_primary_with_span(ls.label().map(str::to_string), *ls.inner()));
            }
            Some(p) if p == l.span.src => labels.push(ls),
            Some(_) => {
                let (f, line, col) = location(l.span, sources);
                related.push(MietteView {
                    code: d.code.name(),
                    severity: d.severity,
                    message: format!("related: {f}:{line}:{col}"),
                    help: None,
                    source: Some(NamedSource::new(src.name.clone(), src.text.clone())),
                    labels: vec![ls],
                    related: vec![],
                });
            }
        }
        let _ = i;
    }
    let source = primary_src.map(|id| {
        let s = sources.get(id);
        NamedSource::new(s.name.clone(), s.text.clone())
    });
    MietteView { code: d.code.name(), severity: d.severity, message: d.message.clone(), help: d.help.clone(), source, labels, related }
}

pub fn human(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    let _ = handler.render_report(&mut out, &view(d, sources));
    out
}
