//! Reading scripted input: CSV with a header row, or JSON lines (one object
//! per line, same keys), from a file or `-` for stdin.
//!
//! The whole input is read and checked before anything is recorded. Rows
//! that cannot be read are collected with the line they are on, so that one
//! run names every bad row (docs/SCRIPTING.md); a line is a physical line,
//! ended by LF or CRLF.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::{BadRow, BadRows, CliError, invalid};

/// One input row: its line number (1 is the CSV header) and its fields.
///
/// The values sit in one `StringRecord` (one buffer per row), beside the
/// column names, which every row of an input shares: a file of 10,000 rows
/// holds its header once, not a map of owned names and values per row
/// (issue 21: that map was a sixth of `pyck move --file`'s time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    columns: Arc<[String]>,
    /// One value per column, trimmed; blank is the same as absent.
    values: csv::StringRecord,
    /// The digest of the whole input the row was read from; none for a row
    /// made of command-line flags.
    input: Option<InputDigest>,
}

/// What identifies an input for idempotency keys: a digest of its text
/// with a leading byte-order mark dropped, CRLF read as LF and the line
/// breaks at its end dropped, so the same rows saved by another editor are
/// the same input, and any other text is another input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InputDigest([u8; 16]);

impl InputDigest {
    pub fn of(text: &str) -> InputDigest {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let normal = if text.contains('\r') {
            Cow::Owned(text.replace("\r\n", "\n"))
        } else {
            Cow::Borrowed(text)
        };
        let digest = Sha256::digest(normal.trim_end_matches('\n').as_bytes());
        let mut out = [0; 16];
        out.copy_from_slice(&digest[..16]);
        InputDigest(out)
    }
}

impl std::fmt::Display for InputDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl Row {
    fn new(
        line: u64,
        columns: Arc<[String]>,
        values: csv::StringRecord,
        input: Option<InputDigest>,
    ) -> Row {
        Row {
            line,
            columns,
            values,
            input,
        }
    }

    /// A field's value; empty when absent or blank. A header that names a
    /// column twice gives the last non-blank value.
    pub fn get(&self, name: &str) -> &str {
        // A handful of columns: a scan beats hashing the name.
        self.columns
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, column)| column.as_str() == name)
            .find_map(|(i, _)| self.values.get(i).filter(|v| !v.is_empty()))
            .unwrap_or("")
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// The digest of the input this row was read from.
    pub fn input(&self) -> Option<InputDigest> {
        self.input
    }

    /// The row's fields in a stable order, for keys derived from content.
    pub fn canonical(&self) -> String {
        let mut names: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .filter(|&name| name != "ref")
            .filter_map(|name| Some(name).zip(self.opt(name)))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\u{1f}")
    }

    /// An error about one field of this row (exit 3). Rows made from
    /// command-line flags (line 0) name the flag instead of a line.
    pub fn error(&self, field: &str, problem: impl std::fmt::Display) -> anyhow::Error {
        if self.line == 0 {
            invalid(format!("--{field}: {problem}"))
        } else {
            CliError::BadRow(BadRow {
                line: Some(self.line),
                field: Some(field.to_owned()),
                message: problem.to_string(),
            })
            .into()
        }
    }

    /// A row made of command-line flag values (line 0).
    pub fn from_flags(pairs: &[(&str, Option<String>)]) -> Row {
        let columns = pairs.iter().map(|(k, _)| (*k).to_owned()).collect();
        let values = pairs
            .iter()
            .map(|(_, v)| v.as_deref().unwrap_or(""))
            .collect();
        Row::new(0, columns, values, None)
    }
}

/// The columns a kind of input takes.
pub struct Columns {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl Columns {
    fn knows(&self, name: &str) -> bool {
        self.required.contains(&name) || self.optional.contains(&name)
    }

