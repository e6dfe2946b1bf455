//! Issue 16, point 12: the texts lagghook prints are written for an
//! administrator. Every string literal of the product's code in src/ (the
//! message templates: format strings and the words they are built from)
//! is checked for [`BANNED_PHRASES`], so an artefact is caught where it is
//! written, not only in the runs a test happens to make.

use std::path::Path;

use crate::support::{rust_files_below, BANNED_PHRASES};

/// The literals the code itself needs that are no message: the text that
/// `domain::text::io_error` and `sys::root` strip from std's errors.
const NOT_MESSAGES: &[&str] = &[" (os error "];

/// The product's part of a source file: up to its unit tests (`#[cfg(test)]`
/// before `mod tests`, which this project keeps at the end of a file).
fn product_code(source: &str) -> &str {
    let mut at = 0;
    for line in source.split_inclusive('\n') {
        if line.trim() == "#[cfg(test)]"
            && source[at + line.len()..].trim_start().starts_with("mod ")
        {
            return &source[..at];
        }
        at += line.len();
    }
    source
}

/// The string literals of `code` (plain, byte and raw ones), with the line
/// each starts on; comments and char literals are skipped. A plain
/// literal keeps its escapes as written (`\"`, `\n`).
fn literals(code: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let (mut found, mut i, mut line) = (Vec::new(), 0, 1);
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
                i += 2;
            }
            // A char literal ('"', '\''), not a lifetime ('a).
            '\'' if chars.get(i + 2) == Some(&'\'') => i += 3,
            '\'' if chars.get(i + 1) == Some(&'\\') => {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            }
            'r' if matches!(chars.get(i + 1), Some('"' | '#'))
                && (i == 0 || !chars[i - 1].is_alphanumeric() && chars[i - 1] != '_') =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while chars.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if chars.get(j) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let close: String = std::iter::once('"').chain((0..hashes).map(|_| '#')).collect();
                let rest: String = chars[j + 1..].iter().collect();
                let end = rest.find(&close).unwrap_or(rest.len());
                let text = &rest[..end];
                found.push((line, text.to_owned()));
                line += text.matches('\n').count();
                i = j + 1 + text.chars().count() + close.len();
            }
            '"' => {
                let start = line;
                let mut text = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        text.push(chars[i]);
                        i += 1;
                    }
                    if let Some(&c) = chars.get(i) {
                        line += usize::from(c == '\n');
                        text.push(c);
                    }
                    i += 1;
                }
                i += 1;
                found.push((start, text));
            }
            _ => i += 1,
        }
    }
    found
}

/// The banned phrases in the literals of `code`, as `LINE: phrase in
/// "literal": what to say instead`.
fn artefacts(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (line, literal) in literals(product_code(code)) {
        if NOT_MESSAGES.contains(&literal.as_str()) {
            continue;
        }
        // A template continued with `\` on the next line reads as one.
        let text: String = literal.split("\\\n").map(str::trim_start).collect();
        for (phrase, instead) in BANNED_PHRASES {
            if text.contains(phrase) {
                found.push(format!("{line}: {phrase:?} in {literal:?}: {instead}"));
            }
        }
    }
    found
}

/// Proves the scanner finds literals where messages are written, and
/// skips comments, char literals and the unit tests.
#[test]
fn the_scanner_reads_literals_as_rustc_does() {
    let code = "fn f() {\n    // \"re-applied\" in a comment\n    let q = '\"';\n    \
                log(&format!(\"{e} (while: \\\n     {a})\"));\n    let r = r#\"after 0s \"x\"\"#;\n}\n\
                #[cfg(test)]\nmod tests {\n    const T: &str = \"re-applied\";\n}\n";
    let found = artefacts(code);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("4: \"(while: \""), "{found:?}");
    assert!(found[1].starts_with("6: \"after 0s\""), "{found:?}");
}

/// Issue 16, point 12: no message template in src/ holds std's `(os
/// error N)`, a `(while: …)` that repeats its subject, "re-applied" for
/// an address lagghook sets, or an "after 0s" outage.
#[test]
fn issue16_no_message_template_has_an_artefact() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for file in rust_files_below(&src) {
        let code = std::fs::read_to_string(&file).unwrap();
        let shown = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(&file).display();
        found.extend(artefacts(&code).into_iter().map(|a| format!("{shown}:{a}")));
    }
    assert!(found.is_empty(), "message templates with artefacts:\n{}", found.join("\n"));
}
