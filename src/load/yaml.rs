//! YAML text to a value tree that remembers where every key and value was written.
//! Scalars resolve the way Helm's YAML library resolves them (YAML 1.1 booleans included),
//! so `yes` is a boolean here exactly when it is one for Helm.

use crate::diag::{Code, Diagnostic, SourceId, Sources, Span};
use saphyr_parser::{Event, Parser, ScalarStyle};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Lists and maps are shared, not copied: a tree coalesced with the defaults holds the
    /// defaults' own subtrees wherever the user set nothing, and a change copies on write.
    Seq(Arc<Vec<Node>>),
    Map(Arc<Vec<Entry>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub v: V,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl PartialEq for V {
    fn eq(&self, other: &V) -> bool {
        match (self, other) {
            (V::Null, V::Null) => true,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Int(a), V::Int(b)) => a == b,
            (V::Float(a), V::Float(b)) => a == b,
            (V::Str(a), V::Str(b)) => a == b,
            // A shared subtree is equal to itself without a walk.
            (V::Seq(a), V::Seq(b)) => Arc::ptr_eq(a, b) || a == b,
            (V::Map(a), V::Map(b)) => Arc::ptr_eq(a, b) || a == b,
            _ => false,
        }
    }
}

// What `==` compares, spans included, so an equal tree is the same input to a memo
// (`crate::memo`). A float hashes by its bits: `0.0` and `-0.0` are equal and only miss.
impl std::hash::Hash for Node {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.span.hash(h);
        std::mem::discriminant(&self.v).hash(h);
        match &self.v {
            V::Null => {}
            V::Bool(b) => b.hash(h),
            V::Int(i) => i.hash(h),
            V::Float(f) => f.to_bits().hash(h),
            V::Str(s) => s.hash(h),
            V::Seq(items) => items.hash(h),
            V::Map(entries) => entries.hash(h),
        }
    }
}

impl std::hash::Hash for Entry {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.key.hash(h);
        self.key_span.hash(h);
        self.value.hash(h);
    }
}

