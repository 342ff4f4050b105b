//! One renderer per output format. Nothing outside this module knows a format.

use super::{Code, Diagnostic, Severity, Sources, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
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
    // No format ever prints a private NKey seed: not in a message, a label, a file name, nor
    // in the source lines the human format draws (those are masked once per set of sources,
    // clear passwords and tokens too).
    let mut masked: Vec<(*const Sources, Sources)> = vec![];
    let mut words: Vec<(*const Sources, Vec<String>)> = vec![];
    for (_, s) in items {
        if !masked.iter().any(|(p, _)| std::ptr::eq(*p, *s)) {
            masked.push((*s as *const Sources, masked_sources(s)));
            words.push((*s as *const Sources, password_words(s)));
        }
    }
    let diags: Vec<Diagnostic> = items
        .iter()
        .map(|(d, s)| {
            let w = &words
                .iter()
                .find(|(p, _)| std::ptr::eq(*p, *s))
                .expect("collected above")
                .1;
            redacted(d, w)
        })
        .collect();
    let sources_of = |s: &Sources| {
        &masked
            .iter()
            .find(|(p, _)| std::ptr::eq(*p, s))
            .expect("masked above")
            .1
    };
    let items: Vec<(&Diagnostic, &Sources)> = diags
        .iter()
        .zip(items)
        .map(|(d, (_, s))| (d, sources_of(s)))
        .collect();
    let items = &items[..];
    match format {
        Format::Human => items
            .iter()
            .map(|(d, s)| human_clean(d, s, color))
            .collect(),
        Format::Concise => items
            .iter()
            .map(|(d, s)| concise_clean(d, s) + "\n")
            .collect(),
        Format::Github => items
            .iter()
            .map(|(d, s)| github_clean(d, s) + "\n")
            .collect(),
        Format::Json => serde_json::to_string_pretty(&json_list(items)).unwrap() + "\n",
        Format::Sarif => serde_json::to_string_pretty(&sarif(items)).unwrap() + "\n",
    }
}

/// A diagnostic with every seed in its message, help and labels redacted (`SU…(seed redacted)`).
/// Clear passwords and tokens are also redacted where a message quotes one: `words` are those
/// written in the diagnostic's sources.
fn redacted(d: &Diagnostic, words: &[String]) -> Diagnostic {
    use crate::diag::redact::{redact, redact_words};
    let clean = |t: &str| redact_words(&redact(t), words).into_owned();
    let mut d = d.clone();
    d.message = clean(&d.message);
    d.help = d.help.map(|h| clean(&h));
    for l in &mut d.labels {
        l.text = clean(&l.text);
    }
    d
}

/// The clear passwords and tokens written in any of the sources.
fn password_words(sources: &Sources) -> Vec<String> {
    sources
        .files
        .iter()
        .flat_map(|f| crate::diag::redact::password_words(&f.text))
        .collect()
}

