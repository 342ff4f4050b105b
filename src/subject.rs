//! NATS subjects and patterns: syntax, and the two questions the overlap rules ask:
//! can some subject match both patterns (with a witness), and does one contain the other.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Token {
    Lit(String),
    /// `*`: exactly one token.
    Star,
    /// `>`: one or more trailing tokens.
    Tail,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pattern(pub Vec<Token>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectError {
    Empty,
    EmptyToken(usize),
    Whitespace,
    TailNotLast,
}

impl fmt::Display for SubjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubjectError::Empty => write!(f, "the subject is empty"),
            SubjectError::EmptyToken(i) => write!(f, "token {} is empty (two dots in a row, or a dot at an end)", i + 1),
            SubjectError::Whitespace => write!(f, "the subject contains whitespace"),
            SubjectError::TailNotLast => write!(f, "`>` may only stand as the last token"),
        }
    }
}

impl Pattern {
    pub fn parse(s: &str) -> Result<Pattern, SubjectError> {
        if s.is_empty() {
            return Err(SubjectError::Empty);
        }
        if s.chars().any(char::is_whitespace) {
            return Err(SubjectError::Whitespace);
        }
        let parts: Vec<&str> = s.split('.').collect();
        let mut toks = Vec::with_capacity(parts.len());
        for (i, p) in parts.iter().enumerate() {
            toks.push(match *p {
                "" => return Err(SubjectError::EmptyToken(i)),
                "*" => Token::Star,
                ">" if i + 1 == parts.len() => Token::Tail,
                ">" => return Err(SubjectError::TailNotLast),
                lit => Token::Lit(lit.to_string()),
            });
        }
        Ok(Pattern(toks))
    }

    pub fn is_literal(&self) -> bool {
        self.0.iter().all(|t| matches!(t, Token::Lit(_)))
    }

    /// Does the literal subject `subject` match this pattern?
    pub fn matches(&self, subject: &Pattern) -> bool {
        subject.is_literal() && self.contains(subject)
    }

    /// Some subject matches both patterns; returns one such subject.
    pub fn overlap(&self, other: &Pattern) -> Option<Pattern> {
        let (a, b) = (&self.0, &other.0);
        let mut witness = vec![];
        let mut i = 0;
        loop {
            match (a.get(i), b.get(i)) {
                (None, None) => return Some(Pattern(witness)),
                (Some(Token::Tail), Some(_)) | (Some(_), Some(Token::Tail)) => {
                    let rest = if matches!(a.get(i), Some(Token::Tail)) { &b[i..] } else { &a[i..] };
                    witness.extend(rest.iter().map(|t| match t {
                        Token::Lit(l) => Token::Lit(l.clone()),
                        _ => Token::Lit("x".into()),
                    }));
                    return Some(Pattern(witness));
                }
                (Some(x), Some(y)) => {
                    let tok = match (x, y) {
                        (Token::Lit(l), Token::Lit(m)) if l == m => l.clone(),
                        (Token::Lit(_), Token::Lit(_)) => return None,
                        (Token::Lit(l), _) | (_, Token::Lit(l)) => l.clone(),
                        _ => "x".into(),
                    };
                    witness.push(Token::Lit(tok));
                }
                _ => return None,
            }
            i += 1;
        }
    }

