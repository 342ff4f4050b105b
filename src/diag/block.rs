//! Places inside a multi-line YAML value: a config carried in a values file or a manifest
//! stream as a literal block keeps each of its lines, indented, so a finding at a line and
//! column of the config can point at that line of the YAML. Shared by the post-renderer's
//! ConfigMaps and plain-chart mode's included files.

use super::{Sources, Span};

/// How the lines of a text sit in a YAML value: from `first_line`, each indented by `indent`.
#[derive(Debug, Clone, Copy)]
pub struct BlockLines {
    pub first_line: u32,
    pub indent: u32,
}

impl BlockLines {
    /// The lines of `text` where `value` (its YAML value) starts, when every one of them is
    /// there as written (a literal block); `None` for any other style.
    pub fn find(text: &str, value: Span, sources: &Sources) -> Option<BlockLines> {
        let src = sources.get(value.src);
        let lines = BlockLines {
            first_line: value.line,
            indent: value.col,
        };
        for (i, l) in text.lines().enumerate() {
            let line = src.line_text(value.line as usize + i);
            let ok = if l.is_empty() {
                line.trim().is_empty()
            } else {
                line.get(..lines.indent as usize)
                    .is_some_and(|pad| pad.bytes().all(|b| b == b' '))
                    && line.get(lines.indent as usize..) == Some(l)
            };
            if !ok {
                return None;
            }
        }
        Some(lines)
    }
}

/// The span of `len` characters at `line` (1-based) and `col` of the text carried by `value`;
/// without its lines, the value's first character. A place on a multi-line value underlines
/// its first line only.
pub fn span_in(
    lines: Option<BlockLines>,
    value: Span,
    (line, col, len): (u32, u32, u32),
    sources: &Sources,
) -> Span {
    let Some(lm) = lines else {
        return Span { len: 1, ..value };
    };
    let src = sources.get(value.src);
    let line = lm.first_line + line.saturating_sub(1);
    let col = lm.indent + col;
    let offset = src.offset(line as usize, col as usize);
    let line_end = src.offset(line as usize, 0) + src.line_text(line as usize).len();
    // At least one character, but never past the end of the text (a place at its very end).
    let len = (len as usize)
        .min(line_end.saturating_sub(offset))
        .max(usize::from(offset < src.text.len()));
    Span {
        src: value.src,
        line,
        col,
        offset: offset as u32,
        len: len as u32,
    }
}
