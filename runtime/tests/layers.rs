//! The runtime's modules form layers with one direction: a top-level module
//! refers only to modules of lower layers. The order is the table in the
//! crate documentation (`src/lib.rs`); this test reads it from there, so the
//! documented order and the enforced one cannot drift apart.
//!
//! A reference is any `crate::x` path (in a `use`, a `use crate::{x, y}`
//! group, or an expression), a `super::…` path resolved to the top-level
//! module it reaches, and a crate-root item (`crate::flush`, a
//! `#[macro_export]` macro) resolved to the module that defines it.
//! Comments and `#[cfg(test)]` modules are not part of the layering: a unit
//! test may build a whole subscriber.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A reference from one top-level module to another that the layers forbid.
#[derive(Debug, PartialEq, Eq)]
struct Violation {
    file: PathBuf,
    line: usize,
    from: String,
    to: String,
}

/// The layer of each top-level module, from the crate doc's table: rows
/// `//! | N | `a` `b` | …`.
fn layers_of(lib_rs: &str) -> BTreeMap<String, usize> {
    let mut layers = BTreeMap::new();
    for line in lib_rs.lines() {
        let Some(row) = line.trim().strip_prefix("//! |") else {
            continue;
        };
        let mut cells = row.split('|');
        let (Some(number), Some(modules)) = (cells.next(), cells.next()) else {
            continue;
        };
        let Ok(layer) = number.trim().parse::<usize>() else {
            continue;
        };
        for module in modules.split('`').skip(1).step_by(2) {
            let previous = layers.insert(module.to_owned(), layer);
            assert!(previous.is_none(), "`{module}` is in two rows of the table");
        }
    }
    layers
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file: `a/b.rs` and `a/b/mod.rs` are `[a, b]`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src");
    let mut parts: Vec<String> = relative
        .iter()
        .map(|part| part.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    if last != "mod.rs" && last != "lib.rs" {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// `code` with comments blanked and `#[cfg(test)]` modules removed; lines
/// are kept, so positions still name the right line. String literals are
/// skipped over, so that `"https://…"` is not taken for a comment.
fn without_comments_and_tests(code: &str) -> String {
    let bytes = code.as_bytes();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &code[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(rest.len(), |e| e + 2);
            out.extend(rest[..end].chars().filter(|&c| c == '\n'));
            i += end;
        } else if let Some(raw) = raw_string_len(rest) {
            out.push_str(&rest[..raw]);
            i += raw;
        } else if rest.starts_with('\'') {
            // A char literal ('"', '\\n') is skipped whole; a lifetime is kept.
            let mut chars = rest.char_indices().skip(1);
            let end = match (chars.next(), chars.next()) {
                (Some((_, '\\')), _) => rest[2..].find('\'').map_or(1, |e| e + 3),
                (Some(_), Some((at, '\''))) => at + 1,
                _ => 1,
            };
            out.push_str(&rest[..end]);
            i += end;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() && rest.as_bytes()[j] != b'"' {
                j += if rest.as_bytes()[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            out.push_str(&rest[..end]);
            i += end;
        } else if let Some(after) = rest.strip_prefix("#[cfg(test)]")
            && after.trim_start().starts_with("mod ")
        {
            // A module in a file of its own (`mod tests;`) is left out
            // by `test_files`; an inline one is skipped to the end of its
            // braces, keeping its lines.
            let declaration = rest.find(';').unwrap_or(rest.len());
            let Some(open) = rest.find('{').filter(|&open| open < declaration) else {
                i += declaration;
                continue;
            };
            let mut depth = 0;
            let mut end = rest.len();
            for (at, c) in rest.char_indices().skip(open) {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = at + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            out.extend(rest[..end].chars().filter(|&c| c == '\n'));
            i += end;
        } else {
            let c = rest.chars().next().expect("not at the end");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// The length of the raw string literal (`r"…"`, `r#"…"#`) `text` starts
/// with, if it starts with one.
fn raw_string_len(text: &str) -> Option<usize> {
    let hashes = text.strip_prefix('r')?.len() - text[1..].trim_start_matches('#').len();
    let body = &text[1 + hashes..];
    body.strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let end = body[1..].find(&close)?;
    Some(1 + hashes + 1 + end + close.len())
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level names a `crate::{…}` group names: its first segments at
/// brace depth 0.
fn group_heads(group: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(ident(group[start..at].trim()));
                start = at + 1;
            }
            _ => {}
        }
    }
    heads.push(ident(group[start..].trim()));
    heads.retain(|head| !head.is_empty());
    heads
}

/// The top-level names that `code` (of a module at `path`) refers to,
/// with their lines. Read as one text, not line by line: a `use crate::{…}`
/// list that rustfmt wraps spans several lines.
fn references(code: &str, path: &[String]) -> Vec<(usize, String)> {
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = [rest.find("crate::"), rest.find("super::")]
        .into_iter()
        .flatten()
        .min()
    {
        let offset = code.len() - rest.len() + at;
        let before_ok = rest[..at]
            .chars()
            .last()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
        let keyword = if rest[at..].starts_with("crate::") {
            "crate::"
        } else {
            "super::"
        };
        let mut after = &rest[at + keyword.len()..];
        // How many modules below the root the path's next segment is.
        let level = if keyword == "crate::" {
            Some(0)
        } else {
            let mut level = path.len().checked_sub(1);
            while let Some(next) = after.strip_prefix("super::") {
                level = level.and_then(|l| l.checked_sub(1));
                after = next;
            }
            level
        };
        if before_ok && level == Some(0) && !after.starts_with('*') {
            let line = line_of(offset);
            match balanced_group(after) {
                Some(group) => found.extend(
                    group_heads(group)
                        .into_iter()
                        .map(|head| (line, head.to_owned())),
                ),
                None => found.push((line, ident(after).to_owned())),
            }
        }
        rest = after;
    }
    found
}

/// The inside of the `{…}` group `text` starts with, braces balanced;
/// `None` when it starts with no group.
fn balanced_group(text: &str) -> Option<&str> {
    if !text.starts_with('{') {
        return None;
    }
    let mut depth = 0;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[1..at]);
                }
            }
            _ => {}
        }
    }
    None
}

/// Where each crate-root item that is not a module comes from: `pub use
/// m::{a, b}` in lib.rs, and `#[macro_export]` macros by their file.
fn root_items(src: &Path, files: &[PathBuf], lib_rs: &str) -> BTreeMap<String, String> {
    let mut items = BTreeMap::new();
    let lib = without_comments_and_tests(lib_rs);
    for statement in lib.split(';') {
        let statement = statement.trim();
        let Some(used) = statement
            .strip_prefix("pub use ")
            .or_else(|| statement.strip_prefix("use "))
        else {
            continue;
        };
        let module = ident(used).to_owned();
        let after = &used[module.len()..];
        let Some(after) = after.strip_prefix("::") else {
            continue;
        };
        let names: Vec<&str> = match after.strip_prefix('{') {
            Some(group) => group
                .trim_end_matches('}')
                .split(',')
                .map(|name| name.trim().rsplit("::").next().unwrap_or(""))
                .collect(),
            None => vec![after.rsplit("::").next().unwrap_or("")],
        };
        for name in names {
            let name = name.split(" as ").last().unwrap_or(name).trim();
            if !name.is_empty() {
                items.insert(name.to_owned(), module.clone());
            }
        }
    }
    for file in files {
        let code = std::fs::read_to_string(file).expect("readable source");
        let mut lines = code.lines().peekable();
        while let Some(line) = lines.next() {
            if line.trim() == "#[macro_export]"
                && let Some(next) = lines.peek()
                && let Some(name) = next.trim().strip_prefix("macro_rules! ")
                && let Some(top) = module_path(src, file).first()
            {
                items.insert(ident(name).to_owned(), top.clone());
            }
        }
    }
    items
}

/// The files of `#[cfg(test)] mod name;` declarations: unit tests kept in
/// a file of their own, not part of the layering either.
fn test_files(src: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    let mut tests = Vec::new();
    for file in files {
        let code = std::fs::read_to_string(file).expect("readable source");
        let mut rest = code.as_str();
        while let Some(at) = rest.find("#[cfg(test)]") {
            rest = &rest[at + "#[cfg(test)]".len()..];
            let Some(declaration) = rest.trim_start().strip_prefix("mod ") else {
                continue;
            };
            let name = ident(declaration);
            if !declaration[name.len()..].trim_start().starts_with(';') {
                continue;
            }
            // `a/mod.rs` and `lib.rs` hold their children beside them;
            // `a/b.rs` in `a/b/`.
            let dir = match file.file_name().and_then(|n| n.to_str()) {
                Some("mod.rs" | "lib.rs") => file.parent().unwrap_or(src).to_path_buf(),
                _ => file.with_extension(""),
            };
            tests.push(dir.join(format!("{name}.rs")));
            tests.push(dir.join(name).join("mod.rs"));
        }
    }
    tests
}

/// Every forbidden reference under `src`, or an error naming what the
/// table lacks.
fn check(src: &Path) -> Result<Vec<Violation>, String> {
    let lib_rs = std::fs::read_to_string(src.join("lib.rs")).map_err(|e| e.to_string())?;
    let layers = layers_of(&lib_rs);
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let roots = root_items(src, &files, &lib_rs);
    let tests = test_files(src, &files);
    let mut violations = Vec::new();
    for file in files.iter().filter(|file| !tests.contains(file)) {
        let path = module_path(src, file);
        let Some(top) = path.first() else {
            continue; // lib.rs: the root re-exports every layer
        };
        let Some(&own_layer) = layers.get(top) else {
            return Err(format!(
                "module `{top}` ({}) is in no row of the layer table in lib.rs",
                file.display()
            ));
        };
        let code = without_comments_and_tests(&std::fs::read_to_string(file).unwrap());
        for (line, name) in references(&code, &path) {
            let target = if layers.contains_key(&name) {
                name
            } else if let Some(module) = roots.get(&name) {
                module.clone()
            } else {
                return Err(format!(
                    "{}:{line}: `crate::{name}` is neither a module in the layer table nor a \
                     crate-root item the test can place",
                    file.display()
                ));
            };
            if target != *top && layers[&target] >= own_layer {
                violations.push(Violation {
                    file: file.clone(),
                    line,
                    from: top.clone(),
                    to: target,
                });
            }
        }
    }
    Ok(violations)
}

fn report(violations: &[Violation], layers: &BTreeMap<String, usize>) -> String {
    let mut text = String::new();
    for v in violations {
        let _ = writeln!(
            text,
            "{}:{}: `{}` (layer {}) refers to `{}` (layer {}): a module may refer only to lower \
             layers; invert the dependency (a hook the higher layer registers, or an argument)",
            v.file.display(),
            v.line,
            v.from,
            layers[&v.from],
            v.to,
            layers[&v.to]
        );
    }
    text
}

#[test]
fn the_runtime_modules_refer_only_to_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib_rs = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let layers = layers_of(&lib_rs);
    assert!(
        layers.len() >= 10,
        "the layer table in lib.rs's crate doc was not found: {layers:?}"
    );
    let violations = check(&src).unwrap_or_else(|error| panic!("{error}"));
    assert!(
        violations.is_empty(),
        "upward references:\n{}",
        report(&violations, &layers)
    );
}

