//! JSON read as Go's `encoding/json` reads it into structs, for the files and tokens the chart's
//! callout decodes that way (permissions.json, a token's header and claims): every key kept in
//! order (a repeated key is seen twice, the later decoded over the earlier), invalid UTF-8 and
//! lone surrogates in strings become U+FFFD, the syntax and nesting limit (10,000) of Go's
//! scanner. Struct fields match a key exactly, else case-insensitively with Go's folding
//! (`foldName`: ASCII upper case, other runes to the smallest of their simple-fold orbit).
//! Type errors are worded as Go words them; decoding goes on after one, and the first is the
//! result, as `Unmarshal` does.

/// A parsed JSON value. Numbers keep their text (Go converts them per target type).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

/// A container being read: its elements so far (and, for an object, the key of the next).
enum Frame {
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>, String),
}

/// Dropped without recursion, like it is built.
impl Drop for Json {
    fn drop(&mut self) {
        let mut stack: Vec<Json> = vec![];
        let take = |v: &mut Json, stack: &mut Vec<Json>| match v {
            Json::Arr(a) => stack.append(a),
            Json::Obj(m) => stack.extend(std::mem::take(m).into_iter().map(|(_, v)| v)),
            _ => {}
        };
        take(self, &mut stack);
        while let Some(mut v) = stack.pop() {
            take(&mut v, &mut stack);
        }
    }
}

/// Go's scanner nesting limit.
const MAX_DEPTH: usize = 10_000;

impl Json {
    /// The word Go's type errors use for this value.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Num(_) => "number",
            Json::Str(_) => "string",
            Json::Arr(_) => "array",
            Json::Obj(_) => "object",
        }
    }
}

/// Bytes as Go's `unquote` keeps them: each byte that starts no valid UTF-8 sequence becomes
/// one U+FFFD (Rust's lossy conversion would merge a run of them).
fn go_lossy(mut b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    loop {
        match std::str::from_utf8(b) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let ok = e.valid_up_to();
                out.push_str(std::str::from_utf8(&b[..ok]).unwrap_or_default());
                out.push('\u{FFFD}');
                b = &b[ok + 1..];
            }
        }
    }
}

