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
            SubjectError::EmptyToken(i) => write!(
                f,
                "token {} is empty (two dots in a row, or a dot at an end)",
                i + 1
            ),
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
        let count = s.bytes().filter(|&b| b == b'.').count() + 1;
        let mut toks = Vec::with_capacity(count);
        for (i, p) in s.split('.').enumerate() {
            toks.push(match p {
                "" => return Err(SubjectError::EmptyToken(i)),
                "*" => Token::Star,
                ">" if i + 1 == count => Token::Tail,
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
                    let rest = if matches!(a.get(i), Some(Token::Tail)) {
                        &b[i..]
                    } else {
                        &a[i..]
                    };
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

    /// The subjects both patterns match, as one pattern (`a.*` and `*.b` give `a.b`).
    pub fn intersect(&self, other: &Pattern) -> Option<Pattern> {
        let (a, b) = (&self.0, &other.0);
        let mut out = vec![];
        for i in 0.. {
            let tok = match (a.get(i), b.get(i)) {
                (None, None) => return Some(Pattern(out)),
                (Some(Token::Tail), Some(_)) => {
                    out.extend(b[i..].iter().cloned());
                    return Some(Pattern(out));
                }
                (Some(_), Some(Token::Tail)) => {
                    out.extend(a[i..].iter().cloned());
                    return Some(Pattern(out));
                }
                (Some(Token::Lit(l)), Some(Token::Lit(m))) if l == m => Token::Lit(l.clone()),
                (Some(Token::Lit(_)), Some(Token::Lit(_))) => return None,
                (Some(Token::Lit(l)), Some(_)) | (Some(_), Some(Token::Lit(l))) => {
                    Token::Lit(l.clone())
                }
                (Some(_), Some(_)) => Token::Star,
                _ => return None,
            };
            out.push(tok);
        }
        unreachable!()
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
        assert_eq!(
            p("command.>").overlap(&p("command.*")).unwrap().to_string(),
            "command.x"
        );
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
///
/// The trie lives in a few flat tables (nodes, interned tokens, edges, id lists) rather than
/// a map per node: with tens of thousands of patterns, allocating and freeing per-node maps
/// cost more than all the lookups.
#[derive(Debug)]
pub struct PatternIndex {
    nodes: Vec<TrieNode>,
    /// Literal token text -> token number.
    tokens: FastMap<Box<str>, u32>,
    /// (node, token number) -> child node.
    edges: FastMap<(u32, u32), u32>,
    /// Linked lists of pattern ids: (id, next).
    ids: Vec<(usize, u32)>,
}

/// Trie keys are short subject tokens hashed millions of times on big lists; SipHash's
/// flood resistance buys nothing for values the operator wrote.
type FastMap<K, V> = std::collections::HashMap<K, V, rustc_hash::FxBuildHasher>;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct TrieNode {
    /// The child reached by `*`.
    star: u32,
    /// Literal children, as a list threaded through `next_sibling`.
    first_lit: u32,
    next_sibling: u32,
    /// Patterns ending at this node.
    ends: u32,
    /// Patterns whose next (last) token is `>`.
    tails: u32,
}

const EMPTY: TrieNode = TrieNode {
    star: NONE,
    first_lit: NONE,
    next_sibling: NONE,
    ends: NONE,
    tails: NONE,
};

impl Default for PatternIndex {
    fn default() -> Self {
        PatternIndex {
            nodes: vec![EMPTY],
            tokens: FastMap::default(),
            edges: FastMap::default(),
            ids: vec![],
        }
    }
}

impl PatternIndex {
    pub fn new() -> Self {
        PatternIndex::default()
    }

    fn new_node(&mut self) -> u32 {
        self.nodes.push(EMPTY);
        (self.nodes.len() - 1) as u32
    }

    fn push_id(&mut self, head: u32, id: usize) -> u32 {
        self.ids.push((id, head));
        (self.ids.len() - 1) as u32
    }

    pub fn insert(&mut self, p: &Pattern, id: usize) {
        let mut node = 0u32;
        for t in &p.0 {
            node = match t {
                Token::Lit(l) => {
                    let next_token = self.tokens.len() as u32;
                    let tok = match self.tokens.get(l.as_str()) {
                        Some(&tok) => tok,
                        None => {
                            self.tokens.insert(l.as_str().into(), next_token);
                            next_token
                        }
                    };
                    match self.edges.get(&(node, tok)) {
                        Some(&child) => child,
                        None => {
                            let child = self.new_node();
                            self.edges.insert((node, tok), child);
                            self.nodes[child as usize].next_sibling =
                                self.nodes[node as usize].first_lit;
                            self.nodes[node as usize].first_lit = child;
                            child
                        }
                    }
                }
                Token::Star => match self.nodes[node as usize].star {
                    NONE => {
                        let child = self.new_node();
                        self.nodes[node as usize].star = child;
                        child
                    }
                    child => child,
                },
                Token::Tail => {
                    let head = self.nodes[node as usize].tails;
                    self.nodes[node as usize].tails = self.push_id(head, id);
                    return;
                }
            };
        }
        let head = self.nodes[node as usize].ends;
        self.nodes[node as usize].ends = self.push_id(head, id);
    }

    /// Ids of every indexed pattern that some subject matches together with `q`, sorted.
    pub fn overlapping(&self, q: &Pattern) -> Vec<usize> {
        let mut out = vec![];
        self.visit_overlapping(q, |id| {
            out.push(id);
            false
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Calls `f` with the id of each indexed pattern overlapping `q` (an id may come twice)
    /// until `f` returns true; returns whether it did. No allocation on the way.
    pub fn visit_overlapping(&self, q: &Pattern, mut f: impl FnMut(usize) -> bool) -> bool {
        self.walk(0, &q.0, &mut f)
    }

    fn emit(&self, mut at: u32, f: &mut impl FnMut(usize) -> bool) -> bool {
        while at != NONE {
            let (id, next) = self.ids[at as usize];
            if f(id) {
                return true;
            }
            at = next;
        }
        false
    }

    fn lits(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        let some = |c: u32| (c != NONE).then_some(c);
        std::iter::successors(some(self.nodes[node as usize].first_lit), move |&c| {
            some(self.nodes[c as usize].next_sibling)
        })
    }

    fn walk(&self, node: u32, q: &[Token], f: &mut impl FnMut(usize) -> bool) -> bool {
        let n = self.nodes[node as usize];
        let Some((first, rest)) = q.split_first() else {
            return self.emit(n.ends, f);
        };
        // A `>` here matches whatever one or more tokens the query still has.
        if self.emit(n.tails, f) {
            return true;
        }
        let star = Some(n.star).filter(|&c| c != NONE);
        match first {
            Token::Lit(l) => {
                let lit = self
                    .tokens
                    .get(l.as_str())
                    .and_then(|tok| self.edges.get(&(node, *tok)));
                lit.is_some_and(|&c| self.walk(c, rest, f))
                    || star.is_some_and(|c| self.walk(c, rest, f))
            }
            Token::Star => {
                self.lits(node).any(|c| self.walk(c, rest, f))
                    || star.is_some_and(|c| self.walk(c, rest, f))
            }
            Token::Tail => {
                self.lits(node).any(|c| self.everything(c, f))
                    || star.is_some_and(|c| self.everything(c, f))
            }
        }
    }

    fn everything(&self, node: u32, f: &mut impl FnMut(usize) -> bool) -> bool {
        let n = self.nodes[node as usize];
        self.emit(n.ends, f)
            || self.emit(n.tails, f)
            || self.lits(node).any(|c| self.everything(c, f))
            || (n.star != NONE && self.everything(n.star, f))
    }
}
