//! Diagnostics: the one type every stage reports with, and the source files they point into.
//! Only the renderers in `render` know about output formats.

pub mod block;
mod codes;
pub mod explain;
pub mod levels;
pub mod redact;
pub mod render;

pub use codes::{Code, Doc, Shown};

use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One input text: a values file, the built-in chart defaults, or the `--set` arguments.
#[derive(Debug)]
pub struct Source {
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
    /// Whether the text is all ASCII, where a column is a byte count (the usual case).
    ascii: bool,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let ascii = text.is_ascii();
        Source {
            name: name.into(),
            text,
            line_starts,
            ascii,
        }
    }

    /// Byte offset of a 1-based line and 0-based character column.
    pub fn offset(&self, line: usize, col: usize) -> usize {
        let start = *self
            .line_starts
            .get(line.saturating_sub(1))
            .unwrap_or(&self.text.len());
        if self.ascii {
            return start.saturating_add(col).min(self.text.len());
        }
        let rest = &self.text[start.min(self.text.len())..];
        start
            + rest
                .char_indices()
                .nth(col)
                .map(|(i, _)| i)
                .unwrap_or(rest.len())
    }

    /// Like [`Source::offset`], from a known earlier place on the same line, so a reader that
    /// moves forward along one long line of non-ASCII text pays for each character once.
    pub fn offset_from(&self, line: usize, col: usize, known: (usize, usize, usize)) -> usize {
        let (known_line, known_col, known_offset) = known;
        if self.ascii || known_line != line || col < known_col || known_offset > self.text.len() {
            return self.offset(line, col);
        }
        let rest = &self.text[known_offset..];
        known_offset
            + rest
                .char_indices()
                .nth(col - known_col)
                .map(|(i, _)| i)
                .unwrap_or(rest.len())
    }

    pub fn line_text(&self, line: usize) -> &str {
        let start = *self
            .line_starts
            .get(line.saturating_sub(1))
            .unwrap_or(&self.text.len());
        let rest = &self.text[start.min(self.text.len())..];
        rest.split('\n').next().unwrap_or("").trim_end_matches('\r')
    }
}

/// All inputs of one run. Spans index into it.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<Arc<Source>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SourceId(pub u32);

impl Sources {
    /// Every source with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &Source)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, s)| (SourceId(i as u32), s.as_ref()))
    }
    pub fn add(&mut self, source: Source) -> SourceId {
        self.files.push(Arc::new(source));
        SourceId(self.files.len() as u32 - 1)
    }
    pub fn get(&self, id: SourceId) -> &Arc<Source> {
        &self.files[id.0 as usize]
    }
}

/// Where a value came from: 1-based line, 0-based column, byte offset and byte length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub src: SourceId,
    pub line: u32,
    pub col: u32,
    pub offset: u32,
    pub len: u32,
}

#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A finding. The code is not optional: every finding can be matched, counted and documented.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    /// The first label is the primary location; the others point at related places.
    pub labels: Vec<Label>,
}

impl Diagnostic {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            help: None,
            labels: vec![],
        }
    }
    pub fn at(mut self, span: Span, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn primary(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Collects findings; nothing stops at the first error.
#[derive(Debug, Default)]
pub struct Diags {
    pub list: Vec<Diagnostic>,
}

/// How many findings of one code a run reports before it only counts them.
pub const SHOWN_PER_CODE: usize = 1000;

impl Diags {
    pub fn push(&mut self, d: Diagnostic) {
        self.list.push(d);
    }
    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.list.extend(other);
    }
    /// Stable order: by file, line, column, code. Identical findings are reported once, and at
    /// most [`SHOWN_PER_CODE`] of one code, then one finding that counts the rest: a values file
    /// of a million repeats gets a report a person can read, in bounded time and memory.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        self.list.sort_by(|a, b| {
            let key = |d: &Diagnostic| (d.primary().map(|s| (s.src, s.line, s.col)), d.code);
            key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
        });
        self.list.dedup_by(|a, b| {
            a.code == b.code && a.message == b.message && a.primary() == b.primary()
        });
        let mut shown: std::collections::HashMap<Code, usize> = std::collections::HashMap::new();
        let mut rest: Vec<(Code, usize, Diagnostic)> = vec![];
        self.list.retain(|d| {
            let n = shown.entry(d.code).or_insert(0);
            *n += 1;
            if *n <= SHOWN_PER_CODE {
                return true;
            }
            match rest.iter_mut().find(|(c, _, _)| *c == d.code) {
                Some((_, count, first)) => {
                    *count += 1;
                    first.severity = first.severity.max(d.severity);
                }
                None => rest.push((d.code, 1, d.clone())),
            }
            false
        });
        for (code, count, first) in rest {
            let mut more = Diagnostic::new(
                code,
                format!(
                    "{count} more findings of {} are not shown, from here on",
                    code.name()
                ),
            );
            more.severity = first.severity;
            more.labels = first.labels.into_iter().take(1).collect();
            self.list.push(more.help(format!(
                "natscc shows the first {SHOWN_PER_CODE} findings of each code: fix those and run \
                 again"
            )));
        }
        self.list
    }
}

/// Edit distance, for "did you mean" suggestions.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = if ca.eq_ignore_ascii_case(cb) { 0 } else { 1 };
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate within a small distance, if any.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}