/// Go's `quoteChar`, for syntax errors.
fn quote_char(c: u8) -> String {
    match c {
        b'\'' => "'\\''".into(),
        b'"' => "'\"'".into(),
        0x20..=0x7e => format!("'{}'", c as char),
        _ => format!("\"\\x{c:02x}\""),
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

fn invalid(c: u8, ctx: &str) -> String {
    format!("invalid character {} {ctx}", quote_char(c))
}

const EOF: &str = "unexpected end of JSON input";

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// One value, nested values included, without recursion (so 10,000 levels cost heap,
    /// not stack): open containers wait on `stack` until their last element is read.
    fn value(&mut self) -> Result<Json, String> {
        let mut stack: Vec<Frame> = vec![];
        loop {
            self.ws();
            let Some(c) = self.peek() else {
                return Err(EOF.into());
            };
            let mut v = match c {
                b'{' | b'[' if stack.len() >= MAX_DEPTH => return Err("exceeded max depth".into()),
                b'{' => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        Json::Obj(vec![])
                    } else {
                        let k = self.key()?;
                        stack.push(Frame::Obj(vec![], k));
                        continue;
                    }
                }
                b'[' => {
                    self.i += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        Json::Arr(vec![])
                    } else {
                        stack.push(Frame::Arr(vec![]));
                        continue;
                    }
                }
                b'"' => Json::Str(self.string()?),
                b'-' | b'0'..=b'9' => Json::Num(self.number()?),
                b't' => self.literal("true", Json::Bool(true))?,
                b'f' => self.literal("false", Json::Bool(false))?,
                b'n' => self.literal("null", Json::Null)?,
                _ => return Err(invalid(c, "looking for beginning of value")),
            };
            // Hand the finished value to the open containers, closing those that end here.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(v);
                };
                self.ws();
                let next = self.peek();
                match top {
                    Frame::Arr(a) => {
                        a.push(v);
                        match next {
                            Some(b',') => {
                                self.i += 1;
                                break;
                            }
                            Some(b']') => self.i += 1,
                            Some(c) => return Err(invalid(c, "after array element")),
                            None => return Err(EOF.into()),
                        }
                    }
                    Frame::Obj(m, k) => {
                        m.push((std::mem::take(k), v));
                        match next {
                            Some(b',') => {
                                self.i += 1;
                                *k = self.key()?;
                                break;
                            }
                            Some(b'}') => self.i += 1,
                            Some(c) => return Err(invalid(c, "after object key:value pair")),
                            None => return Err(EOF.into()),
                        }
                    }
                }
                v = match stack.pop() {
                    Some(Frame::Arr(a)) => Json::Arr(a),
                    Some(Frame::Obj(m, _)) => Json::Obj(m),
                    None => unreachable!("the loop checked the stack"),
                };
            }
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> Result<String, String> {
        self.ws();
        match self.peek() {
            None => return Err(EOF.into()),
            Some(b'"') => {}
            Some(c) => return Err(invalid(c, "looking for beginning of object key string")),
        }
        let k = self.string()?;
        self.ws();
        match self.peek() {
            None => Err(EOF.into()),
            Some(b':') => {
                self.i += 1;
                Ok(k)
            }
            Some(c) => Err(invalid(c, "after object key")),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, String> {
        for (k, want) in word.bytes().enumerate() {
            match self.b.get(self.i + k) {
                None => return Err(EOF.into()),
                Some(&got) if got != want => {
                    return Err(invalid(
                        got,
                        &format!("in literal {word} (expecting {})", quote_char(want)),
                    ));
                }
                _ => {}
            }
        }
        self.i += word.len();
        Ok(v)
    }

    fn number(&mut self) -> Result<String, String> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            p.i - s
        };
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            None => return Err(EOF.into()),
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            Some(c) => return Err(invalid(c, "in numeric literal")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.peek().map_or(EOF.into(), |c| {
                    invalid(c, "after decimal point in numeric literal")
                }));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self
                    .peek()
                    .map_or(EOF.into(), |c| invalid(c, "in exponent of numeric literal")));
            }
        }
        Ok(String::from_utf8_lossy(&self.b[start..self.i]).into_owned())
    }

    fn hex4(&mut self) -> Result<u16, String> {
        let mut v = 0u16;
        for _ in 0..4 {
            let c = self.peek().ok_or(EOF)?;
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| invalid(c, "in \\u hexadecimal character escape"))?;
            v = v * 16 + d as u16;
            self.i += 1;
        }
        Ok(v)
    }

    /// A string literal; invalid UTF-8 and lone surrogates become U+FFFD, as Go's `unquote`.
    fn string(&mut self) -> Result<String, String> {
        self.i += 1;
        let mut out: Vec<u8> = vec![];
        loop {
            let c = self.peek().ok_or(EOF)?;
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(go_lossy(&out));
                }
                b'\\' => {
                    self.i += 1;
                    let e = self.peek().ok_or(EOF)?;
                    self.i += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(8),
                        b'f' => Some(12),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => return Err(invalid(e, "in string escape code")),
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        continue;
                    }
                    let u = self.hex4()?;
                    let ch = if (0xD800..0xDC00).contains(&u)
                        && self.b.get(self.i..self.i + 2) == Some(b"\\u")
                    {
                        let save = self.i;
                        self.i += 2;
                        let lo = self.hex4()?;
                        if (0xDC00..0xE000).contains(&lo) {
                            let cp = 0x10000 + ((u as u32 - 0xD800) << 10) + (lo as u32 - 0xDC00);
                            char::from_u32(cp).unwrap_or('\u{FFFD}')
                        } else {
                            // Go replaces the lone high half and reads the escape after it anew.
                            self.i = save;
                            '\u{FFFD}'
                        }
                    } else {
                        char::from_u32(u as u32).unwrap_or('\u{FFFD}')
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(invalid(c, "in string literal")),
                _ => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

/// Parses a whole document as `json.Unmarshal` checks it (nothing but space after the value).
pub fn parse(b: &[u8]) -> Result<Json, String> {
    let mut p = Parser { b, i: 0 };
    let v = p.value()?;
    p.ws();
    match p.peek() {
        None => Ok(v),
        Some(c) => Err(invalid(c, "after top-level value")),
    }
}

/// Go's `foldName` of one name.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => c.to_ascii_uppercase(),
            // The only non-ASCII runes whose simple-fold orbit holds an ASCII letter: the long
            // s (ſ: S, s) and the Kelvin sign (K: K, k). Other runes never equal an ASCII name,
            // and every field name here is ASCII.
            '\u{17F}' => 'S',
            '\u{212A}' => 'K',
            _ => c,
        })
        .collect()
}