impl Node {
    pub fn new(v: V, span: Span) -> Self {
        Node { v, span }
    }
    pub fn map(span: Span) -> Self {
        Node {
            v: V::Map(Arc::default()),
            span,
        }
    }
    /// Who this list or map is when another tree holds it too (the defaults it was coalesced
    /// from, or a memo): its contents' address, and its own span. What
    /// `crate::memo::ByIdentity` answers by.
    pub fn identity(&self) -> Option<(usize, Span)> {
        let address = match &self.v {
            V::Map(es) if Arc::strong_count(es) > 1 => Arc::as_ptr(es) as usize,
            V::Seq(items) if Arc::strong_count(items) > 1 => Arc::as_ptr(items) as usize,
            _ => return None,
        };
        Some((address, self.span))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.v {
            V::Map(es) => es.iter().find(|e| e.key == key),
            _ => None,
        }
    }
    /// The value Go's `encoding/json` decodes into the struct field `field` (an ASCII name)
    /// from this map after the chart's `toJson`: keys match the field without regard to case
    /// (Go's simple folding), and `toJson` sorts keys, so of several matching keys the one
    /// last in byte order is decoded last and wins.
    pub fn get_go(&self, field: &str) -> Option<&Node> {
        self.entries()
            .iter()
            .filter(|e| go_fold_eq(&e.key, field))
            .max_by(|a, b| a.key.cmp(&b.key))
            .map(|e| &e.value)
    }
    /// Follows a dotted path of map keys.
    pub fn path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |n, k| n.get(k))
    }
    pub fn entries(&self) -> &[Entry] {
        match &self.v {
            V::Map(es) => es,
            _ => &[],
        }
    }
    pub fn items(&self) -> &[Node] {
        match &self.v {
            V::Seq(items) => items,
            _ => &[],
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
    /// What a Go template's `if` (and the negation of Sprig's `empty`) makes of the value:
    /// false, 0, null, "" and empty lists and maps are false. The chart's templates, and the
    /// rules that predict them, decide by it.
    pub fn truthy(&self) -> bool {
        match &self.v {
            V::Null => false,
            V::Bool(b) => *b,
            V::Int(i) => *i != 0,
            V::Float(f) => *f != 0.0,
            V::Str(s) => !s.is_empty(),
            V::Seq(items) => !items.is_empty(),
            V::Map(entries) => !entries.is_empty(),
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self.v {
            V::Bool(b) => Some(b),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<i64> {
        match self.v {
            V::Int(i) => Some(i),
            V::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.v, V::Null)
    }
    /// A scalar as text: strings as they are, numbers and booleans as Helm prints them.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.v {
            V::Str(s) => Some(s.clone()),
            V::Int(i) => Some(i.to_string()),
            V::Float(f) => Some(format_float(*f)),
            V::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    pub fn type_name(&self) -> &'static str {
        match self.v {
            V::Null => "null",
            V::Bool(_) => "boolean",
            V::Int(_) => "integer",
            V::Float(_) => "number",
            V::Str(_) => "string",
            V::Seq(_) => "list",
            V::Map(_) => "map",
        }
    }
    /// Plain JSON, for the schema validator and for free-form blocks copied into outputs.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.v {
            V::Null => J::Null,
            V::Bool(b) => J::Bool(*b),
            V::Int(i) => J::from(*i),
            V::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or(J::Null),
            V::Str(s) => J::String(s.clone()),
            V::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            V::Map(es) => J::Object(
                es.iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
    /// The node at a JSON pointer (as the schema validator reports instance paths).
    pub fn at_pointer(&self, pointer: &str) -> (Option<&Node>, Option<&Entry>) {
        let mut node = self;
        let mut entry = None;
        for raw in pointer.split('/').skip(1) {
            let tok = raw.replace("~1", "/").replace("~0", "~");
            match &node.v {
                V::Map(es) => match es.iter().find(|e| e.key == tok) {
                    Some(e) => {
                        entry = Some(e);
                        node = &e.value;
                    }
                    None => return (Some(node), entry),
                },
                V::Seq(items) => match tok.parse::<usize>().ok().and_then(|i| items.get(i)) {
                    Some(n) => {
                        entry = None;
                        node = n;
                    }
                    None => return (Some(node), entry),
                },
                _ => return (Some(node), entry),
            }
        }
        (Some(node), entry)
    }
}

pub fn format_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i128)
    } else {
        format!("{f}")
    }
}

/// Resolves a plain scalar the way Helm's YAML 1.1 reader does.
pub fn resolve_plain(s: &str) -> V {
    resolve_non_text(s).unwrap_or_else(|| V::Str(s.to_string()))
}

/// Whether a plain scalar reads back as the very text written (not null, a bool or a number).
/// The printers ask this of every string they write, so it copies nothing.
pub fn reads_as_text(s: &str) -> bool {
    resolve_non_text(s).is_none()
}

/// What a plain scalar resolves to when that is not text.
fn resolve_non_text(s: &str) -> Option<V> {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Some(V::Null),
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            return Some(V::Bool(true));
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Some(V::Bool(false));
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(V::Float(f64::INFINITY)),
        "-.inf" | "-.Inf" | "-.INF" => return Some(V::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Some(V::Float(f64::NAN)),
        _ => {}
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let neg = s.starts_with('-');
    let int = if let Some(h) = unsigned.strip_prefix("0x") {
        i64::from_str_radix(&h.replace('_', ""), 16).ok()
    } else if let Some(o) = unsigned.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if !unsigned.is_empty()
        && unsigned.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && unsigned.as_bytes()[0].is_ascii_digit()
    {
        unsigned.replace('_', "").parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(V::Int(if neg { -i } else { i }));
    }
    let looks_float = !unsigned.is_empty()
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && unsigned.bytes().any(|b| b.is_ascii_digit())
        && (unsigned.as_bytes()[0].is_ascii_digit() || unsigned.starts_with('.'));
    if looks_float && let Ok(f) = s.parse::<f64>() {
        return Some(V::Float(f));
    }
    None
}

/// Deepest nesting of maps and lists a values file may have. Real values files stay far
/// below it; the limit keeps every recursive stage after loading (merge, schema, checks) within
/// the stack of a lint worker thread, whatever the input.
pub const MAX_DEPTH: usize = 100;

/// Most values aliases may expand to in one file. Each alias is a copy of its anchor, so
/// nested aliases grow exponentially ("billion laughs"); Helm's YAML reader refuses such files
/// as "excessive aliasing" too.
pub const MAX_ALIAS_NODES: usize = 250_000;

/// An anchored node with what an alias to it costs: its number of values and its depth.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

struct Builder<'a> {
    id: SourceId,
    sources: &'a Sources,
    anchors: HashMap<usize, Anchored>,
    diags: Vec<Diagnostic>,
    /// Nesting level of the node being built (the document root is 1).
    depth: usize,
    /// Deepest level reached so far, to learn an anchored node's height.
    deepest: usize,
    /// Values built so far, alias copies included.
    built: usize,
    /// Values copied by aliases so far.
    alias_nodes: usize,
    /// A limit was hit: the tree is not usable.
    over_limit: bool,
    /// The last place turned into a byte offset (line, column, offset): events move forward.
    cursor: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> Builder<'a> {
    fn new(id: SourceId, sources: &'a Sources) -> Self {
        Builder {
            id,
            sources,
            anchors: HashMap::new(),
            diags: vec![],
            depth: 0,
            deepest: 0,
            built: 0,
            alias_nodes: 0,
            over_limit: false,
            cursor: std::cell::Cell::new((0, 0, 0)),
        }
    }

    fn too_deep(&mut self, span: Span) {
        if !self.over_limit {
            self.diags.push(
                Diagnostic::new(
                    Code::YamlTooDeep,
                    format!("maps and lists are nested more than {MAX_DEPTH} levels deep here"),
                )
                .at(span, "too deep")
                .help(
                    "values files need only a handful of levels: flatten this structure (or check \
                     for runaway brackets)",
                ),
            );
        }
        self.over_limit = true;
    }

    fn span(&self, s: saphyr_parser::Span) -> Span {
        let src = self.sources.get(self.id);
        let line = s.start.line();
        let col = s.start.col();
        let offset = src.offset_from(line, col, self.cursor.get());
        let end = src.offset_from(s.end.line(), s.end.col(), (line, col, offset));
        self.cursor.set((line, col, offset));
        Span {
            src: self.id,
            line: line as u32,
            col: col as u32,
            offset: offset as u32,
            len: end.saturating_sub(offset) as u32,
        }
    }
}

type Events<'a> = Vec<(Event<'a>, saphyr_parser::Span)>;

