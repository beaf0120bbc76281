//! GS1 conformance: every vector of `data/gs1_conformance.tsv` (written from
//! the GS1 rules each names) and of `data/other_parser_vectors.tsv` must get the verdict the standard gives it,
//! and an accepted one must read to the elements written beside it.
//! Deliberate deviations from the standard are listed in docs/GS1.md; a
//! vector that shows one says "deviation" in its rule column.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use pyck_vocab::gs1::parse;

fn vectors(text: &str) -> Vec<(usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').collect()))
        .collect()
}

#[test]
fn every_vector_gets_the_standards_verdict() {
    check(include_str!("data/gs1_conformance.tsv"), 60);
}

/// Another parser's test scans, with the standard's verdicts.
#[test]
fn another_parsers_scans_get_the_standards_verdict() {
    check(include_str!("data/other_parser_vectors.tsv"), 40);
}

fn check(text: &str, at_least: usize) {
    let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let mut wrong = Vec::new();
    let all = vectors(text);
    for (line, fields) in &all {
        let [verdict, scan, expected, rule] = fields[..] else {
            panic!(
                "line {line}: expected 4 tab-separated fields, got {}",
                fields.len()
            );
        };
        let scan = scan.replace("{GS}", "\u{1d}");
        match (verdict, parse(&scan, today)) {
            ("ok", Ok(gs1)) if gs1.render_bracketed() == expected => {}
            ("ok", Ok(gs1)) => wrong.push(format!(
                "line {line} ({rule}): read as {gs1}, expected {expected}"
            )),
            ("ok", Err(e)) => wrong.push(format!("line {line} ({rule}): refused: {e}")),
            ("error", Ok(gs1)) => {
                wrong.push(format!("line {line} ({rule}): accepted as {gs1}"));
            }
            ("error", Err(_)) => {}
            (other, _) => panic!("line {line}: verdict {other:?} is neither ok nor error"),
        }
    }
    assert!(all.len() >= at_least, "only {} vectors", all.len());
    assert!(
        wrong.is_empty(),
        "{} of {} vectors disagree:\n{}",
        wrong.len(),
        all.len(),
        wrong.join("\n")
    );
}