    fn expected(&self) -> String {
        format!(
            "expected {} (optional: {})",
            self.required.join(","),
            self.optional.join(",")
        )
    }
}

/// An input as read: the rows to check, and the lines that are bad already
/// (cannot be read, unknown columns). Rows of a bad line are not among
/// `rows`: what they mean is not clear, and checking them would only repeat
/// the problem.
#[derive(Debug)]
pub struct Input {
    pub rows: Vec<Row>,
    pub bad: BadRows,
}

/// Reads every row of `source` (`-` for stdin). An input that cannot be
/// read at all (missing, not UTF-8, no rows) is an error; bad lines are
/// collected in [`Input::bad`] for the caller to report with the rows its
/// checks refuse.
pub fn read(source: &str, columns: &Columns) -> anyhow::Result<Input> {
    let (bytes, name) = if source == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        (buf, "stdin")
    } else {
        let bytes =
            std::fs::read(source).map_err(|e| invalid(format!("{source}: cannot read: {e}")))?;
        (bytes, source)
    };
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(name, &e))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let ext = Path::new(source)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let json = match ext {
        "csv" => false,
        "jsonl" | "ndjson" | "json" => true,
        _ => text.trim_start().starts_with('{'),
    };
    let input = if json {
        read_json_lines(text, columns)
    } else {
        read_csv(text, columns)
    };
    if input.rows.is_empty() && input.bad.is_empty() {
        return Err(invalid(format!("{name}: the input has no rows")));
    }
    Ok(input)
}

/// Names the line of the first byte that is not UTF-8.
fn not_utf8(name: &str, e: &std::string::FromUtf8Error) -> anyhow::Error {
    let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
    let line = 1 + good.iter().filter(|&&b| b == b'\n').count() as u64;
    CliError::BadRow(BadRow {
        line: Some(line),
        field: None,
        message: format!("{name}: not UTF-8 text: {}", e.utf8_error()),
    })
    .into()
}

/// Physical line numbers of byte offsets, given in increasing order: one
/// pass over the text however many rows it has.
struct Lines<'t> {
    text: &'t [u8],
    at: usize,
    line: u64,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Lines {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line of the record the csv reader says starts at `byte`. The
    /// reader's own line count is wrong after CRLF and blank lines, and its
    /// offset may point at the line break before the record, so skip line
    /// breaks (a record never starts with one) and count LFs.
    fn of_record(&mut self, byte: u64) -> u64 {
        let mut start = (byte as usize).min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.at {
            self.line += self.text[self.at..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.at = start;
        }
        self.line
    }
}

fn read_csv(text: &str, columns: &Columns) -> Input {
    let digest = InputDigest::of(text);
    let mut bad = BadRows::default();
    let mut lines = Lines::new(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            let line = e.position().map_or(1, |p| lines.of_record(p.byte()));
            bad.push(unreadable(line, &e));
            return Input {
                rows: Vec::new(),
                bad,
            };
        }
    };
    let header_line = header.position().map_or(1, |p| lines.of_record(p.byte()));
    let names: Arc<[String]> = header.iter().map(str::to_owned).collect();
    if names.iter().all(String::is_empty) {
        return Input {
            rows: Vec::new(),
            bad,
        };
    }
    // A header with a column the command does not take, or without one it
    // needs, is usually a misspelt name: name it once, not on every row.
    for name in names.iter().filter(|n| !columns.knows(n)) {
        bad.push(BadRow {
            line: Some(header_line),
            field: Some(name.clone()),
            message: format!("unknown column; {}", columns.expected()),
        });
    }
    for name in columns
        .required
        .iter()
        .filter(|r| !names.iter().any(|n| n == *r))
    {
        bad.push(BadRow {
            line: Some(header_line),
            field: Some((*name).to_owned()),
            message: format!("missing column; {}", columns.expected()),
        });
    }
    if !bad.is_empty() {
        return Input {
            rows: Vec::new(),
            bad,
        };
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map(|p| lines.of_record(p.byte()));
                bad.push(unreadable(line.unwrap_or(lines.line), &e));
                continue;
            }
        };
        // A quoted field may span lines: the row is where it starts.
        let line = record
            .position()
            .map_or(lines.line, |p| lines.of_record(p.byte()));
        rows.push(Row::new(line, names.clone(), record, Some(digest)));
    }
    Input { rows, bad }
}

/// A CSV record the reader refused, said without its (wrong) line count.
fn unreadable(line: u64, e: &csv::Error) -> BadRow {
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} field(s) where the header has {expected_len}"),
        other => format!("cannot read this row: {other:?}"),
    };
    BadRow {
        line: Some(line),
        field: None,
        message,
    }
}

