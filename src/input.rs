//! Reading scripted input: CSV with a header row, or JSON lines (one object
//! per line, same keys), from a file or `-` for stdin.
//!
//! The whole input is read and checked before anything is recorded; an error
//! names the line, the field and what was expected.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::error::invalid;

/// One input row: its line number (1 is the CSV header) and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    fields: BTreeMap<String, String>,
}

impl Row {
    /// A field's value; empty when absent or blank.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// The row's fields in a stable order, for keys derived from content.
    pub fn canonical(&self) -> String {
        self.fields
            .iter()
            .filter(|(k, _)| k.as_str() != "ref")
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
            invalid(format!("line {}: {field}: {problem}", self.line))
        }
    }

    /// A row made of command-line flag values (line 0).
    pub fn from_flags(pairs: &[(&str, Option<String>)]) -> Row {
        Row {
            line: 0,
            fields: pairs
                .iter()
                .filter_map(|(k, v)| {
                    v.clone()
                        .filter(|v| !v.is_empty())
                        .map(|v| ((*k).to_owned(), v))
                })
                .collect(),
        }
    }
}

/// The columns a kind of input takes.
pub struct Columns {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

/// Reads and checks the shape of every row of `source` (`-` for stdin).
pub fn read(source: &str, columns: &Columns) -> anyhow::Result<Vec<Row>> {
    let (text, json) = if source == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        let text =
            String::from_utf8(buf).map_err(|e| invalid(format!("stdin is not UTF-8 text: {e}")))?;
        let json = text.trim_start().starts_with('{');
        (text, json)
    } else {
        let path = Path::new(source);
        let bytes =
            std::fs::read(path).map_err(|e| invalid(format!("{source}: cannot read: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|e| invalid(format!("{source}: not UTF-8 text: {e}")))?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let json = match ext {
            "csv" => false,
            "jsonl" | "ndjson" | "json" => true,
            _ => text.trim_start().starts_with('{'),
        };
        (text, json)
    };
    let rows = if json {
        read_json_lines(&text)?
    } else {
        read_csv(&text)?
    };
    for row in &rows {
        let unknown: Vec<&str> = row
            .fields
            .keys()
            .map(String::as_str)
            .filter(|k| !columns.required.contains(k) && !columns.optional.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(invalid(format!(
                "line {}: unknown column(s) {}; expected {} (optional: {})",
                row.line,
                unknown.join(", "),
                columns.required.join(","),
                columns.optional.join(",")
            )));
        }
    }
    Ok(rows)
}

fn read_csv(text: &str) -> anyhow::Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| invalid(format!("line 1: cannot read the header row: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            invalid(format!("line {line}: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let fields = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        rows.push(Row { line, fields });
    }
    Ok(rows)
}

fn read_json_lines(text: &str) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| invalid(format!("line {line}: not a JSON object: {e}")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(invalid(format!("line {line}: expected a JSON object")));
        };
        let mut fields = BTreeMap::new();
        for (k, v) in map {
            let v = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                other => {
                    return Err(invalid(format!(
                        "line {line}: {k}: expected a string or a number, got {other}"
                    )));
                }
            };
            fields.insert(k, v);
        }
        rows.push(Row { line, fields });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: Columns = Columns {
        required: &["sku", "qty"],
        optional: &["lot", "ref"],
    };

    #[test]
    fn csv_and_json_lines_read_the_same() {
        let csv = read_csv("qty,sku,lot\n3,SKU-1,\n4,SKU-2,L1\n").unwrap();
        let json = read_json_lines(
            "{\"sku\":\"SKU-1\",\"qty\":3}\n\n{\"sku\":\"SKU-2\",\"qty\":4,\"lot\":\"L1\"}\n",
        )
        .unwrap();
        assert_eq!(csv.len(), 2);
        assert_eq!(csv[0].line, 2);
        assert_eq!(csv[1].get("lot"), "L1");
        assert_eq!(csv[0].opt("lot"), None);
        assert_eq!(json[1].line, 3);
        assert_eq!(csv[1].canonical(), json[1].canonical());
    }

    #[test]
    fn unknown_columns_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.csv");
        std::fs::write(&f, "sku,qty,colour\nS,1,red\n").unwrap();
        let err = read(f.to_str().unwrap(), &COLS).unwrap_err().to_string();
        assert!(err.contains("line 2: unknown column(s) colour"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_utf8_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("in.csv");
        std::fs::write(&f, b"sku,qty\nS\xff\xfe,1\n").unwrap();
        let err = read(f.to_str().unwrap(), &COLS).unwrap_err().to_string();
        assert!(err.contains("in.csv: not UTF-8 text"), "{err}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

        /// Any text, as CSV or as JSON lines: rows or an error that names a
        /// line; never a panic.
        #[test]
        fn any_text_reads_or_names_the_line(text in "\\PC{0,300}|[a-z,\"{}:\n\r0-9 -]{0,300}") {
            for result in [read_csv(&text), read_json_lines(&text)] {
                match result {
                    Ok(rows) => proptest::prop_assert!(rows.iter().all(|r| r.line >= 1)),
                    Err(e) => {
                        let msg = e.to_string();
                        proptest::prop_assert!(msg.starts_with("line "), "{}", msg);
                    }
                }
            }
        }
    }

    #[test]
    fn bad_json_names_the_line() {
        let err = read_json_lines("{\"sku\":\"S\",\"qty\":1}\n{oops\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("line 2: not a JSON object"), "{err}");
    }
}