/// The checker itself, on a small crate written for it: an upward `use`, a
/// group, an expression path, `super::` from a nested file and a root
/// re-export are all caught; downward ones pass; comments and test modules
/// are ignored.
#[test]
fn an_upward_reference_fails_naming_the_file_line_and_arrow() {
    let dir = std::env::temp_dir().join(format!("o11y-layers-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("low")).unwrap();
    let write = |name: &str, code: &str| std::fs::write(src.join(name), code).unwrap();
    write(
        "lib.rs",
        "//! | layer | modules |\n//! |---|---|\n//! | 0 | `base` | \n//! | 1 | `low` |\n\
         //! | 2 | `high` |\nmod base;\nmod high;\nmod low;\npub use high::top_fn;\n",
    );
    write("base.rs", "pub fn f() {}\n");
    write(
        "high.rs",
        "use crate::{base, low::thing};\n// crate::nothing in a comment\npub fn top_fn() {}\n",
    );
    write(
        "low/mod.rs",
        "mod inner;\nuse crate::base::f; // fine\npub fn thing() { crate::high::top_fn() }\n\
         #[cfg(test)]\nmod tests {\n    use crate::high::top_fn;\n}\n#[cfg(test)]\nmod more_tests;\n",
    );
    write("low/more_tests.rs", "use crate::high::top_fn;\n");
    write(
        "low/inner.rs",
        "use super::thing;\nuse super::super::high;\nfn g() { crate::top_fn(); let _ = \"crate://x\"; }\n\
         use crate::{\n    base,\n    high::top_fn as wrapped,\n};\n",
    );
    let violations = check(&src).expect("the table covers every module");
    let found: Vec<(String, usize, &str, &str)> = violations
        .iter()
        .map(|v| {
            let file = v.file.strip_prefix(&src).unwrap().display().to_string();
            (file, v.line, v.from.as_str(), v.to.as_str())
        })
        .collect();
    assert_eq!(
        found,
        [
            ("low/inner.rs".to_owned(), 2, "low", "high"),
            ("low/inner.rs".to_owned(), 3, "low", "high"),
            // A list rustfmt wrapped: the line of its `crate::`.
            ("low/inner.rs".to_owned(), 4, "low", "high"),
            ("low/mod.rs".to_owned(), 3, "low", "high"),
        ]
    );
    let layers = layers_of(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    let text = report(&violations, &layers);
    assert!(
        text.contains("low/mod.rs:3: `low` (layer 1) refers to `high` (layer 2)"),
        "{text}"
    );
    // A module missing from the table is an error, not a pass.
    write("extra.rs", "\n");
    let error = check(&src).unwrap_err();
    assert!(error.contains("module `extra`"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