/// Every parser event of one source, or the syntax error that stops it.
fn events(id: SourceId, sources: &Sources) -> Result<Events<'_>, Diagnostic> {
    let text: &str = &sources.get(id).text;
    let mut parser = Parser::new_from_str(text);
    let mut events = vec![];
    loop {
        match parser.next_event() {
            None => return Ok(events),
            Some(Ok(ev)) => events.push(ev),
            Some(Err(e)) => {
                let m = e.marker();
                let src = sources.get(id);
                let offset = src.offset(m.line(), m.col());
                let span = Span {
                    src: id,
                    line: m.line() as u32,
                    col: m.col() as u32,
                    offset: offset as u32,
                    len: src.text[offset..].chars().next().map_or(0, char::len_utf8) as u32,
                };
                let code = if e.info().contains("unknown anchor") {
                    Code::YamlUnknownAlias
                } else {
                    Code::YamlSyntax
                };
                return Err(Diagnostic::new(
                    code,
                    format!("the YAML does not parse: {}", e.info()),
                )
                .at(span, "here")
                .help(syntax_help(e.info())));
            }
        }
    }
}

/// What to change for the YAML reader's usual complaints.
fn syntax_help(info: &str) -> &'static str {
    if info.contains("tabs") {
        "indent with spaces: YAML does not allow tabs for indentation"
    } else if info.contains("mapping values are not allowed") {
        "a second `: ` on one line: quote the value if it contains `: `, or check that this line \
         is indented like its sibling keys"
    } else if info.contains("did not find expected key") {
        "check the indentation of this line: keys of one map must start in the same column"
    } else if info.contains("quoted scalar") {
        "close the quote that starts here"
    } else if info.contains("flow sequence") || info.contains("flow mapping") {
        "close the `[` or `{` that opens this value (with `]` or `}`), separating items with `,`"
    } else if info.contains("block sequence entries") {
        "a list item (`- `) cannot follow a `key: value` on the same level: put the list under its \
         own key"
    } else {
        "fix the YAML syntax at this place (indentation, a missing ':' or an unclosed quote are \
         the usual causes)"
    }
}

