//! The harness's smoke run: `pyck-bench run --quick` against the debug
//! `pyck` and `pyck-server` this test run built, on the throwaway
//! PostgreSQL of `scripts/test`, writing its report into a scratch
//! directory. Speed is not checked, only that every scenario runs end to
//! end and the report is whole (the harness refuses to write one with a
//! figure missing), so the harness cannot rot between benchmark runs.
//!
//! A test rather than a step after the suite: it is built with the rest of
//! the workspace (one feature resolution, nothing compiled a second time)
//! and runs beside the other tests.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

#[test]
fn the_quick_run_measures_every_scenario_and_writes_a_whole_report() {
    let harness = Path::new(env!("CARGO_BIN_EXE_pyck-bench"));
    // The workspace's binaries sit beside the harness's.
    let bin_dir = harness.parent().unwrap();
    for bin in ["pyck", "pyck-server"] {
        assert!(
            bin_dir.join(bin).is_file(),
            "{bin} is not built in {}: run the workspace's tests (scripts/test), not this package's alone",
            bin_dir.display()
        );
    }
    assert!(
        std::env::var_os("PYCK_TEST_POSTGRES_URL").is_some(),
        "PYCK_TEST_POSTGRES_URL is not set: run the tests with scripts/test"
    );
    let work = tempfile::tempdir().unwrap();
    let report = work.path().join("BENCHMARKS.md");
    let out = Command::new(harness)
        .args(["run", "--quick", "--bin-dir"])
        .arg(bin_dir)
        .arg("--out")
        .arg(&report)
        .arg("--work-dir")
        .arg(work.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyck-bench run --quick failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report).unwrap();
    for section in [
        "## Machine",
        "## Results",
        "## What was run",
        "| # | figure |",
    ] {
        assert!(
            text.contains(section),
            "the report has no {section:?}:\n{text}"
        );
    }
}
