//! House rules rustfmt does not hold (as rust-analyzer's tidy tests do): no line of src/ is
//! longer than 100 columns. rustfmt breaks code at 100 but never a string literal or a comment,
//! and gives up on a statement it cannot fit; `python3 scripts/wrap_long_lines.py` wraps the
//! literals and comments (keeping their values) and lists what is left to wrap by hand.
//! Function length is clippy's (`too_many_lines`, clippy.toml), run by CI.

mod common;

use std::path::Path;

const MAX_COLUMNS: usize = 100;

#[test]
fn no_line_of_src_is_longer_than_100_columns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = common::rust_sources();
    assert!(files.len() > 50, "src/ has only {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let name = f.strip_prefix(root).unwrap().display().to_string();
            text.lines()
                .enumerate()
                .filter(|(_, l)| l.chars().count() > MAX_COLUMNS)
                .map(|(i, l)| format!("{name}:{}: {} columns", i + 1, l.chars().count()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        long.is_empty(),
        "{} line(s) of src/ over {MAX_COLUMNS} columns (python3 scripts/wrap_long_lines.py \
         wraps string literals and comments):\n{}",
        long.len(),
        long.join("\n")
    );
}