/// Parses a stream of YAML documents (a rendered Helm manifest): one tree per document that
/// holds a value, in order. On a syntax error no tree is returned.
pub fn parse_stream(id: SourceId, sources: &Sources) -> (Option<Vec<Node>>, Vec<Diagnostic>) {
    let events = match events(id, sources) {
        Ok(e) => e,
        Err(d) => return (None, vec![d]),
    };
    let mut b = Builder::new(id, sources);
    let mut docs = vec![];
    let mut pos = 0;
    while pos < events.len() {
        if let Event::DocumentStart(_) = events[pos].0 {
            pos += 1;
            if matches!(events.get(pos), Some((Event::DocumentEnd, _))) {
                continue;
            }
            // Anchors do not cross documents.
            b.anchors.clear();
            if let Some(n) = b.node(&events, &mut pos)
                && !n.is_null()
            {
                docs.push(n);
            }
        } else {
            pos += 1;
        }
    }
    if b.over_limit {
        return (None, b.diags);
    }
    (Some(docs), b.diags)
}

/// Parses one values file. On a syntax error the tree is `None` and the error is reported.
pub fn parse(id: SourceId, sources: &Sources) -> (Option<Node>, Vec<Diagnostic>) {
    let mut b = Builder::new(id, sources);
    let events = match events(id, sources) {
        Ok(e) => e,
        Err(d) => return (None, vec![d]),
    };
    let mut pos = 0;
    let mut root = None;
    while pos < events.len() {
        match &events[pos].0 {
            Event::DocumentStart(_) if root.is_none() => {
                pos += 1;
                if let Some((Event::DocumentEnd, _)) = events.get(pos) {
                    break;
                }
                root = b.node(&events, &mut pos);
            }
            _ => pos += 1,
        }
    }
    if b.over_limit {
        return (None, b.diags);
    }
    let whole = Span {
        src: id,
        line: 1,
        col: 0,
        offset: 0,
        len: 0,
    };
    let root = match root {
        None => Node::map(whole),
        Some(n) if n.is_null() => Node::map(n.span),
        Some(n) if matches!(n.v, V::Map(_)) => n,
        Some(n) => {
            b.diags.push(
                Diagnostic::new(
                    Code::YamlNotAMap,
                    format!(
                        "a values file must be a map of keys, but this one is a {}",
                        n.type_name()
                    ),
                )
                .at(n.span, "expected `key: value` lines")
                .help("start the file with a top-level key such as `global:`"),
            );
            return (None, b.diags);
        }
    };
    (Some(root), b.diags)
}

