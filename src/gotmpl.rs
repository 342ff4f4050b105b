//! Go template and Sprig semantics over Helm values, for the templates both charts render
//! (the NATS chart's `nats.formatConfig`, the event-bus chart's own ConfigMaps).
//!
//! Helm reads every values number as a float64, so integers from a values file print the way Go
//! prints a float64: `9`, but `1e+06` for a million. Each helper here says which Go function it
//! stands for; together they reproduce Helm's text output byte for byte.

use crate::load::yaml::{Node, V, reads_as_text};

/// A Helm values number as Go holds it (always float64).
fn number(n: &Node) -> Option<f64> {
    match n.v {
        V::Int(i) => Some(i as f64),
        V::Float(f) => Some(f),
        _ => None,
    }
}

/// Shortest round-trip digits of a finite, non-zero float and its decimal exponent
/// (value = 0.d1d2d3... * 10^(exp+1), i.e. d1.d2d3... * 10^exp).
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mant, exp) = s.split_once('e').expect("{:e} has an exponent");
    (mant.replace('.', ""), exp.parse().expect("exponent"))
}

/// `d.ddde±XX` the way strconv writes a shortest `%e` (at least two exponent digits).
fn go_exp(neg: bool, digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    out.push_str(&e.to_string());
    out
}

