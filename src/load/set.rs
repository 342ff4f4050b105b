//! `--set` overrides in Helm's syntax: `a.b[0].c=v`, several separated by commas,
//! `{x,y}` for a list, backslash to escape `.`, `,`, `=`, `[`. Values are typed as Helm
//! types them: `true`/`false`, `null`, 64-bit integers; everything else is a string.

use super::yaml::{Entry, Node, V};
use crate::diag::{Code, Diagnostic, SourceId, Sources, Span};

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

struct Cursor<'a> {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    id: SourceId,
    sources: &'a Sources,
}

impl Cursor<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        let src = self.sources.get(self.id);
        let offset = src.offset(self.line as usize, start);
        let end_off = src.offset(self.line as usize, end);
        // At least one character, so an empty value is still marked, but never past the text.
        let len = (end_off - offset).max(1).min(src.text.len() - offset);
        Span {
            src: self.id,
            line: self.line,
            col: start as u32,
            offset: offset as u32,
            len: len as u32,
        }
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
}

/// Applies the `--set` arguments (one per line of the source `id`) to `root`.
pub fn apply(
    root: &mut Node,
    id: SourceId,
    sources: &Sources,
    string_only: bool,
) -> Vec<Diagnostic> {
    let text = sources.get(id).text.clone();
    let mut diags = vec![];
    for (i, line) in text.lines().enumerate() {
        let mut c = Cursor {
            chars: line.chars().collect(),
            pos: 0,
            line: i as u32 + 1,
            id,
            sources,
        };
        while c.pos < c.chars.len() {
            match parse_one(&mut c, string_only) {
                Ok((path, value)) => {
                    if let Err(d) = set_path(root, &path, value) {
                        diags.push(d);
                    }
                }
                Err(d) => {
                    diags.push(d);
                    break;
                }
            }
        }
    }
    diags
}

fn bad(c: &Cursor, start: usize, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::SetSyntax,
        format!("this --set override does not parse: {what}"),
    )
    .at(c.span(start, c.chars.len()), "here")
    .help(
        "write --set path.to.key=value, e.g. --set global.eventBus.cpcIds[0]=1 or --set \
         'global.eventBus.cpcIds={1,2}'",
    )
}

type Path = Vec<(Step, Span)>;

/// One override, `path=value`, and the comma after it.
fn parse_one(c: &mut Cursor, string_only: bool) -> Result<(Path, Node), Diagnostic> {
    let start = c.pos;
    let path = parse_path(c, start)?;
    let vstart = c.pos;
    let value = if c.peek() == Some('{') {
        let items = parse_list(c, start, string_only)?;
        Node::new(V::Seq(items.into()), c.span(vstart, c.pos))
    } else {
        let raw = parse_plain(c);
        Node::new(typed(&raw, string_only), c.span(vstart, c.pos))
    };
    if c.peek() == Some(',') {
        c.pos += 1;
    }
    Ok((path, value))
}

/// The path up to and past its `=`: keys split at unescaped dots, `[N]` list indexes.
fn parse_path(c: &mut Cursor, start: usize) -> Result<Path, Diagnostic> {
    let mut path = vec![];
    let mut key = String::new();
    let mut key_start = c.pos;
    loop {
        match c.peek() {
            None | Some(',') => return Err(bad(c, start, "there is no `=`")),
            Some('\\') => {
                c.pos += 1;
                if let Some(ch) = c.peek() {
                    key.push(ch);
                    c.pos += 1;
                }
            }
            Some('.') => {
                if !key.is_empty() {
                    path.push((
                        Step::Key(std::mem::take(&mut key)),
                        c.span(key_start, c.pos),
                    ));
                } else if !matches!(path.last(), Some((Step::Index(_), _))) {
                    return Err(bad(c, start, "an empty key"));
                }
                c.pos += 1;
                key_start = c.pos;
            }
            Some('[') => {
                if !key.is_empty() {
                    path.push((
                        Step::Key(std::mem::take(&mut key)),
                        c.span(key_start, c.pos),
                    ));
                }
                let open = c.pos;
                let idx = parse_index(c, start)?;
                path.push((Step::Index(idx), c.span(open, c.pos)));
                key_start = c.pos;
            }
            Some('=') => {
                if !key.is_empty() {
                    path.push((
                        Step::Key(std::mem::take(&mut key)),
                        c.span(key_start, c.pos),
                    ));
                }
                c.pos += 1;
                break;
            }
            Some(ch) => {
                key.push(ch);
                c.pos += 1;
            }
        }
    }
    if path.is_empty() {
        return Err(bad(c, start, "the path before `=` is empty"));
    }
    Ok(path)
}