impl Builder<'_> {
    /// Builds the node that starts at `pos`, within the depth and alias limits: past them the
    /// subtree is skipped (without recursing) and a finding makes the whole file unusable.
    fn node(&mut self, events: &[(Event, saphyr_parser::Span)], pos: &mut usize) -> Option<Node> {
        self.depth += 1;
        self.deepest = self.deepest.max(self.depth);
        let n = if self.depth > MAX_DEPTH || self.over_limit {
            let span = self.span(events.get(*pos)?.1);
            if self.depth > MAX_DEPTH {
                self.too_deep(span);
            }
            skip_node(events, pos);
            Some(Node::new(V::Null, span))
        } else {
            self.node_within_limits(events, pos)
        };
        self.depth -= 1;
        n
    }

    fn node_within_limits(
        &mut self,
        events: &[(Event, saphyr_parser::Span)],
        pos: &mut usize,
    ) -> Option<Node> {
        let (ev, sp) = events.get(*pos)?;
        let span = self.span(*sp);
        *pos += 1;
        self.built += 1;
        let (built_before, deepest_before) = (self.built - 1, self.deepest);
        self.deepest = self.depth;
        let n = self.build(ev, span, events, pos);
        // An anchored node remembers what a copy of it costs.
        let anchor = match ev {
            Event::Scalar(_, _, a, _) | Event::SequenceStart(a, _) | Event::MappingStart(a, _) => {
                *a
            }
            _ => 0,
        };
        if anchor > 0
            && let Some(n) = &n
        {
            let a = Anchored {
                node: n.clone(),
                size: self.built - built_before,
                height: self.deepest + 1 - self.depth,
            };
            self.anchors.insert(anchor, a);
        }
        self.deepest = self.deepest.max(deepest_before);
        n
    }

    /// The node an event starts: a scalar resolved as Helm's YAML 1.1 reader resolves it, an
    /// alias's copy, or a sequence or map built from the events that follow.
    fn build(
        &mut self,
        ev: &Event,
        span: Span,
        events: &[(Event, saphyr_parser::Span)],
        pos: &mut usize,
    ) -> Option<Node> {
        match ev {
            Event::Scalar(text, style, _, tag) => {
                let v = match (tag.as_ref().map(|t| t.suffix.as_str()), style) {
                    (Some("str"), _) => V::Str(text.to_string()),
                    (Some("bool" | "int" | "float" | "null"), _) | (None, ScalarStyle::Plain) => {
                        resolve_plain(text)
                    }
                    _ => V::Str(text.to_string()),
                };
                Some(Node::new(v, span))
            }
            Event::Alias(id) => Some(self.alias(*id, span)),
            Event::SequenceStart(_, _) => {
                let mut items = vec![];
                while !matches!(events.get(*pos), Some((Event::SequenceEnd, _)) | None) {
                    if let Some(n) = self.node(events, pos) {
                        items.push(n);
                    }
                }
                *pos += 1;
                Some(Node::new(V::Seq(items.into()), span))
            }
            Event::MappingStart(_, _) => Some(self.mapping(span, events, pos)),
            _ => None,
        }
    }

    /// A copy of the anchored node, within the depth and alias-expansion limits (past them a
    /// null, and a finding).
    fn alias(&mut self, id: usize, span: Span) -> Node {
        match self.anchors.get(&id) {
            Some(a) if self.depth + a.height - 1 > MAX_DEPTH => {
                self.too_deep(span);
                Node::new(V::Null, span)
            }
            Some(a) if self.alias_nodes + a.size > MAX_ALIAS_NODES => {
                if !self.over_limit {
                    self.diags.push(
                        Diagnostic::new(
                            Code::YamlExcessiveAliasing,
                            format!(
                                "the aliases in this file expand to more than \
                                 {MAX_ALIAS_NODES} values"
                            ),
                        )
                        .at(span, "this alias goes over the limit")
                        .help(
                            "aliases nested in aliases multiply (a \"billion laughs\" file); \
                             write the shared block out, or alias it fewer times",
                        ),
                    );
                }
                self.over_limit = true;
                Node::new(V::Null, span)
            }
            Some(a) => {
                self.alias_nodes += a.size;
                // The copy counts as built, so anchors that contain aliases cost their
                // expansion.
                self.built += a.size - 1;
                self.deepest = self.deepest.max(self.depth + a.height - 1);
                a.node.clone()
            }
            None => {
                self.diags.push(
                    Diagnostic::new(
                        Code::YamlUnknownAlias,
                        "this alias names no anchor defined before it",
                    )
                    .at(span, "unknown alias"),
                );
                Node::new(V::Null, span)
            }
        }
    }

    /// A map: its entries in order, a key set twice reported (the later one kept, as Helm
    /// keeps it), then what `<<` merge keys bring that the map does not set itself.
    fn mapping(
        &mut self,
        span: Span,
        events: &[(Event, saphyr_parser::Span)],
        pos: &mut usize,
    ) -> Node {
        let mut entries: Vec<Entry> = vec![];
        // The keys set so far, for a duplicate check that stays linear in big maps.
        let mut keys: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut merged: Vec<Entry> = vec![];
        while !matches!(events.get(*pos), Some((Event::MappingEnd, _)) | None) {
            let Some(k) = self.node(events, pos) else {
                break;
            };
            let Some(value) = self.node(events, pos) else {
                break;
            };
            let Some(key) = self.map_key(&k) else {
                continue;
            };
            if key == "<<" {
                merge_key(&value, &mut merged);
                continue;
            }
            let seen = !keys.insert(key.clone());
            if let Some(prev) = entries
                .iter()
                .find(|e| seen && e.key == key)
                .filter(|_| !self.over_limit)
            {
                self.diags.push(
                    Diagnostic::new(
                        Code::YamlDuplicateKey,
                        format!("the key `{key}` is set twice in this map"),
                    )
                    .at(k.span, "set again here")
                    .at(prev.key_span, "first set here")
                    .help("remove one of the two; Helm would silently keep only the last"),
                );
                entries.retain(|e| e.key != key);
            }
            entries.push(Entry {
                key,
                key_span: k.span,
                value,
            });
        }
        *pos += 1;
        for m in merged {
            if keys.insert(m.key.clone()) {
                entries.push(m);
            }
        }
        Node::new(V::Map(entries.into()), span)
    }

    /// A map key as text (`null` for a null key); a list or map as a key is reported, `None`.
    fn map_key(&mut self, k: &Node) -> Option<String> {
        Some(match &k.v {
            V::Str(s) => s.clone(),
            V::Seq(_) | V::Map(_) => {
                self.diags.push(
                    Diagnostic::new(
                        Code::YamlSyntax,
                        "a map key must be a plain value, not a list or map",
                    )
                    .at(k.span, "complex key"),
                );
                return None;
            }
            V::Null => "null".into(),
            _ => k.scalar_text().unwrap_or_default(),
        })
    }
}

