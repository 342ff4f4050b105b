//! House rules rustfmt does not hold (as rust-analyzer's tidy tests do): no line of src/ is
//! longer than 100 columns. rustfmt breaks code at 100 but never a string literal or a comment,
//! and gives up on a statement it cannot fit; `python3 scripts/wrap_long_lines.py` wraps the
//! literals and comments (keeping their values) and lists what is left to wrap by hand.
//! Function length is clippy's (`too_many_lines`, clippy.toml), run by CI.

use std::path::{Path, PathBuf};

const MAX_COLUMNS: usize = 100;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_line_of_src_is_longer_than_100_columns() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![];
    rust_files(&root.join("src"), &mut files);
    files.sort();
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