    /// Every subject that matches `other` also matches `self`.
    pub fn contains(&self, other: &Pattern) -> bool {
        let (a, b) = (&self.0, &other.0);
        for i in 0.. {
            match (a.get(i), b.get(i)) {
                (None, None) => return true,
                (Some(Token::Tail), Some(_)) => return true,
                (Some(_), Some(Token::Tail)) => return false,
                (Some(Token::Star), Some(_)) => {}
                (Some(Token::Lit(l)), Some(Token::Lit(m))) if l == m => {}
                _ => return false,
            }
        }
        unreachable!()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            match t {
                Token::Lit(l) => f.write_str(l)?,
                Token::Star => f.write_str("*")?,
                Token::Tail => f.write_str(">")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    fn p(s: &str) -> Pattern {
        Pattern::parse(s).unwrap()
    }

    #[test]
    fn syntax() {
        assert_eq!(Pattern::parse("a.>.b"), Err(SubjectError::TailNotLast));
        assert_eq!(Pattern::parse("a..b"), Err(SubjectError::EmptyToken(1)));
        assert_eq!(Pattern::parse("a b"), Err(SubjectError::Whitespace));
        assert_eq!(Pattern::parse(""), Err(SubjectError::Empty));
        assert!(Pattern::parse("$JS.API.>").is_ok());
    }

    #[test]
    fn overlaps() {
        assert_eq!(p("command.>").overlap(&p("command.*")).unwrap().to_string(), "command.x");
        assert!(p("a.*").overlap(&p("*.b")).is_some());
        assert!(p("a.>").overlap(&p("a")).is_none());
        assert!(p("a.b").overlap(&p("a.c")).is_none());
        assert!(p(">").overlap(&p("x.y.z")).is_some());
        assert!(p("a.*").overlap(&p("a.b.c")).is_none());
    }

    #[test]
    fn containment() {
        assert!(p("a.>").contains(&p("a.*")));
        assert!(!p("a.*").contains(&p("a.>")));
        assert!(p("a.*").contains(&p("a.b")));
        assert!(!p("a.b").contains(&p("a.*")));
        assert!(p(">").contains(&p("a.>")));
    }
}

/// An index of patterns for finding, without a scan over all pairs, every indexed pattern
/// that overlaps a query: a token trie walked with the query's wildcards.
#[derive(Debug, Default)]
pub struct PatternIndex {
    root: TrieNode,
}

#[derive(Debug, Default)]
struct TrieNode {
    lits: std::collections::HashMap<String, TrieNode>,
    star: Option<Box<TrieNode>>,
    /// Patterns ending at this node.
    ends: Vec<usize>,
    /// Patterns whose next (last) token is `>`.
    tails: Vec<usize>,
}

impl PatternIndex {
    pub fn new() -> Self {
        PatternIndex::default()
    }

    pub fn insert(&mut self, p: &Pattern, id: usize) {
        let mut node = &mut self.root;
        for t in &p.0 {
            match t {
                Token::Lit(l) => node = node.lits.entry(l.clone()).or_default(),
                Token::Star => node = node.star.get_or_insert_with(Default::default),
                Token::Tail => {
                    node.tails.push(id);
                    return;
                }
            }
        }
        node.ends.push(id);
    }

    /// Ids of every indexed pattern that some subject matches together with `q`.
    pub fn overlapping(&self, q: &Pattern) -> Vec<usize> {
        let mut out = vec![];
        walk(&self.root, &q.0, &mut out);
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn walk(node: &TrieNode, q: &[Token], out: &mut Vec<usize>) {
    let Some((first, rest)) = q.split_first() else {
        out.extend(&node.ends);
        return;
    };
    // A `>` here matches whatever one or more tokens the query still has.
    out.extend(&node.tails);
    match first {
        Token::Lit(l) => {
            if let Some(n) = node.lits.get(l) {
                walk(n, rest, out);
            }
            if let Some(n) = &node.star {
                walk(n, rest, out);
            }
        }
        Token::Star => {
            for n in node.lits.values() {
                walk(n, rest, out);
            }
            if let Some(n) = &node.star {
                walk(n, rest, out);
            }
        }
        Token::Tail => {
            for n in node.lits.values() {
                everything(n, out);
            }
            if let Some(n) = &node.star {
                everything(n, out);
            }
        }
    }
}

fn everything(node: &TrieNode, out: &mut Vec<usize>) {
    out.extend(&node.ends);
    out.extend(&node.tails);
    for n in node.lits.values() {
        everything(n, out);
    }
    if let Some(n) = &node.star {
        everything(n, out);
    }
}
