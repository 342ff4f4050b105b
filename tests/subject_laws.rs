//! The laws of subject patterns, checked on random patterns over a small alphabet
//! (so that overlaps are common).

use natscc::subject::{Pattern, PatternIndex};
use proptest::prelude::*;

fn pattern() -> impl Strategy<Value = Pattern> {
    (
        prop::collection::vec(prop::sample::select(vec!["a", "b", "*"]), 1..4),
        any::<bool>(),
    )
        .prop_map(|(toks, tail)| {
            let mut s = toks.join(".");
            if tail {
                s.push_str(".>");
            }
            Pattern::parse(&s).unwrap()
        })
}

proptest! {
    #[test]
    fn overlap_is_symmetric(a in pattern(), b in pattern()) {
        prop_assert_eq!(a.overlap(&b).is_some(), b.overlap(&a).is_some());
    }

    #[test]
    fn witness_matches_both(a in pattern(), b in pattern()) {
        if let Some(w) = a.overlap(&b) {
            prop_assert!(w.is_literal());
            prop_assert!(a.matches(&w), "{} does not match witness {}", a, w);
            prop_assert!(b.matches(&w), "{} does not match witness {}", b, w);
        }
    }

    #[test]
    fn containment_implies_overlap(a in pattern(), b in pattern()) {
        if a.contains(&b) {
            prop_assert!(a.overlap(&b).is_some());
        }
    }

    #[test]
    fn containment_is_reflexive(a in pattern()) {
        prop_assert!(a.contains(&a));
    }

    #[test]
    fn index_finds_exactly_the_overlaps(list in prop::collection::vec(pattern(), 0..12), q in pattern()) {
        let mut index = PatternIndex::new();
        for (i, p) in list.iter().enumerate() {
            index.insert(p, i);
        }
        let expected: Vec<usize> = list.iter().enumerate().filter(|(_, p)| p.overlap(&q).is_some()).map(|(i, _)| i).collect();
        prop_assert_eq!(index.overlapping(&q), expected);
    }

    #[test]
    fn intersection_is_exactly_what_both_match(a in pattern(), b in pattern(), s in pattern()) {
        // Literal subjects: what both patterns match is what their intersection matches.
        if s.is_literal() {
            let both = a.matches(&s) && b.matches(&s);
            prop_assert_eq!(a.intersect(&b).is_some_and(|i| i.matches(&s)), both);
        }
        prop_assert_eq!(a.intersect(&b).is_some(), a.overlap(&b).is_some());
        if let Some(i) = a.intersect(&b) {
            prop_assert!(a.contains(&i) && b.contains(&i), "{} is not in {} and {}", i, a, b);
        }
    }

    #[test]
    fn display_round_trips(a in pattern()) {
        prop_assert_eq!(Pattern::parse(&a.to_string()).unwrap(), a);
    }
}