fn read_json_lines(text: &str, columns: &Columns) -> Input {
    let digest = InputDigest::of(text);
    let mut bad = BadRows::default();
    let mut rows = Vec::new();
    // `lines` splits at LF and drops a CR before it: physical lines.
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let problem = |field: Option<&str>, message: String| BadRow {
            line: Some(line),
            field: field.map(str::to_owned),
            message,
        };
        let map = match serde_json::from_str(raw) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                bad.push(problem(None, "expected a JSON object".into()));
                continue;
            }
            Err(e) => {
                // serde_json counts within this one line: give the column.
                let why = e.to_string();
                let why = why
                    .rsplit_once(" at line ")
                    .map_or(why.as_str(), |(why, _)| why);
                bad.push(problem(
                    None,
                    format!("not a JSON object: {why} (column {})", e.column()),
                ));
                continue;
            }
        };
        let before = bad.total();
        let mut names = Vec::with_capacity(map.len());
        let mut values = csv::StringRecord::new();
        for (k, v) in map {
            if !columns.knows(&k) {
                bad.push(problem(
                    Some(&k),
                    format!("unknown column; {}", columns.expected()),
                ));
                continue;
            }
            let v = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                other => {
                    bad.push(problem(
                        Some(&k),
                        format!("expected a string or a number, got {other}"),
                    ));
                    continue;
                }
            };
            values.push_field(&v);
            names.push(k);
        }
        if bad.total() == before {
            rows.push(Row::new(line, names.into(), values, Some(digest)));
        }
    }
    Input { rows, bad }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: Columns = Columns {
        required: &["sku", "qty"],
        optional: &["lot", "ref"],
    };

    fn messages(bad: &BadRows) -> Vec<String> {
        bad.rows().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn csv_and_json_lines_read_the_same() {
        let csv = read_csv("qty,sku,lot\n3,SKU-1,\n4,SKU-2,L1\n", &COLS).rows;
        let json = read_json_lines(
            "{\"sku\":\"SKU-1\",\"qty\":3}\n\n{\"sku\":\"SKU-2\",\"qty\":4,\"lot\":\"L1\"}\n",
            &COLS,
        )
        .rows;
        assert_eq!(csv.len(), 2);
        assert_eq!(csv[0].line, 2);
        assert_eq!(csv[1].get("lot"), "L1");
        assert_eq!(csv[0].opt("lot"), None);
        assert_eq!(json[1].line, 3);
        assert_eq!(csv[1].canonical(), json[1].canonical());
    }

    /// Rows keep the file's columns by index: a blank value is an absent
    /// one, a column named twice gives its last non-blank value (as the
    /// map of fields rows were before), and the GS byte in a value is kept.
    #[test]
    fn fields_are_found_by_column_name() {
        let cols = Columns {
            required: &["sku", "qty"],
            optional: &["lot", "ref"],
        };
        let text =
            "sku,qty,lot,lot\r\n(01)05790000100095(10)L1\u{1d}(17)280115, 3 ,,L2\r\nB,4,L3,\r\n";
        let rows = read_csv(text, &cols).rows;
        assert_eq!(
            rows[0].get("sku"),
            "(01)05790000100095(10)L1\u{1d}(17)280115"
        );
        assert_eq!(rows[0].get("qty"), "3");
        assert_eq!(rows[0].get("lot"), "L2");
        assert_eq!(rows[1].get("lot"), "L3");
        assert_eq!(rows[1].opt("ref"), None);
        assert_eq!(rows[1].get("colour"), "");
        assert_eq!(rows[1].canonical(), "lot=L3\u{1f}qty=4\u{1f}sku=B");
        let flags = Row::from_flags(&[("sku", Some("A".into())), ("lot", Some(String::new()))]);
        assert_eq!((flags.get("sku"), flags.opt("lot")), ("A", None));
    }

    /// The csv reader numbers rows one too low after CRLF and skips blank
    /// lines in its count; a quoted field may hold line breaks.
    #[test]
    fn lines_are_physical_lines_with_lf_or_crlf() {
        let lf = "sku,qty\nA,1\n\nB,2\n\"C\nD\",3\nE,4\n";
        let crlf = lf.replace('\n', "\r\n");
        for text in [lf.to_owned(), crlf.clone(), format!("\u{feff}{crlf}")] {
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let lines: Vec<u64> = read_csv(text, &COLS).rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, [2, 4, 5, 7], "{text:?}");
        }
        let json = "{\"sku\":\"A\",\"qty\":1}\r\n\r\n{\"sku\":\"B\",\"qty\":2}\r\n";
        let lines: Vec<u64> = read_json_lines(json, &COLS)
            .rows
            .iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, [1, 3]);
    }

    #[test]
    fn every_unreadable_row_is_named_and_the_others_are_read() {
        let text = "sku,qty\r\nA,1\r\nB\r\nC,3\r\nD,4,x\r\nE,5\r\n";
        let input = read_csv(text, &COLS);
        assert_eq!(
            messages(&input.bad),
            [
                "line 3: has 1 field(s) where the header has 2",
                "line 5: has 3 field(s) where the header has 2",
            ]
        );
        let lines: Vec<u64> = input.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 4, 6]);

        let json = "{\"sku\":\"A\",\"qty\":1}\n{oops\n[1]\n{\"sku\":\"B\",\"qty\":[2],\"colour\":\"red\"}\n";
        let input = read_json_lines(json, &COLS);
        let got = messages(&input.bad);
        assert!(got[0].starts_with("line 2: not a JSON object: "), "{got:?}");
        assert!(got[0].ends_with("(column 2)"), "{got:?}");
        assert_eq!(got[1], "line 3: expected a JSON object");
        assert!(got[2].starts_with("line 4: colour: unknown column; expected sku,qty"));
        assert_eq!(
            got[3],
            "line 4: qty: expected a string or a number, got [2]"
        );
        assert_eq!(input.rows.len(), 1, "a bad line is not checked further");
    }

    #[test]
    fn a_bad_header_is_named_once_and_no_row_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.csv");
        std::fs::write(&f, "sku,quantity,colour\nS,1,red\nT,2,blue\n").unwrap();
        let input = read(f.to_str().unwrap(), &COLS).unwrap();
        assert!(input.rows.is_empty());
        assert_eq!(
            messages(&input.bad),
            [
                "line 1: quantity: unknown column; expected sku,qty (optional: lot,ref)",
                "line 1: colour: unknown column; expected sku,qty (optional: lot,ref)",
                "line 1: qty: missing column; expected sku,qty (optional: lot,ref)",
            ]
        );
    }

    #[test]
    fn an_input_that_cannot_be_read_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.csv");
        std::fs::write(&f, b"sku,qty\r\nS,1\r\nS\xff\xfe,1\n").unwrap();
        let err = read(f.to_str().unwrap(), &COLS).unwrap_err().to_string();
        assert!(err.starts_with("line 3: "), "{err}");
        assert!(err.contains("in.csv: not UTF-8 text"), "{err}");
        std::fs::write(&f, "sku,qty\r\n").unwrap();
        let err = read(f.to_str().unwrap(), &COLS).unwrap_err().to_string();
        assert!(err.ends_with("in.csv: the input has no rows"), "{err}");
    }

    /// The same rows saved by another editor are the same input; any change
    /// to them is another.
    #[test]
    fn the_input_digest_ignores_line_endings_only() {
        let lf = "sku,qty\nA,1\nB,2\n";
        let same = [
            lf.replace('\n', "\r\n"),
            lf.trim_end().to_owned(),
            format!("\u{feff}{lf}"),
            format!("{lf}\n\n"),
        ];
        for text in &same {
            assert_eq!(InputDigest::of(lf), InputDigest::of(text), "{text:?}");
        }
        for text in [
            "sku,qty\nA,1\nB,3\n",
            "sku,qty\nA,1\n\nB,2\n",
            "qty,sku\n1,A\n2,B\n",
        ] {
            assert_ne!(InputDigest::of(lf), InputDigest::of(text), "{text:?}");
        }
        let rows = read_csv(lf, &COLS).rows;
        assert!(rows.iter().all(|r| r.input() == Some(InputDigest::of(lf))));
        assert_eq!(Row::from_flags(&[("qty", Some("1".into()))]).input(), None);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Any text, as CSV or as JSON lines: rows and bad lines, each on a
        /// line of the text; never a panic.
        #[test]
        fn any_text_reads_into_rows_and_bad_lines(text in "\\PC{0,300}|[a-z,\"{}:\n\r0-9 -]{0,300}") {
            let physical = text.split('\n').count() as u64;
            for input in [read_csv(&text, &COLS), read_json_lines(&text, &COLS)] {
                for line in input.rows.iter().map(|r| r.line) {
                    proptest::prop_assert!((1..=physical).contains(&line), "{} of {}", line, physical);
                }
                for bad in input.bad.rows() {
                    let line = bad.line.unwrap_or(0);
                    proptest::prop_assert!((1..=physical).contains(&line), "{}", bad);
                }
            }
        }
    }
}