/// The struct field (of `names`, in declaration order) a JSON key lands in: an exact match,
/// else the first case-insensitive one. `None`: the key is dropped.
pub fn field<'n>(key: &str, names: &[&'n str]) -> Option<&'n str> {
    if let Some(n) = names.iter().find(|n| **n == key) {
        return Some(n);
    }
    let k = fold(key);
    names.iter().find(|n| fold(n) == k).copied()
}

/// Where a value sits for Go's type errors: the innermost struct type's name and the path of
/// field names from the root (map keys and array indexes are not part of it).
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub strukt: &'a str,
    pub path: &'a str,
}

/// The first error of a decode, as `Unmarshal` returns it.
#[derive(Default)]
pub struct Errors {
    pub first: Option<String>,
}

impl Errors {
    pub fn save(&mut self, e: String) {
        if self.first.is_none() {
            self.first = Some(e);
        }
    }

    /// Go's `UnmarshalTypeError` text: `value` ("string", "number 1.5"), the Go type.
    pub fn type_error(&mut self, value: &str, at: Option<At<'_>>, go_type: &str) {
        self.save(match at {
            Some(a) => format!(
                "json: cannot unmarshal {value} into Go struct field {}.{} of type {go_type}",
                a.strukt, a.path
            ),
            None => format!("json: cannot unmarshal {value} into Go value of type {go_type}"),
        });
    }

    /// A `string` field: null leaves it, anything but a string is a type error.
    pub fn string(&mut self, v: &Json, at: At<'_>, into: &mut String) {
        match v {
            Json::Str(s) => *into = s.clone(),
            Json::Null => {}
            other => self.type_error(other.kind(), Some(at), "string"),
        }
    }

    /// A `[]string`-kind field (`go_type` names it): an array replaces it (null elements stay
    /// empty strings), null makes it nil.
    pub fn strings(&mut self, v: &Json, at: At<'_>, go_type: &str, into: &mut Option<Vec<String>>) {
        match v {
            Json::Null => *into = None,
            Json::Arr(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    let mut s = String::new();
                    self.string(it, at, &mut s);
                    out.push(s);
                }
                *into = Some(out);
            }
            other => self.type_error(other.kind(), Some(at), go_type),
        }
    }

    /// An `int`-kind field (`int`, `time.Duration`): an integer literal in range.
    pub fn int(&mut self, v: &Json, at: At<'_>, go_type: &str, into: &mut i64) {
        match v {
            Json::Num(n) => match n.parse::<i64>() {
                Ok(x) => *into = x,
                Err(_) => self.type_error(&format!("number {n}"), Some(at), go_type),
            },
            Json::Null => {}
            other => self.type_error(other.kind(), Some(at), go_type),
        }
    }
}

/// Go's `isValidNumber`: the JSON number grammar.
pub fn is_valid_number(s: &str) -> bool {
    let mut p = Parser {
        b: s.as_bytes(),
        i: 0,
    };
    !s.is_empty() && p.number().is_ok() && p.i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_syntax_and_strings() {
        assert_eq!(
            parse(br#"{"a":1,"a":"\ud800x\u00e9"}"#).unwrap(),
            Json::Obj(vec![
                ("a".into(), Json::Num("1".into())),
                ("a".into(), Json::Str("\u{FFFD}x\u{e9}".into())),
            ])
        );
        assert_eq!(parse(b"{").unwrap_err(), EOF);
        assert_eq!(
            parse(b"[1,]").unwrap_err(),
            "invalid character ']' looking for beginning of value"
        );
        assert_eq!(
            parse(b"{} x").unwrap_err(),
            "invalid character 'x' after top-level value"
        );
        assert_eq!(parse(b"\"\xff\"").unwrap(), Json::Str("\u{FFFD}".into()));
        assert_eq!(go_lossy(b"\xe2\x82x"), "\u{FFFD}\u{FFFD}x");
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(parse(deep.as_bytes()).unwrap_err(), "exceeded max depth");
        assert!(is_valid_number("-1.5e3") && !is_valid_number("01") && !is_valid_number("1."));
    }

    #[test]
    fn go_field_matching() {
        let names = ["pub", "sub", "resp"];
        assert_eq!(field("PUB", &names), Some("pub"));
        assert_eq!(field("\u{17F}ub", &names), Some("sub"));
        assert_eq!(field("publish", &names), None);
        assert_eq!(
            field("public_\u{212A}ey", &["public_key"]),
            Some("public_key")
        );
    }
}
