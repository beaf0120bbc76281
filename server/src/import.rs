//! Reading master data and opening state from the CSV files of an import
//! directory (formats in docs/IMPORT.md). Parsing and validation only: the whole
//! directory is read and checked before storage sees any of it, so a bad row
//! imports nothing.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use pyck_vocab::records::{ItemRecord, LocationRecord, Temperature};
use pyck_vocab::validate;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Header { file: String, message: String },
    #[error("{file} line {line}: {field}: {message}")]
    Row {
        file: String,
        line: u64,
        field: String,
        message: String,
    },
}

/// Opening stock of one (location, item, lot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpeningStock {
    pub location: String,
    pub sku: String,
    pub lot: Option<String>,
    pub expiry: Option<NaiveDate>,
    pub qty: i64,
    /// Where it came from, for error messages at import time.
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnLine {
    pub asn: String,
    pub line: u32,
    pub sku: String,
    pub expected_qty: i64,
    pub supplier: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub order: String,
    pub line: u32,
    pub sku: String,
    pub qty: i64,
    pub customer: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportData {
    pub items: Vec<ItemRecord>,
    pub locations: Vec<LocationRecord>,
    pub stock: Vec<OpeningStock>,
    pub asn_lines: Vec<AsnLine>,
    pub order_lines: Vec<OrderLine>,
    /// Files in the directory that are not import files.
    pub ignored: Vec<String>,
}

const FILES: [&str; 5] = [
    "items.csv",
    "locations.csv",
    "stock.csv",
    "asns.csv",
    "orders.csv",
];

/// Reads every known file of `dir`; absent files are skipped.
pub fn read_dir(dir: &Path) -> Result<ImportData, ImportError> {
    let mut data = ImportData::default();
    let entries = std::fs::read_dir(dir).map_err(|source| ImportError::Read {
        file: dir.to_owned(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !FILES.contains(&name.as_str()) {
            data.ignored.push(name);
        }
    }
    data.ignored.sort();
    if let Some(mut t) = Table::open(dir, "items.csv", &ITEM_COLUMNS)? {
        while let Some(row) = t.next()? {
            let gtins = row.get("gtin");
            let gtins: Vec<String> = gtins
                .split([';', ' '])
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect();
            for g in &gtins {
                if !pyck_vocab::gs1::is_valid_gtin(g) {
                    return Err(row.error(
                        "gtin",
                        format!("{g} is not a GTIN with a valid check digit"),
                    ));
                }
            }
            let temperature = row.temperature("temperature")?;
            if temperature == Temperature::Dock {
                return Err(row.error("temperature", "an item is ambient, chilled or frozen"));
            }
            data.items.push(ItemRecord {
                sku: row.code("sku")?,
                gtins,
                description: row.name("description")?,
                uom: row.code("uom")?,
                lot_tracked: row.bool("lot_tracked")?,
                expiry_tracked: row.bool("expiry_tracked")?,
                serial_tracked: false,
                temperature,
            });
        }
        t.no_duplicates(data.items.iter().map(|i| i.sku.clone()), "sku")?;
    }
    if let Some(mut t) = Table::open(dir, "locations.csv", &["code", "zone", "temperature"])? {
        while let Some(row) = t.next()? {
            data.locations.push(LocationRecord {
                code: row.code("code")?,
                zone: row.code("zone")?,
                temperature: row.temperature("temperature")?,
            });
        }
        t.no_duplicates(data.locations.iter().map(|l| l.code.clone()), "code")?;
    }
    if let Some(mut t) = Table::open(
        dir,
        "stock.csv",
        &["location", "sku", "lot", "expiry", "qty"],
    )? {
        while let Some(row) = t.next()? {
            data.stock.push(OpeningStock {
                location: row.code("location")?,
                sku: row.code("sku")?,
                lot: row.optional_code("lot")?,
                expiry: row.optional_date("expiry")?,
                qty: row.qty("qty", true)?,
                line: row.line,
            });
        }
        t.no_duplicates(
            data.stock.iter().map(|s| {
                format!(
                    "{}|{}|{}",
                    s.location,
                    s.sku,
                    s.lot.as_deref().unwrap_or("")
                )
            }),
            "location, sku, lot",
        )?;
    }
    if let Some(mut t) = Table::open(
        dir,
        "asns.csv",
        &["asn", "line", "sku", "expected_qty", "supplier"],
    )? {
        while let Some(row) = t.next()? {
            data.asn_lines.push(AsnLine {
                asn: row.code("asn")?,
                line: row.line_no("line")?,
                sku: row.code("sku")?,
                expected_qty: row.qty("expected_qty", false)?,
                supplier: row.name("supplier")?,
            });
        }
        t.no_duplicates(
            data.asn_lines
                .iter()
                .map(|l| format!("{}|{}", l.asn, l.line)),
            "asn, line",
        )?;
    }
    if let Some(mut t) = Table::open(
        dir,
        "orders.csv",
        &["order", "line", "sku", "qty", "customer"],
    )? {
        while let Some(row) = t.next()? {
            data.order_lines.push(OrderLine {
                order: row.code("order")?,
                line: row.line_no("line")?,
                sku: row.code("sku")?,
                qty: row.qty("qty", false)?,
                customer: row.name("customer")?,
            });
        }
        t.no_duplicates(
            data.order_lines
                .iter()
                .map(|l| format!("{}|{}", l.order, l.line)),
            "order, line",
        )?;
    }
    Ok(data)
}

const ITEM_COLUMNS: [&str; 7] = [
    "sku",
    "gtin",
    "description",
    "uom",
    "lot_tracked",
    "expiry_tracked",
    "temperature",
];

/// One CSV file with a checked header.
struct Table {
    file: &'static str,
    columns: Vec<String>,
    reader: csv::Reader<File>,
    record: csv::StringRecord,
}

struct Row<'t> {
    table: &'t Table,
    line: u64,
}

impl Table {
    fn open(
        dir: &Path,
        file: &'static str,
        expected: &[&str],
    ) -> Result<Option<Table>, ImportError> {
        let path = dir.join(file);
        let handle = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ImportError::Read { file: path, source }),
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(handle);
        let header_error = |message: String| ImportError::Header {
            file: file.to_owned(),
            message,
        };
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| header_error(format!("cannot read the header row: {e}")))?
            .iter()
            .map(str::to_owned)
            .collect();
        let unknown: Vec<&str> = columns
            .iter()
            .map(String::as_str)
            .filter(|c| !expected.contains(c))
            .collect();
        if !unknown.is_empty() {
            return Err(header_error(format!(
                "unknown column(s) {}; expected {}",
                unknown.join(", "),
                expected.join(",")
            )));
        }
        let missing: Vec<&str> = expected
            .iter()
            .copied()
            .filter(|c| !columns.iter().any(|h| h == c))
            .collect();
        if !missing.is_empty() {
            return Err(header_error(format!(
                "missing column(s) {}; expected {}",
                missing.join(", "),
                expected.join(",")
            )));
        }
        Ok(Some(Table {
            file,
            columns,
            reader,
            record: csv::StringRecord::new(),
        }))
    }

    fn next(&mut self) -> Result<Option<Row<'_>>, ImportError> {
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Ok(Some(Row { table: self, line }))
            }
            Err(e) => Err(ImportError::Row {
                file: self.file.to_owned(),
                line: e.position().map_or(0, |p| p.line()),
                field: "-".into(),
                message: e.to_string(),
            }),
        }
    }

    fn no_duplicates(
        &self,
        keys: impl Iterator<Item = String>,
        what: &str,
    ) -> Result<(), ImportError> {
        let mut seen = HashSet::new();
        for key in keys {
            if !seen.insert(key.clone()) {
                return Err(ImportError::Header {
                    file: self.file.to_owned(),
                    message: format!("{what} {key:?} appears twice"),
                });
            }
        }
        Ok(())
    }
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        let i = self.table.columns.iter().position(|c| c == column);
        i.and_then(|i| self.table.record.get(i)).unwrap_or("")
    }

    fn error(&self, field: &str, message: impl Into<String>) -> ImportError {
        ImportError::Row {
            file: self.table.file.to_owned(),
            line: self.line,
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn code(&self, column: &'static str) -> Result<String, ImportError> {
        let v = self.get(column);
        validate::code(column, v).map_err(|e| self.error(column, e.problem))?;
        Ok(v.to_owned())
    }

    /// A name people read (description, supplier, customer): bounded in
    /// length, no control characters.
    fn name(&self, column: &'static str) -> Result<String, ImportError> {
        let v = self.get(column);
        validate::name(column, v).map_err(|e| self.error(column, e.problem))?;
        Ok(v.to_owned())
    }

    fn optional_code(&self, column: &'static str) -> Result<Option<String>, ImportError> {
        if self.get(column).is_empty() {
            Ok(None)
        } else {
            self.code(column).map(Some)
        }
    }

    fn optional_date(&self, column: &'static str) -> Result<Option<NaiveDate>, ImportError> {
        let v = self.get(column);
        if v.is_empty() {
            return Ok(None);
        }
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| self.error(column, format!("{v:?} is not a real date YYYY-MM-DD")))
    }

    fn qty(&self, column: &'static str, zero_ok: bool) -> Result<i64, ImportError> {
        let v = self.get(column);
        let n: i64 = v
            .parse()
            .map_err(|_| self.error(column, format!("{v:?} is not a whole number")))?;
        let check = if zero_ok {
            validate::non_negative_qty(column, n)
        } else {
            validate::positive_qty(column, n)
        };
        check.map_err(|e| self.error(column, e.problem))?;
        Ok(n)
    }

    fn line_no(&self, column: &'static str) -> Result<u32, ImportError> {
        let v = self.get(column);
        v.parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| self.error(column, format!("{v:?} is not a line number (1, 2, …)")))
    }

    fn bool(&self, column: &'static str) -> Result<bool, ImportError> {
        match self.get(column) {
            "true" | "yes" | "1" => Ok(true),
            "false" | "no" | "0" | "" => Ok(false),
            v => Err(self.error(column, format!("{v:?} is not true or false"))),
        }
    }

    fn temperature(&self, column: &'static str) -> Result<Temperature, ImportError> {
        let v = self.get(column);
        Temperature::parse(v).ok_or_else(|| {
            self.error(
                column,
                format!("{v:?} is not one of ambient, chilled, frozen, dock"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
    }

    #[test]
    fn reads_the_demo_fixtures() {
        let data = read_dir(&fixtures()).unwrap();
        assert!(data.items.len() >= 50);
        assert!(data.locations.len() >= 200);
        assert!(!data.stock.is_empty());
        assert!(!data.asn_lines.is_empty());
        assert!(!data.order_lines.is_empty());
        assert!(data.ignored.contains(&"barcodes.csv".to_owned()));
    }

    #[test]
    fn a_bad_row_names_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("stock.csv"),
            "location,sku,lot,expiry,qty\nA-01,SKU-1,,,5\nA-02,SKU-1,,2027-02-30,5\n",
        )
        .unwrap();
        let err = read_dir(dir.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            "stock.csv line 3: expiry: \"2027-02-30\" is not a real date YYYY-MM-DD"
        );
    }

    #[test]
    fn names_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("orders.csv"),
            format!(
                "order,line,sku,qty,customer\nSO-1,1,SKU-1,5,{}\n",
                "x".repeat(201)
            ),
        )
        .unwrap();
        let err = read_dir(dir.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            "orders.csv line 2: customer: longer than 200 characters"
        );
    }

    #[test]
    fn unknown_columns_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("locations.csv"),
            "code,zone,temperature,colour\n",
        )
        .unwrap();
        let err = read_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("unknown column(s) colour"), "{err}");
    }
}