/// `[N]` at the cursor: a number of at most 65536 in brackets.
fn parse_index(c: &mut Cursor, start: usize) -> Result<usize, Diagnostic> {
    c.pos += 1;
    let mut digits = String::new();
    while let Some(ch) = c.peek().filter(|ch| ch.is_ascii_digit()) {
        digits.push(ch);
        c.pos += 1;
    }
    if c.peek() != Some(']') || digits.is_empty() {
        return Err(bad(
            c,
            start,
            "a list index must be a number in brackets, like [0]",
        ));
    }
    c.pos += 1;
    let idx: usize = digits
        .parse()
        .map_err(|_| bad(c, start, "the list index is too large"))?;
    if idx > 65536 {
        return Err(bad(c, start, "the list index is too large"));
    }
    Ok(idx)
}

/// A `{x,y}` list at the cursor, each item typed; `{}` is the empty list.
fn parse_list(c: &mut Cursor, start: usize, string_only: bool) -> Result<Vec<Node>, Diagnostic> {
    c.pos += 1;
    let mut items = vec![];
    let mut cur = String::new();
    let mut item_start = c.pos;
    loop {
        match c.peek() {
            None => return Err(bad(c, start, "a `{` list is not closed with `}`")),
            Some('\\') => {
                c.pos += 1;
                if let Some(ch) = c.peek() {
                    cur.push(ch);
                    c.pos += 1;
                }
            }
            Some(',') | Some('}') => {
                let closing = c.peek() == Some('}');
                if !(closing && cur.is_empty() && items.is_empty()) {
                    items.push(Node::new(
                        typed(&std::mem::take(&mut cur), string_only),
                        c.span(item_start, c.pos),
                    ));
                }
                c.pos += 1;
                item_start = c.pos;
                if closing {
                    break;
                }
            }
            Some(ch) => {
                cur.push(ch);
                c.pos += 1;
            }
        }
    }
    Ok(items)
}

/// A plain value at the cursor: up to the next unescaped comma.
fn parse_plain(c: &mut Cursor) -> String {
    let mut raw = String::new();
    while let Some(ch) = c.peek() {
        if ch == ',' {
            break;
        }
        if ch == '\\' {
            c.pos += 1;
            if let Some(n) = c.peek() {
                raw.push(n);
                c.pos += 1;
            }
            continue;
        }
        raw.push(ch);
        c.pos += 1;
    }
    raw
}

fn typed(raw: &str, string_only: bool) -> V {
    if string_only {
        return V::Str(raw.to_string());
    }
    match raw {
        "true" => V::Bool(true),
        "false" => V::Bool(false),
        "null" => V::Null,
        _ => match raw.parse::<i64>() {
            Ok(i) if !raw.starts_with('0') || raw == "0" => V::Int(i),
            _ => V::Str(raw.to_string()),
        },
    }
}

fn set_path(node: &mut Node, path: &[(Step, Span)], value: Node) -> Result<(), Diagnostic> {
    let Some(((step, span), rest)) = path.split_first() else {
        *node = value;
        return Ok(());
    };
    match step {
        Step::Key(k) => {
            if !matches!(node.v, V::Map(_)) {
                node.v = V::Map(Default::default());
            }
            let V::Map(es) = &mut node.v else {
                unreachable!()
            };
            let es = std::sync::Arc::make_mut(es);
            let i = match es.iter().position(|e| &e.key == k) {
                Some(i) => i,
                None => {
                    es.push(Entry {
                        key: k.clone(),
                        key_span: *span,
                        value: Node::new(V::Null, *span),
                    });
                    es.len() - 1
                }
            };
            set_path(&mut es[i].value, rest, value)
        }
        Step::Index(i) => {
            if !matches!(node.v, V::Seq(_)) {
                node.v = V::Seq(Default::default());
            }
            let V::Seq(items) = &mut node.v else {
                unreachable!()
            };
            let items = std::sync::Arc::make_mut(items);
            while items.len() <= *i {
                items.push(Node::new(V::Null, *span));
            }
            set_path(&mut items[*i], rest, value)
        }
    }
}
