//! Every file path the docs and the README name exists (issue 33 item 5):
//! a moved or split file cannot leave a page pointing at nothing.

use std::path::Path;

/// The top folders of the repository a path in the docs may start with.
const ROOTS: [&str; 11] = [
    "domain/",
    "store/",
    "projections/",
    "workers/",
    "api/",
    "src/",
    "tests/",
    "migrations/",
    "scripts/",
    "docs/",
    "deploy/",
];

/// The paths in `text` under one of [`ROOTS`] that end in a file extension.
fn paths_in(text: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "/._-".contains(c);
    let mut found = Vec::new();
    for (start, _) in text.char_indices() {
        let rest = &text[start..];
        let before = text[..start].chars().next_back();
        if before.is_some_and(is_path_char) || !ROOTS.iter().any(|r| rest.starts_with(r)) {
            continue;
        }
        let path: String = rest.chars().take_while(|c| is_path_char(*c)).collect();
        let path = path.trim_end_matches('.');
        let file = path.rsplit('/').next().unwrap_or_default();
        // Folders, globs and `<aggregate>`-style patterns are not checked.
        if file.contains('.') && !path.contains("..") {
            found.push(path.to_string());
        }
    }
    found
}

#[test]
fn every_path_the_docs_name_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md"), root.join("BENCHMARKS.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("docs entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut missing = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).expect("a page");
        for path in paths_in(&text) {
            if !root.join(&path).exists() {
                missing.push(format!(
                    "{} names {path}",
                    page.strip_prefix(root).unwrap_or(page).display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "paths that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn paths_are_found_in_prose_and_code_spans() {
    assert_eq!(
        paths_in("see `store/src/parked.rs`, and api/console/words.js. Not src/ or a/src/x.rs"),
        vec!["store/src/parked.rs", "api/console/words.js"]
    );
}