/// YAML's merge key `<<`: the entries of the aliased map(s), the first of each key kept.
fn merge_key(value: &Node, merged: &mut Vec<Entry>) {
    let sources: Vec<&Node> = match &value.v {
        V::Seq(items) => items.iter().collect(),
        _ => vec![value],
    };
    for s in sources {
        for e in s.entries() {
            if !merged.iter().any(|m| m.key == e.key) {
                merged.push(e.clone());
            }
        }
    }
}

/// Moves `pos` past the node that starts there, nested content included, without recursion.
fn skip_node(events: &[(Event, saphyr_parser::Span)], pos: &mut usize) {
    let mut open = 0usize;
    while let Some((ev, _)) = events.get(*pos) {
        *pos += 1;
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => open += 1,
            Event::SequenceEnd | Event::MappingEnd => open = open.saturating_sub(1),
            _ => {}
        }
        if open == 0 {
            return;
        }
    }
}

/// Go's `bytes.EqualFold` of a JSON key with an ASCII struct field name: ASCII letters in
/// either case, and the two non-ASCII letters that fold to ASCII ones (the Kelvin sign to `k`,
/// the long s to `s`).
pub fn go_fold_eq(key: &str, field: &str) -> bool {
    let mut k = key.chars();
    for f in field.chars() {
        let folded = match k.next() {
            Some('\u{212A}') => 'k',
            Some('\u{17F}') => 's',
            Some(c) => c.to_ascii_lowercase(),
            None => return false,
        };
        if folded != f.to_ascii_lowercase() {
            return false;
        }
    }
    k.next().is_none()
}

#[cfg(test)]
mod go_fold_tests {
    use super::go_fold_eq;

    #[test]
    fn folds_as_go_bytes_equal_fold() {
        assert!(go_fold_eq("Pub", "pub"));
        assert!(go_fold_eq("ALLOW", "allow"));
        assert!(go_fold_eq("Required_Scope", "required_scope"));
        // The Kelvin sign folds to k, the long s to s (Go's simple folding).
        assert!(go_fold_eq("\u{212A}ey", "key"));
        assert!(go_fold_eq("pub\u{17F}", "pubs"));
        assert!(!go_fold_eq("publish", "pub"));
        assert!(!go_fold_eq("pu", "pub"));
        assert!(!go_fold_eq("required-scope", "required_scope"));
    }
}
