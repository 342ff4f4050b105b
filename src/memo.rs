//! Work done once per process for inputs that repeat. A fleet's clusters and a lint run's
//! files share most of what they render (every CPC's servers get the same `nats.conf`), so a
//! pure stage keeps its answer for an input it meets a second time and copies it after that.
//!
//! An input is kept only on its second sighting, so inputs that never repeat (a cluster's own
//! accounts, named by its id) cost a hash each and no memory; what is kept is bounded.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex, PoisonError};

/// How many inputs are remembered as seen once before the record starts over.
const MAX_SEEN: usize = 1 << 20;

/// The answers of one pure function `make(key)`, by key.
pub struct Memo<K, V> {
    inner: Mutex<Option<Inner<K, V>>>,
    /// The kept keys' total weight (a text's length, a tree's size): the memory bound.
    max_weight: usize,
}

struct Inner<K, V> {
    seen: HashSet<u64, rustc_hash::FxBuildHasher>,
    kept: HashMap<u64, Arc<(K, V)>, rustc_hash::FxBuildHasher>,
    weight: usize,
}

impl<K, V: Clone> Memo<K, V> {
    pub const fn new(max_weight: usize) -> Self {
        Memo {
            inner: Mutex::new(None),
            max_weight,
        }
    }

    /// `make(key)`, or a copy of its earlier answer for an equal key. `weight` counts against
    /// the bound when the answer is kept.
    pub fn get<Q>(&self, key: &Q, weight: usize, make: impl FnOnce(&Q) -> V) -> V
    where
        Q: ?Sized + Hash + PartialEq + ToOwned<Owned = K>,
        K: Borrow<Q>,
    {
        let hash = rustc_hash::FxBuildHasher.hash_one(key);
        let (kept, seen_before) = self.with(|m| {
            if let Some(kept) = m.kept.get(&hash) {
                return (Some(kept.clone()), false);
            }
            if m.seen.len() >= MAX_SEEN {
                m.seen.clear();
            }
            (None, !m.seen.insert(hash))
        });
        // Different keys can share a hash; only an equal key is the same input. Comparing
        // and copying happen outside the lock.
        if let Some(kept) = kept.filter(|k| k.0.borrow() == key) {
            return kept.1.clone();
        }
        let value = make(key);
        if seen_before {
            self.with(|m| {
                if m.weight + weight <= self.max_weight && !m.kept.contains_key(&hash) {
                    m.weight += weight;
                    m.kept
                        .insert(hash, Arc::new((key.to_owned(), value.clone())));
                }
            });
        }
        value
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner<K, V>) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(guard.get_or_insert_with(|| Inner {
            seen: HashSet::default(),
            kept: HashMap::default(),
            weight: 0,
        }))
    }
}

/// Answers about shared subtrees, by identity. A tree coalesced with the defaults holds the
/// defaults' own subtrees (`load::yaml::V` shares lists and maps), so a rule that walks one
/// answers once per process. The subtree is pinned with its answer: while pinned, its address
/// names it alone, and a shared subtree never changes (a change copies it first).
pub struct ByIdentity<P, K, V> {
    inner: Mutex<Option<Pinned<P, K, V>>>,
    max_entries: usize,
}

/// Each answer with the subtree it is about, pinned.
type Pinned<P, K, V> = HashMap<K, Arc<(P, V)>, rustc_hash::FxBuildHasher>;

impl<P, K: Hash + Eq, V: Clone> ByIdentity<P, K, V> {
    pub const fn new(max_entries: usize) -> Self {
        ByIdentity {
            inner: Mutex::new(None),
            max_entries,
        }
    }

    /// `make()`, or its earlier answer for the same `key`: the subtree's address (see
    /// `load::Node::identity`) and what else the answer depends on. `pin` gives the handle
    /// that keeps the subtree alive.
    pub fn get(&self, key: K, pin: impl FnOnce() -> P, make: impl FnOnce() -> V) -> V {
        let kept = self.with(|m| m.get(&key).cloned());
        if let Some(kept) = kept {
            return kept.1.clone();
        }
        let value = make();
        self.with(|m| {
            // Full, it starts over: the pins go, so a long `up --watch` holds no old trees.
            if m.len() >= self.max_entries {
                m.clear();
            }
            m.insert(key, Arc::new((pin(), value.clone())));
        });
        value
    }

    fn with<T>(&self, f: impl FnOnce(&mut Pinned<P, K, V>) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        f(guard.get_or_insert_with(HashMap::default))
    }
}

#[cfg(test)]
mod tests {
    use super::{ByIdentity, Memo};
    use std::cell::Cell;
    use std::sync::Arc;

    #[test]
    fn a_pinned_subtree_is_answered_once_per_context() {
        let memo: ByIdentity<Arc<Vec<u8>>, (usize, &str), usize> = ByIdentity::new(8);
        let tree = Arc::new(vec![1, 2, 3]);
        let made = Cell::new(0);
        let ask = |context| {
            memo.get(
                (Arc::as_ptr(&tree) as usize, context),
                || tree.clone(),
                || {
                    made.set(made.get() + 1);
                    tree.len()
                },
            )
        };
        assert_eq!(ask("a"), 3);
        assert_eq!(ask("a"), 3);
        assert_eq!(ask("b"), 3);
        assert_eq!(made.get(), 2, "once for each context");
        assert_eq!(Arc::strong_count(&tree), 3, "pinned once per context");
    }

    #[test]
    fn a_full_table_starts_over_and_lets_its_pins_go() {
        let memo: ByIdentity<Arc<Vec<u8>>, usize, usize> = ByIdentity::new(2);
        let trees: Vec<Arc<Vec<u8>>> = (0..3).map(|i| Arc::new(vec![i])).collect();
        for (i, t) in trees.iter().enumerate() {
            assert_eq!(memo.get(i, || t.clone(), || i), i);
        }
        let counts: Vec<usize> = trees.iter().map(Arc::strong_count).collect();
        assert_eq!(counts, [1, 1, 2], "the third answer cleared the first two");
    }

    #[test]
    fn an_input_is_kept_on_its_second_sighting_and_copied_after() {
        let memo: Memo<String, usize> = Memo::new(1 << 10);
        let made = Cell::new(0);
        let make = |s: &str| {
            made.set(made.get() + 1);
            s.len()
        };
        for _ in 0..5 {
            assert_eq!(memo.get("abc", 3, make), 3);
        }
        assert_eq!(
            made.get(),
            2,
            "made on the first two sightings, copied after"
        );
        assert_eq!(memo.get("other", 5, make), 5);
        assert_eq!(made.get(), 3);
    }

    #[test]
    fn what_is_kept_stays_within_its_bound() {
        let memo: Memo<String, usize> = Memo::new(4);
        let made = Cell::new(0);
        let make = |s: &str| {
            made.set(made.get() + 1);
            s.len()
        };
        for _ in 0..4 {
            memo.get("too long", 8, make);
        }
        assert_eq!(made.get(), 4, "an answer over the bound is never kept");
    }
}