/// The sources with every seed (`SU*****...`) and every clear password or token (`password:
/// *******`) masked, same byte length, so spans still point at the same places, and seeds
/// redacted from the file names; sources without one are shared. The human format draws
/// source lines, the flagged one and its neighbours, whatever the finding is about.
fn masked_sources(sources: &Sources) -> Sources {
    use crate::diag::redact::{mask_secrets, redact};
    let files = sources
        .files
        .iter()
        .map(|f| match (mask_secrets(&f.text), redact(&f.name)) {
            (std::borrow::Cow::Borrowed(_), std::borrow::Cow::Borrowed(_)) => f.clone(),
            (text, name) => {
                std::sync::Arc::new(super::Source::new(name.into_owned(), text.into_owned()))
            }
        })
        .collect();
    Sources { files }
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

/// One finding on one line (seeds redacted).
pub fn concise(d: &Diagnostic, sources: &Sources) -> String {
    concise_clean(
        &redacted(d, &password_words(sources)),
        &masked_sources(sources),
    )
}

fn concise_clean(d: &Diagnostic, sources: &Sources) -> String {
    let mut out = match d.primary() {
        Some(span) => {
            let (f, l, c) = location(span, sources);
            format!(
                "{f}:{l}:{c}: {}: {}: {}",
                sev_word(d.severity),
                d.code.name(),
                d.message
            )
        }
        None => format!(
            "natscc: {}: {}: {}",
            sev_word(d.severity),
            d.code.name(),
            d.message
        ),
    };
    if let Some(h) = &d.help {
        out.push_str(&format!(" (help: {h})"));
    }
    // One line per finding, whatever a key or file name holds (`\n` inside a quoted key).
    let one_line = |line: String| {
        if line.contains(char::is_control) {
            line.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
        } else {
            line
        }
    };
    out = one_line(out);
    // Each related place on a line of its own, so an editor can jump to every one.
    for l in d.labels.iter().skip(1) {
        let (f, line, col) = location(l.span, sources);
        out.push('\n');
        out.push_str(&one_line(format!(
            "{f}:{line}:{col}: note: {}: {}",
            d.code.name(),
            l.text
        )));
    }
    out
}

fn github_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn github_prop(s: &str) -> String {
    github_escape(s).replace(':', "%3A").replace(',', "%2C")
}

/// One GitHub workflow command (seeds redacted).
pub fn github(d: &Diagnostic, sources: &Sources) -> String {
    github_clean(
        &redacted(d, &password_words(sources)),
        &masked_sources(sources),
    )
}

fn github_clean(d: &Diagnostic, sources: &Sources) -> String {
    let kind = sev_word(d.severity);
    let mut msg = format!("{}: {}", d.code.name(), d.message);
    if let Some(h) = &d.help {
        msg.push_str(&format!("\nhelp: {h}"));
    }
    // Each related place in a file gets an annotation of its own, on that file.
    let related: String = d
        .labels
        .iter()
        .skip(1)
        .filter(|l| names_a_file(&sources.get(l.span.src).name))
        .map(|l| {
            let (f, line, col) = location(l.span, sources);
            let text = format!("{}: {} (related to: {})", d.code.name(), l.text, d.message);
            format!(
                "\n::notice file={},line={line},col={col},title={}::{}",
                github_prop(&f),
                github_prop(d.code.name()),
                github_escape(&text)
            )
        })
        .collect();
    let main = match d.primary() {
        Some(span) if names_a_file(&sources.get(span.src).name) => {
            let (f, l, c) = location(span, sources);
            format!(
                "::{kind} file={},line={l},col={c},title={}::{}",
                github_prop(&f),
                github_prop(d.code.name()),
                github_escape(&msg)
            )
        }
        // Built-in defaults, --set, stdin: no file in the repository to annotate.
        Some(span) => {
            let (f, l, c) = location(span, sources);
            format!(
                "::{kind} title={}::{}",
                github_prop(d.code.name()),
                github_escape(&format!("{f}:{l}:{c}: {msg}"))
            )
        }
        None => format!(
            "::{kind} title={}::{}",
            github_prop(d.code.name()),
            github_escape(&msg)
        ),
    };
    main + &related
}

/// Whether a source name is a path: the built-in defaults (`<chart defaults>`), standard
/// input (`<stdin>`) and the `--set` arguments are inputs without a file.
fn names_a_file(name: &str) -> bool {
    !(name.starts_with('<') || name.starts_with("--"))
}

/// A path as a URI path: every byte but unreserved characters, `/` and a few safe
/// sub-delimiters percent-encoded (`:` too, so a relative path never reads as a scheme).
fn uri_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The base of relative paths in SARIF: the folder natscc ran in (paths are given relative to it).
const SRCROOT: &str = "%SRCROOT%";
/// The base of inputs that are no file (built-in defaults, stdin, --set): nothing to resolve.
const NOT_A_FILE: &str = "NATSCC_INPUT";

/// SARIF's artifactLocation: a relative URI with a base id, a file URI, or a named non-file.
fn artifact_location(name: &str) -> Value {
    if !names_a_file(name) {
        let slug: Vec<&str> = name
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        return json!({
            "uri": slug.join("-"),
            "uriBaseId": NOT_A_FILE,
            "description": {"text": format!("{name}: an input of natscc, not a file")},
        });
    }
    let path = name.replace('\\', "/");
    if path.starts_with('/') {
        json!({"uri": format!("file://{}", uri_path(&path))})
    } else {
        json!({"uri": uri_path(path.trim_start_matches("./")), "uriBaseId": SRCROOT})
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
                    "artifactLocation": artifact_location(&f),
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
                        rest.iter()
                            .enumerate()
                            .map(|(i, l)| {
                                let mut v = loc(l.span, Some(&l.text));
                                v["id"] = json!(i + 1);
                                v
                            })
                            .collect(),
                    );
                }
            }
            r
        })
        .collect();
    // Where relative paths start, for viewers that open the files (GitHub resolves them from
    // the repository root, which is where CI runs natscc).
    let relative = results
        .iter()
        .flat_map(|r| {
            r["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(r["relatedLocations"].as_array().into_iter().flatten())
        })
        .any(|l| l["physicalLocation"]["artifactLocation"]["uriBaseId"] == SRCROOT);
    let mut run = json!({
        "tool": {"driver": {
            "name": "natscc",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/natscc/natscc",
            "rules": rules,
        }},
        "results": results,
        // Columns count characters (SARIF's default would be UTF-16 code units).
        "columnKind": "unicodeCodePoints",
    });
    if let (true, Ok(cwd)) = (relative, std::env::current_dir()) {
        let dir = cwd.to_string_lossy().replace('\\', "/");
        run["originalUriBaseIds"] =
            json!({SRCROOT: {"uri": format!("file://{}/", uri_path(dir.trim_end_matches('/')))}});
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// A source as miette reads it, without copying the text: miette finds the lines around a span
/// by scanning from the start of what it is given, so it is given only those lines (found with
/// the source's line table), and its answer is moved back to the place in the whole file.
#[derive(Debug)]
struct Window(std::sync::Arc<super::Source>);

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let src = &self.0;
        let starts = &src.line_starts;
        let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let (first, last) = (line_of(span.offset()), line_of(span.offset() + span.len()));
        // Two spare lines each side, so miette draws exactly what it draws from the whole text.
        let from_line = first.saturating_sub(before + 2);
        let from = starts[from_line];
        let to = starts
            .get(last + after + 3)
            .copied()
            .unwrap_or(src.text.len())
            .max(from);
        let window = &src.text[from..to];
        let inner = window.read_span(
            &miette::SourceSpan::new((span.offset() - from).into(), span.len()),
            before,
            after,
        )?;
        let at = miette::SourceSpan::new((inner.span().offset() + from).into(), inner.span().len());
        let data: &'a [u8] = &src.text.as_bytes()[at.offset()..at.offset() + at.len()];
        Ok(Box::new(miette::MietteSpanContents::new_named(
            src.name.clone(),
            data,
            at,
            inner.line() + from_line,
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// miette's view of one diagnostic: labels in the primary file, the rest as related reports.
#[derive(Debug)]
struct MietteView {
    code: &'static str,
    severity: Severity,
    message: String,
    help: Option<String>,
    source: Option<Window>,
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
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

fn view(d: &Diagnostic, sources: &Sources) -> MietteView {
    let mut primary_src = None;
    let mut labels = vec![];
    let mut related = vec![];
    let mut unshown = vec![];
    for (i, l) in d.labels.iter().enumerate() {
        let src = sources.get(l.span.src);
        // A line too long to print (minified JSON, a one-line list) is named, not drawn: miette
        // cannot draw past column 65,535, and nobody reads such a line on a terminal.
        if !drawable(&src.text, l.span.offset as usize) {
            let (f, line, col) = location(l.span, sources);
            unshown.push(format!(
                "{f}:{line}:{col} ({}; the line is too long to show)",
                l.text
            ));
            continue;
        }
        let ls = LabeledSpan::new(
            Some(l.text.clone()),
            l.span.offset as usize,
            (l.span.len as usize)
                .max(1)
                .min(src.text.len().saturating_sub(l.span.offset as usize)),
        );
        match primary_src {
            None => {
                primary_src = Some(l.span.src);
                labels.push(LabeledSpan::new_primary_with_span(
                    ls.label().map(str::to_string),
                    *ls.inner(),
                ));
            }
            Some(p) if p == l.span.src => labels.push(ls),
            Some(_) => {
                let (f, line, col) = location(l.span, sources);
                related.push(MietteView {
                    code: d.code.name(),
                    severity: d.severity,
                    message: format!("related: {f}:{line}:{col}"),
                    help: None,
                    source: Some(Window(src.clone())),
                    labels: vec![ls],
                    related: vec![],
                });
            }
        }
        let _ = i;
    }
    let source = primary_src.map(|id| Window(sources.get(id).clone()));
    let message = if unshown.is_empty() {
        d.message.clone()
    } else {
        format!("{}\n  at {}", d.message, unshown.join("\n  at "))
    };
    MietteView {
        code: d.code.name(),
        severity: d.severity,
        message,
        help: d.help.clone(),
        source,
        labels,
        related,
    }
}

/// Whether the line holding `offset` is short enough to draw.
fn drawable(text: &str, offset: usize) -> bool {
    const LONGEST_DRAWN_LINE: usize = 4096;
    let offset = offset.min(text.len());
    let bytes = text.as_bytes();
    let start = bytes[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let end = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |i| offset + i);
    end - start <= LONGEST_DRAWN_LINE
}

/// One finding as miette draws it (seeds redacted, in the drawn source lines too).
pub fn human(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    human_clean(
        &redacted(d, &password_words(sources)),
        &masked_sources(sources),
        color,
    )
}

fn human_clean(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    let _ = handler.render_report(&mut out, &view(d, sources));
    out
}
