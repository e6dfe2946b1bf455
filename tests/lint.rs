//! Rules about the source that the compiler cannot check. One so far
//! (issue 17): every file lagghook reads, it reads through `sys::file`'s
//! readers, which open `O_NONBLOCK`, refuse anything but a regular file
//! and stop at a cap, so no FIFO can hang a run and no `/dev/zero` fill
//! its memory. A direct `fs::read*`, `read_to_string`, `read_to_end`,
//! `File::open` or `OpenOptions` anywhere else in the product's code
//! (`src/`, `examples/`) would bypass them: this test fails on each, with
//! its file and line. Test code is exempt: a `#[cfg(test)] mod tests { … }`
//! at the end of a file (the project's habit), and every file declared by a
//! `#[cfg(… test …)] mod NAME;`. Listing a directory (`fs::read_dir`) and
//! reading a link's target (`fs::read_link`) read no file and are allowed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::support::rust_files_below;

/// What only `src/sys/file.rs` may write.
const FORBIDDEN: &[&str] = &[
    "fs::read(",
    "fs::read_to_string(",
    "read_to_string(",
    "read_to_end(",
    "File::open(",
    "OpenOptions",
];

/// The one file that opens and reads files.
const READER: &str = "src/sys/file.rs";

/// The file a `mod name;` in `file` stands for.
fn module_file(file: &Path, name: &str) -> PathBuf {
    let dir = file.parent().unwrap();
    let stem = file.file_stem().unwrap();
    let base = if stem == "mod" || stem == "lib" || stem == "main" {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    let flat = base.join(format!("{name}.rs"));
    if flat.exists() {
        flat
    } else {
        base.join(name).join("mod.rs")
    }
}

/// The files that only tests compile: each `mod name;` under a `cfg`
/// attribute that names `test`, with other attributes between.
fn test_only_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in files {
        let text = fs::read_to_string(file).unwrap();
        let mut under_test_cfg = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with("#[cfg(") && line.contains("test") {
                under_test_cfg = true;
            } else if line.starts_with("#[") {
                // Another attribute of the same item.
            } else {
                if under_test_cfg {
                    let name = line.strip_prefix("pub ").unwrap_or(line);
                    let name = name.strip_prefix("pub(crate) ").unwrap_or(name);
                    if let Some(name) = name.strip_prefix("mod ").and_then(|n| n.strip_suffix(';'))
                    {
                        out.insert(module_file(file, name));
                    }
                }
                under_test_cfg = false;
            }
        }
    }
    out
}

/// The lines of `text` before its `#[cfg(test)] mod tests {`, with their
/// numbers, comment lines left out.
fn product_lines(text: &str) -> Vec<(usize, &str)> {
    let lines: Vec<&str> = text.lines().collect();
    let end = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim() == "mod tests {")
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, *l))
        .collect()
}

/// The uses of a forbidden call or type in the product's code, `FILE:LINE:
/// TEXT`, anywhere but in the reader.
fn bypasses(root: &Path) -> Vec<String> {
    let mut files = rust_files_below(&root.join("src"));
    if root.join("examples").is_dir() {
        files.extend(rust_files_below(&root.join("examples")));
    }
    files.sort();
    let tests = test_only_files(&files);
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !tests.contains(*f)) {
        let shown = file.strip_prefix(root).unwrap().display().to_string();
        if shown == READER {
            continue;
        }
        let text = fs::read_to_string(file).unwrap();
        for (number, line) in product_lines(&text) {
            if FORBIDDEN.iter().any(|f| line.contains(f)) {
                found.push(format!("{shown}:{number}: {}", line.trim()));
            }
        }
    }
    found
}

/// Proves the rule holds: no file is read but through `sys::file`.
#[test]
fn every_file_is_read_through_sys_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = bypasses(root);
    assert!(
        found.is_empty(),
        "files read or opened outside {READER}, whose readers refuse FIFOs and devices and \
         stop at a cap; use them:\n{}",
        found.join("\n")
    );
}

/// Proves the lint finds what it looks for, and skips test code only: a
/// tree with one direct read in product code, one in a tests module and
/// one in a test-only file.
#[test]
fn the_lint_finds_a_direct_read_and_skips_tests() {
    let root = std::env::temp_dir().join(format!("lagghook-lint-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("src/sim")).unwrap();
    fs::create_dir_all(root.join("examples")).unwrap();
    fs::write(
        root.join("src/lib.rs"),
        "pub mod sim;\n// fs::read_to_string( in a comment\n\
         pub fn load() { let _ = std::fs::read_to_string(\"x\"); }\n\
         #[cfg(test)]\nmod tests {\n    fn t() { let _ = std::fs::read(\"y\"); }\n}\n",
    )
    .unwrap();
    fs::write(root.join("src/sim/mod.rs"), "#[cfg(test)]\n#[allow(dead_code)]\nmod fixture;\n")
        .unwrap();
    fs::write(root.join("src/sim/fixture.rs"), "fn f() { std::fs::File::open(\"z\").ok(); }\n")
        .unwrap();
    fs::write(root.join("examples/tool.rs"), "fn main() { std::fs::OpenOptions::new(); }\n")
        .unwrap();
    assert_eq!(
        bypasses(&root),
        [
            "examples/tool.rs:1: fn main() { std::fs::OpenOptions::new(); }",
            "src/lib.rs:3: pub fn load() { let _ = std::fs::read_to_string(\"x\"); }",
        ]
    );
    let _ = fs::remove_dir_all(&root);
}
