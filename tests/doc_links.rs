//! Every document an administrator or a script writer is pointed to exists:
//! each relative Markdown link, and each `NAME.md` a document names (alone
//! or behind a path), resolves to a file of the repository.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The documents: the README, everything in docs/, and the READMEs beside
/// the code.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    for extra in [
        "README.md",
        "fixtures/README.md",
        "scripts/README.md",
        "bench/NOTES.md",
    ] {
        docs.push(root.join(extra));
    }
    docs
}

/// Where a reference from `doc` may point: beside it, from the root, or
/// in docs/.
fn resolves(doc: &Path, target: &str) -> bool {
    let target = target.split('#').next().unwrap();
    let root = root();
    [
        doc.parent().unwrap().join(target),
        root.join(target),
        root.join("docs").join(target),
    ]
    .iter()
    .any(|p| p.exists())
}

/// `](target)` of every inline Markdown link that is not a URL or an anchor.
fn links(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            rest.find(')').map(|end| &rest[..end])
        })
        .filter(|t| !t.starts_with("http") && !t.starts_with('#') && !t.starts_with("mailto:"))
        .collect()
}

/// Every `…NAME.md` a text names: upper-case file names with the path
/// written before them.
fn named_documents(text: &str) -> Vec<&str> {
    let is_path = |c: char| c.is_ascii_alphanumeric() || "/_.-".contains(c);
    text.match_indices(".md")
        .filter_map(|(end, _)| {
            let start = text[..end]
                .rfind(|c: char| !is_path(c))
                .map_or(0, |s| s + 1);
            let name = &text[start..end + 3];
            let file = name.rsplit('/').next().unwrap();
            let stem = &file[..file.len() - 3];
            let upper = !stem.is_empty()
                && stem
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            upper.then_some(name)
        })
        .collect()
}

#[test]
fn every_document_a_document_points_to_exists() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).unwrap();
        for target in links(&text).into_iter().chain(named_documents(&text)) {
            checked += 1;
            if !resolves(&doc, target) {
                missing.push(format!("{}: {target}", doc.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "references to nothing:\n{}",
        missing.join("\n")
    );
    assert!(
        checked > 50,
        "only {checked} references found: the scan is broken"
    );
}

#[test]
fn the_scan_finds_what_it_should() {
    assert_eq!(
        links("see [the guide](docs/ADMIN.md#install) and [x](https://a.b)"),
        ["docs/ADMIN.md#install"]
    );
    assert_eq!(
        named_documents("formats in `CLI.md`, see docs/IMPORT.md and README.md; lib.md no"),
        ["CLI.md", "docs/IMPORT.md", "README.md"]
    );
    assert!(!resolves(&root().join("docs/OPERATIONS.md"), "CLI.md"));
}