/// Plain decimal notation from shortest digits.
fn go_fixed(neg: bool, digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`, which is also what `fmt`'s `%v` prints for a
/// float64:
/// the exponent form once the exponent is below -4 or at least 6 (`1e+06`, `1.234567e+06`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (digits, exp) = shortest_digits(f);
    if !(-4..6).contains(&exp) {
        go_exp(f < 0.0, &digits, exp)
    } else {
        go_fixed(f < 0.0, &digits, exp)
    }
}

/// A float64 as Go's `encoding/json` writes it.
pub fn json_float(f: f64) -> String {
    if !f.is_finite() {
        // encoding/json refuses these; Helm's toJson then prints nothing useful. Keep something
        // readable.
        return go_float(f);
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let (digits, exp) = shortest_digits(f);
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        // 'e' format, with a one-digit negative exponent written as e-7, not e-07.
        let s = go_exp(f < 0.0, &digits, exp);
        if let Some(i) = s.find("e-0") {
            format!("{}e-{}", &s[..i], &s[i + 3..])
        } else {
            s
        }
    } else {
        go_fixed(f < 0.0, &digits, exp)
    }
}

/// `fmt`'s `%v` of a Helm value (`<nil>`, `true`, `1e+06`, `[a b]`, `map[k:v]`).
pub fn fmt_v(n: &Node) -> String {
    match &n.v {
        V::Null => "<nil>".into(),
        V::Bool(b) => b.to_string(),
        V::Int(_) | V::Float(_) => go_float(number(n).unwrap_or_default()),
        V::Str(s) => s.clone(),
        V::Seq(items) => format!(
            "[{}]",
            items.iter().map(fmt_v).collect::<Vec<_>>().join(" ")
        ),
        V::Map(_) => format!(
            "map[{}]",
            sorted(n)
                .iter()
                .map(|(k, v)| format!("{k}:{}", fmt_v(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// What `{{ x }}` prints for a Helm value: like `%v`, but a missing or nil value is `<no value>`.
pub fn go_print(n: Option<&Node>) -> String {
    match n {
        None => "<no value>".into(),
        Some(n) if n.is_null() => "<no value>".into(),
        Some(n) => fmt_v(n),
    }
}

/// `printf "%s"` of one argument: strings as they are, anything else as Go's bad-verb text
/// (`%!s(float64=9)`, `%!s(bool=true)`, `%!s(<nil>)`).
pub fn sprintf_s(n: Option<&Node>) -> String {
    let Some(n) = n else {
        return "%!s(<nil>)".into();
    };
    match &n.v {
        V::Null => "%!s(<nil>)".into(),
        V::Bool(b) => format!("%!s(bool={b})"),
        V::Int(_) | V::Float(_) => format!("%!s(float64={})", fmt_v(n)),
        V::Str(s) => s.clone(),
        V::Seq(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| sprintf_s(Some(i)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        V::Map(_) => format!(
            "map[{}]",
            sorted(n)
                .iter()
                .map(|(k, v)| format!("{k}:{}", sprintf_s(Some(v))))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// Sprig's `toString`: strings unchanged, everything else through `%v`.
pub fn to_string(n: Option<&Node>) -> String {
    match n {
        None => "<nil>".into(),
        Some(n) => fmt_v(n),
    }
}

/// Go's `strconv.Quote`: for the templates' `%q` and `quote`, and for the Go error texts the
/// built-in auth callout repeats (`callout::token`), so both quote alike.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space; not other spaces, format characters, private use or non-characters.
fn go_is_print(c: char) -> bool {
    let u = c as u32;
    if u < 0x20 || (0x7f..0xa0).contains(&u) {
        return false;
    }
    if u < 0x7f {
        return true;
    }
    !matches!(u,
        0xa0 | 0xad | 0x1680 | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f | 0x3000
        | 0xd800..=0xdfff | 0xe000..=0xf8ff | 0xfeff
        | 0xfff0..=0xfffb | 0xfffe | 0xffff | 0xf0000..=0x10ffff)
}

/// Sprig's `quote`: `%q` of the value's text; a nil value gives nothing at all.
pub fn quote(n: Option<&Node>) -> String {
    match n {
        None => String::new(),
        Some(n) if n.is_null() => String::new(),
        Some(n) => go_quote(&fmt_v(n)),
    }
}

/// Go template truth of an optional value (a missing key is false): see [`Node::truthy`].
pub fn truthy(n: Option<&Node>) -> bool {
    n.is_some_and(Node::truthy)
}

/// Map entries in the order Go's `range` and `encoding/json` visit them (byte order of keys).
/// A key written twice counts once, the last time.
pub fn sorted(n: &Node) -> Vec<(&str, &Node)> {
    let mut m: std::collections::BTreeMap<&str, &Node> = std::collections::BTreeMap::new();
    for e in n.entries() {
        m.insert(e.key.as_str(), &e.value);
    }
    m.into_iter().collect()
}

/// Sprig's `indent`: every line, the first included, gets `n` spaces.
pub fn indent(n: usize, s: &str) -> String {
    let pad = " ".repeat(n);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

/// Sprig's `nindent`: a newline, then `indent`.
pub fn nindent(n: usize, s: &str) -> String {
    format!("\n{}", indent(n, s))
}

/// A string as Go's `encoding/json` writes it; `html` escapes `<`, `>` and `&` as `json.Marshal`
/// does.
pub fn json_string(s: &str, html: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go 1.22 and later (Helm 4's build) write these two short forms too.
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_into(n: &Node, html: bool, out: &mut String) {
    match &n.v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Int(_) | V::Float(_) => out.push_str(&json_float(number(n).unwrap_or_default())),
        V::Str(s) => json_string(s, html, out),
        V::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_into(item, html, out);
            }
            out.push(']');
        }
        V::Map(_) => {
            out.push('{');
            for (i, (k, v)) in sorted(n).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(k, html, out);
                out.push(':');
                json_into(v, html, out);
            }
            out.push('}');
        }
    }
}

/// Sprig's `toJson` (HTML-escaping, as `json.Marshal`).
pub fn to_json(n: &Node) -> String {
    let mut out = String::new();
    json_into(n, true, &mut out);
    out
}

/// Sprig's `toRawJson` (no HTML escaping).
pub fn to_raw_json(n: &Node) -> String {
    let mut out = String::new();
    json_into(n, false, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// Helm's `toYaml`: sigs.k8s.io/yaml, i.e. JSON first, then go-yaml v2's emitter (sorted keys,
// indentless lists under keys, lines folded past 80 columns), with the final newline trimmed.

/// A value after the JSON round trip: what go-yaml v2 reads back from the JSON text.
enum Y<'a> {
    Null,
    Bool(bool),
    Int(String),
    Float(f64),
    Str(std::borrow::Cow<'a, str>),
    Seq(Vec<Y<'a>>),
    Map(Vec<(&'a str, Y<'a>)>),
}

/// go-yaml v2 reads the JSON text back, and Go's JSON leaves U+0085 (NEL) unescaped, so inside the
/// double-quoted JSON string it is a line break that YAML folds: one becomes a space, `k` of them
/// `k - 1` newlines, and spaces around them go.
fn fold_nel(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\u{85}') {
        return std::borrow::Cow::Borrowed(s);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\u{85}' {
            let mut j = i;
            let mut breaks = 0;
            while j < chars.len() && (chars[j] == ' ' || chars[j] == '\u{85}') {
                if chars[j] == '\u{85}' {
                    breaks += 1;
                }
                j += 1;
            }
            if breaks == 0 {
                out.extend(&chars[i..j]);
            } else if breaks == 1 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', breaks - 1));
            }
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

fn to_y(n: &Node) -> Y<'_> {
    match &n.v {
        V::Null => Y::Null,
        V::Bool(b) => Y::Bool(*b),
        V::Int(_) | V::Float(_) => {
            let f = number(n).unwrap_or_default();
            let j = json_float(f);
            // JSON integers that fit 64 bits come back as integers; the rest as floats.
            if j.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                && (j.parse::<i64>().is_ok() || j.parse::<u64>().is_ok())
            {
                Y::Int(if j == "-0" { "0".into() } else { j })
            } else {
                Y::Float(f)
            }
        }
        V::Str(s) => Y::Str(fold_nel(s)),
        V::Seq(items) => Y::Seq(items.iter().map(to_y).collect()),
        V::Map(_) => Y::Map(sorted(n).into_iter().map(|(k, v)| (k, to_y(v))).collect()),
    }
}

const BEST_WIDTH: usize = 80;

#[derive(PartialEq, Clone, Copy)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// go-yaml v2's printable test (its emitter double-quotes anything else).
fn yaml_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
}

/// Whether go-yaml v2 resolves this plain text to something other than a string.
fn resolves_non_string(s: &str) -> bool {
    // Sexagesimal floats (`1:20`) are quoted too.
    let base60 = {
        let t = s.strip_prefix(['-', '+']).unwrap_or(s);
        let parts: Vec<&str> = t.split(':').collect();
        parts.len() > 1
            && parts[0]
                .bytes()
                .next()
                .is_some_and(|b| (b'1'..=b'9').contains(&b))
            && parts[0].bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && parts[1..parts.len() - 1].iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 2
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.as_bytes()[0] <= b'5'
            })
            && {
                let last = parts[parts.len() - 1];
                let (ip, _fp) = last.split_once('.').unwrap_or((last, ""));
                !ip.is_empty()
                    && ip.len() <= 2
                    && ip.bytes().all(|b| b.is_ascii_digit())
                    && ip.as_bytes()[0] <= b'5'
            }
    };
    base60
        || !reads_as_text(s)
        || s.starts_with("0b") && s.len() > 2 && s[2..].bytes().all(|b| b == b'0' || b == b'1')
}

struct Analysis {
    flow_plain: bool,
    block_plain: bool,
    single: bool,
    block: bool,
    multiline: bool,
}

/// go-yaml v2's `yaml_emitter_analyze_scalar`: one pass over the text, then the styles its
/// findings allow.
fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            flow_plain: false,
            block_plain: true,
            single: true,
            block: false,
            multiline: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let mut scan = Scan {
        preceded_by_ws: true,
        ..Scan::default()
    };
    if s.starts_with("---") || s.starts_with("...") {
        scan.flow_ind = true;
        scan.block_ind = true;
    }
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = blankz(chars.get(i + 1));
        scan.indicator(i, c, followed_by_ws);
        if !yaml_printable(c) {
            scan.special = true;
        }
        if is_break(c) {
            scan.line_breaks = true;
        }
        scan.space(i, c, i + 1 == chars.len());
        scan.preceded_by_ws = blankz(Some(&c));
    }
    scan.analysis()
}

/// A blank or the end of the text, as go-yaml's `is_blankz`.
fn blankz(c: Option<&char>) -> bool {
    matches!(
        c,
        None | Some(' ' | '\t' | '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
    )
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// What `analyze`'s pass has seen so far (go-yaml's local flags, by their names).
#[derive(Default)]
struct Scan {
    flow_ind: bool,
    block_ind: bool,
    leading_space: bool,
    leading_break: bool,
    trailing_space: bool,
    trailing_break: bool,
    break_space: bool,
    space_break: bool,
    prev_space: bool,
    prev_break: bool,
    line_breaks: bool,
    special: bool,
    preceded_by_ws: bool,
}

impl Scan {
    /// Flow and block indicators: at the start of the text, and within it.
    fn indicator(&mut self, i: usize, c: char, followed_by_ws: bool) {
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    self.flow_ind = true;
                    self.block_ind = true;
                }
                '?' | ':' => {
                    self.flow_ind = true;
                    if followed_by_ws {
                        self.block_ind = true;
                    }
                }
                '-' if followed_by_ws => {
                    self.flow_ind = true;
                    self.block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => self.flow_ind = true,
                ':' => {
                    self.flow_ind = true;
                    if followed_by_ws {
                        self.block_ind = true;
                    }
                }
                '#' if self.preceded_by_ws => {
                    self.flow_ind = true;
                    self.block_ind = true;
                }
                _ => {}
            }
        }
    }

    /// Spaces and breaks: leading, trailing, a space after a break and a break after a space.
    fn space(&mut self, i: usize, c: char, last: bool) {
        if c == ' ' {
            if i == 0 {
                self.leading_space = true;
            }
            if last {
                self.trailing_space = true;
            }
            if self.prev_break {
                self.break_space = true;
            }
            self.prev_space = true;
            self.prev_break = false;
        } else if is_break(c) {
            if i == 0 {
                self.leading_break = true;
            }
            if last {
                self.trailing_break = true;
            }
            if self.prev_space {
                self.space_break = true;
            }
            self.prev_break = true;
            self.prev_space = false;
        } else {
            self.prev_space = false;
            self.prev_break = false;
        }
    }

    /// The styles the pass allows.
    fn analysis(&self) -> Analysis {
        let mut a = Analysis {
            flow_plain: true,
            block_plain: true,
            single: true,
            block: true,
            multiline: self.line_breaks,
        };
        if self.leading_space || self.leading_break || self.trailing_space || self.trailing_break {
            a.flow_plain = false;
            a.block_plain = false;
        }
        if self.trailing_space {
            a.block = false;
        }
        if self.break_space {
            a.flow_plain = false;
            a.block_plain = false;
            a.single = false;
        }
        if self.space_break || self.special {
            a.flow_plain = false;
            a.block_plain = false;
            a.single = false;
            a.block = false;
        }
        if self.line_breaks {
            a.flow_plain = false;
            a.block_plain = false;
        }
        if self.flow_ind {
            a.flow_plain = false;
        }
        if self.block_ind {
            a.block_plain = false;
        }
        a
    }
}

/// The style go-yaml v2 ends up with for a string, as a key (`simple_key`) or a value.
fn select_style(s: &str, simple_key: bool) -> Style {
    let mut want = if s.contains('\n') {
        Style::Literal
    } else if resolves_non_string(s) {
        Style::Double
    } else {
        Style::Plain
    };
    let a = analyze(s);
    if want == Style::Plain
        && (!a.block_plain || (s.is_empty() && simple_key) || (simple_key && a.multiline))
    {
        want = Style::Single;
    }
    if want == Style::Literal && (!a.block || simple_key) {
        want = Style::Double;
    }
    if want == Style::Single && (!a.single || (simple_key && a.multiline)) {
        want = Style::Double;
    }
    want
}

struct Emitter {
    out: String,
    column: usize,
}

impl Emitter {
    fn write(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.column = 0;
            } else {
                self.column += 1;
            }
        }
        self.out.push_str(s);
    }
    fn newline_indent(&mut self, indent: usize) {
        // Right after a line break (a literal block's last line) only the indentation is missing.
        if !self.out.ends_with('\n') {
            self.write("\n");
        }
        self.write(&" ".repeat(indent));
    }

    /// Writes a string scalar; `indent` is where continuation lines start.
    fn scalar_str(&mut self, s: &str, indent: usize, simple_key: bool) {
        let allow_breaks = !simple_key;
        match select_style(s, simple_key) {
            Style::Plain => self.folded_words(s, indent, allow_breaks),
            Style::Single => {
                self.write("'");
                let chars: Vec<char> = s.chars().collect();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && i != 0
                            && i + 1 != chars.len()
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.newline_indent(indent);
                        } else {
                            self.write(" ");
                        }
                        spaces = true;
                    } else {
                        if c == '\'' {
                            self.write("'");
                        }
                        self.write(c.encode_utf8(&mut [0; 4]));
                        spaces = false;
                    }
                }
                self.write("'");
            }
            Style::Double => self.double_quoted(s, indent, allow_breaks),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn folded_words(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.newline_indent(indent);
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                self.write(c.encode_utf8(&mut [0; 4]));
                spaces = false;
            }
        }
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.write("\"");
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            let u = c as u32;
            if !yaml_printable(c)
                || u == 0xfeff
                || matches!(
                    c,
                    '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}' | '"' | '\\'
                )
            {
                let esc = match c {
                    '\0' => "\\0".to_string(),
                    '\u{7}' => "\\a".into(),
                    '\u{8}' => "\\b".into(),
                    '\t' => "\\t".into(),
                    '\n' => "\\n".into(),
                    '\u{b}' => "\\v".into(),
                    '\u{c}' => "\\f".into(),
                    '\r' => "\\r".into(),
                    '\u{1b}' => "\\e".into(),
                    '"' => "\\\"".into(),
                    '\\' => "\\\\".into(),
                    '\u{85}' => "\\N".into(),
                    '\u{a0}' => "\\_".into(),
                    '\u{2028}' => "\\L".into(),
                    '\u{2029}' => "\\P".into(),
                    c if (c as u32) <= 0xff => format!("\\x{:02X}", c as u32),
                    c if (c as u32) <= 0xffff => format!("\\u{:04X}", c as u32),
                    c => format!("\\U{:08X}", c as u32),
                };
                self.write(&esc);
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i + 1 != chars.len()
                {
                    self.newline_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.write("\\");
                    }
                } else {
                    self.write(" ");
                }
                spaces = true;
            } else {
                self.write(c.encode_utf8(&mut [0; 4]));
                spaces = false;
            }
        }
        self.write("\"");
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.write("|");
        if s.starts_with(' ') || s.starts_with('\n') {
            self.write("2");
        }
        if !s.ends_with('\n') {
            self.write("-");
        } else if s == "\n" || s[..s.len() - 1].ends_with('\n') {
            self.write("+");
        }
        self.write("\n");
        let mut breaks = true;
        for c in s.chars() {
            if c == '\n' {
                self.write("\n");
                breaks = true;
            } else {
                if breaks {
                    self.write(&" ".repeat(indent));
                    breaks = false;
                }
                self.write(c.encode_utf8(&mut [0; 4]));
            }
        }
    }

    fn scalar(&mut self, y: &Y, indent: usize) {
        match y {
            Y::Null => self.write("null"),
            Y::Bool(b) => self.write(if *b { "true" } else { "false" }),
            Y::Int(s) => self.write(s),
            Y::Float(f) => {
                let s = go_float(*f);
                let s = match s.as_str() {
                    "+Inf" => ".inf".to_string(),
                    "-Inf" => "-.inf".to_string(),
                    "NaN" => ".nan".to_string(),
                    _ => s,
                };
                self.write(&s)
            }
            Y::Str(s) => self.scalar_str(s, indent, false),
            Y::Seq(_) => self.write("[]"),
            Y::Map(_) => self.write("{}"),
        }
    }

    /// A block mapping whose keys start at column `indent`; the cursor is at the start of the first
    /// key.
    fn map(&mut self, entries: &[(&str, Y)], indent: usize) {
        for (i, (k, v)) in entries.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.scalar_str(k, indent, true);
            self.write(":");
            match v {
                Y::Map(es) if !es.is_empty() => {
                    self.newline_indent(indent + 2);
                    self.map(es, indent + 2);
                }
                Y::Seq(items) if !items.is_empty() => {
                    self.newline_indent(indent);
                    self.seq(items, indent);
                }
                _ => {
                    self.write(" ");
                    self.scalar(v, indent + 2);
                }
            }
        }
    }

    /// A block sequence whose dashes sit at column `indent`.
    fn seq(&mut self, items: &[Y], indent: usize) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.newline_indent(indent);
            }
            self.write("- ");
            match item {
                Y::Map(es) if !es.is_empty() => self.map(es, indent + 2),
                Y::Seq(inner) if !inner.is_empty() => self.seq(inner, indent + 2),
                _ => self.scalar(item, indent + 2),
            }
        }
    }
}

/// Helm's `toYaml` (sigs.k8s.io/yaml over go-yaml v2), without the trailing newline, as Helm trims
/// it.
pub fn to_yaml(n: &Node) -> String {
    let y = to_y(n);
    let mut e = Emitter {
        out: String::new(),
        column: 0,
    };
    match &y {
        Y::Map(es) if !es.is_empty() => e.map(es, 0),
        Y::Seq(items) if !items.is_empty() => e.seq(items, 0),
        other => e.scalar(other, 0),
    }
    e.out
}

/// Parses a Go duration (`1h30m`, `10s`, `250ms`, `0`) into seconds, as `time.ParseDuration`.
pub fn go_duration(text: &str) -> Option<f64> {
    let t = text.trim();
    let (neg, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if n == 0 {
            return None;
        }
        let num: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .chars()
            .take_while(|c| c.is_alphabetic())
            .map(char::len_utf8)
            .sum::<usize>();
        let unit = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += num * unit;
    }
    Some(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(go_duration("10s"), Some(10.0));
        assert_eq!(go_duration("1h30m"), Some(5400.0));
        assert_eq!(go_duration("250ms"), Some(0.25));
        assert_eq!(go_duration("0"), Some(0.0));
        assert_eq!(go_duration("10"), None);
        assert_eq!(go_duration("10x"), None);
        assert_eq!(go_duration(""), None);
    }

    #[test]
    fn floats_print_as_go_prints_float64() {
        for (f, v, j) in [
            (9.0, "9", "9"),
            (1e6, "1e+06", "1000000"),
            (1234567.0, "1.234567e+06", "1234567"),
            (100000.0, "100000", "100000"),
            (123456.0, "123456", "123456"),
            (1.5, "1.5", "1.5"),
            (0.0001, "0.0001", "0.0001"),
            (0.00001, "1e-05", "0.00001"),
            (1e-7, "1e-07", "1e-7"),
            (1e21, "1e+21", "1e+21"),
            (1e20, "1e+20", "100000000000000000000"),
            (
                1.2345678901234569e23,
                "1.2345678901234569e+23",
                "1.2345678901234569e+23",
            ),
            (-2.5, "-2.5", "-2.5"),
        ] {
            assert_eq!(go_float(f), v, "{f}");
            assert_eq!(json_float(f), j, "{f}");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(
            go_quote("tab\there ü \u{a0} \" \\"),
            r#""tab\there ü \u00a0 \" \\""#
        );
        // The short escapes, DEL, and non-printable runes as `strconv.Quote` writes them (the
        // callout's error texts quote token claims with this too).
        assert_eq!(
            go_quote("\u{7}\u{8}\u{b}\u{c}\u{1}\u{7f}\u{ad}\u{f0000}"),
            r#""\a\b\v\f\x01\x7f\u00ad\U000f0000""#
        );
    }
}
