//! What recording commands share: the logged-in operator, checking fields
//! against the replica, idempotency keys, recording all-or-nothing, and the
//! report.

use std::collections::HashMap;
use std::rc::Rc;

use chrono::NaiveDate;
use pyck_vocab::operation::Kind;
use pyck_vocab::operation::Payload;
use pyck_vocab::records::LocationRecord;
use pyck_vocab::refusal::{Refusal, RefusalCode};
use pyck_vocab::rules::{Tracking, lot_problem};
use pyck_vocab::validate;
use serde::Serialize;

use crate::checks;
use crate::error::CliError;
use crate::input::Row;
use crate::output;
use crate::store::journal::{self, Draft, Recorded};
use crate::store::session::{self, Operator};
use crate::store::{Store, replica};

/// The operator logged in on this device, allowed to record `kind`.
pub fn operator(store: &Store, kind: Kind) -> anyhow::Result<Operator> {
    let op = session::current(store.conn())?.ok_or_else(|| {
        CliError::NotInitialised(
            "no operator is logged in: run `pyck login --badge B --pin P`".into(),
        )
    })?;
    if !op.role.may(kind) {
        return Err(CliError::Refused(Refusal::new(
            RefusalCode::Forbidden,
            format!("a {} may not record {kind}", op.role),
        ))
        .into());
    }
    Ok(op)
}

/// Checks fields of a row against the replica. Caches items and
/// locations, so a file of thousands of rows costs one lookup per distinct
/// SKU and location, and a row's lookups borrow its fields and share the
/// cached records (`Rc`) rather than copying them.
pub struct Resolver<'s> {
    store: &'s Store,
    items: HashMap<String, Option<Rc<replica::Item>>>,
    locations: HashMap<String, Option<Rc<LocationRecord>>>,
    /// The day labels' dates are read against: one for a whole run, and
    /// not the clock and `PYCK_TODAY` read twice per row.
    today: NaiveDate,
}

impl<'s> Resolver<'s> {
    pub fn new(store: &'s Store) -> Self {
        Self {
            store,
            items: HashMap::new(),
            locations: HashMap::new(),
            today: checks::today(),
        }
    }

    /// A SKU, or a GTIN of a known item.
    pub fn item(&mut self, row: &Row, field: &str) -> anyhow::Result<Rc<replica::Item>> {
        // A GS1 code may hold what a plain code may not: the GS byte that
        // ends a variable-length element.
        let value = match self.code(row, field) {
            Ok(value) => value,
            Err(_) if pyck_vocab::gs1::read_scan(row.get(field), self.today).is_some() => {
                row.get(field)
            }
            Err(e) => return Err(e),
        };
        if let Some(found) = self.items.get(value) {
            return found.clone().ok_or_else(|| unknown_item(row, field, value));
        }
        let conn = self.store.conn();
        let mut found = replica::item(conn, value)?;
        if found.is_none()
            && value.bytes().all(|b| b.is_ascii_digit())
            && let Some(sku) = replica::sku_by_gtin(conn, value)?
        {
            found = replica::item(conn, &sku)?;
        }
        // Then a GS1 code (bracketed, bare, Digital Link) naming the item by
        // its GTIN: what a scanner sends into the field. Its lot and expiry
        // stand in for the row's where the row gives none (`lot`, `date`).
        if found.is_none()
            && let Some(read) = pyck_vocab::gs1::read_scan(value, self.today)
        {
            let gs1 = read.map_err(|e| row.error(field, format!("not a valid GS1 code: {e}")))?;
            if let Some(sku) = match gs1.gtin() {
                Some(gtin) => replica::sku_by_gtin(conn, gtin)?,
                None => None,
            } {
                found = replica::item(conn, &sku)?;
            }
        }
        let found = found.map(Rc::new);
        self.items.insert(value.to_owned(), found.clone());
        found.ok_or_else(|| unknown_item(row, field, value))
    }

    /// A location known here, as stored (codes match without regard to
    /// case).
    pub fn location(&mut self, row: &Row, field: &str) -> anyhow::Result<String> {
        Ok(self.location_record(row, field)?.code.clone())
    }

    pub fn location_record(
        &mut self,
        row: &Row,
        field: &str,
    ) -> anyhow::Result<Rc<LocationRecord>> {
        let code = self.code(row, field)?;
        let found = match self.locations.get(code) {
            Some(found) => found.clone(),
            None => {
                let found = replica::location(self.store.conn(), code)?.map(Rc::new);
                self.locations.insert(code.to_owned(), found.clone());
                found
            }
        };
        found.ok_or_else(|| {
            row.error(
                field,
                format!("location {code} is not known on this device (sync, or check the label)"),
            )
        })
    }

    /// The bin goods of `item` go into: known here, and of their
    /// temperature (a dock takes anything).
    pub fn destination(
        &mut self,
        row: &Row,
        field: &str,
        item: &replica::Item,
    ) -> anyhow::Result<String> {
        let bin = self.location_record(row, field)?;
        checks::bin_temperature(&item.sku, item.temperature, &bin.code, bin.temperature)
            .map_err(|w| row.error(field, w))?;
        Ok(bin.code.clone())
    }

    /// A field holding a code, as the row gives it.
    pub fn code<'r>(&self, row: &'r Row, field: &str) -> anyhow::Result<&'r str> {
        let v = row.get(field);
        validate::code("value", v).map_err(|e| row.error(field, e.problem))?;
        Ok(v)
    }

    pub fn qty(&self, row: &Row, field: &str, zero_ok: bool) -> anyhow::Result<i64> {
        let v = row.get(field);
        let n: i64 = v
            .parse()
            .map_err(|_| row.error(field, format!("expected a whole number, got {v:?}")))?;
        let checked = if zero_ok {
            validate::non_negative_qty("value", n)
        } else {
            validate::positive_qty("value", n)
        };
        checked.map_err(|e| row.error(field, e.problem))?;
        Ok(n)
    }

    /// The quantity of a row whose SKU may be a GS1 label: the `qty` given,
    /// else the label's (its count (30)/(37), or for an item stocked by
    /// weight its weight in the item's unit, as the scanner UI takes it).
    /// A `qty` that differs from the label's is refused naming both.
    pub fn labelled_qty(
        &self,
        row: &Row,
        item: &replica::Item,
        zero_ok: bool,
    ) -> anyhow::Result<i64> {
        let on_label = self
            .label(row)
            .and_then(|g| g.quantity_for(&item.uom))
            .transpose()
            .map_err(|e| row.error("sku", e))?;
        match (row.opt("qty"), on_label) {
            (Some(_), None) => self.qty(row, "qty", zero_ok),
            (Some(given), Some(on_label)) => {
                let n = self.qty(row, "qty", zero_ok)?;
                if n != on_label {
                    return Err(row.error(
                        "qty",
                        format!(
                            "{given}, but the label given as the SKU says {on_label} {}: leave the quantity out to take the label's, or scan the right label",
                            item.uom
                        ),
                    ));
                }
                Ok(n)
            }
            (None, Some(on_label)) => {
                validate::positive_qty("value", on_label).map_err(|e| row.error("sku", e.problem))?;
                Ok(on_label)
            }
            (None, None) if self.label(row).is_some() => Err(row.error(
                "qty",
                "give the quantity: the label given as the SKU carries no count (30)/(37) or weight",
            )),
            (None, None) => Err(row.error("qty", "give the quantity")),
        }
    }

    /// The GS1 label given as the row's SKU, if it is one that reads.
    fn label(&self, row: &Row) -> Option<pyck_vocab::gs1::Gs1> {
        pyck_vocab::gs1::read_scan(row.opt("sku")?, self.today)?.ok()
    }

    pub fn date(&self, row: &Row, field: &str) -> anyhow::Result<Option<NaiveDate>> {
        match row.opt(field) {
            None => Ok(None),
            Some(v) => validate::date("value", v)
                .map(Some)
                .map_err(|e| row.error(field, e.problem)),
        }
    }

    /// The expiry to record: the row's, else, for an item whose lots carry one,
    /// the one on a GS1 label given as the SKU.
    pub fn expiry(&self, row: &Row, item: &replica::Item) -> anyhow::Result<Option<NaiveDate>> {
        Ok(match self.date(row, "expiry")? {
            Some(given) => Some(given),
            None if item.expiry_tracked && item.lot_tracked => {
                self.label(row).and_then(|g| g.expiry())
            }
            None => None,
        })
    }

    /// The lot to record, by the lot rule (`rules::lot_problem`), which also
    /// judges `expiry` when the row may carry one.
    pub fn lot(
        &self,
        row: &Row,
        item: &replica::Item,
        expiry: Option<Option<NaiveDate>>,
    ) -> anyhow::Result<Option<String>> {
        // A lot not given is the one on a GS1 label given as the SKU; one
        // given must be the label's.
        let labelled = self.label(row).and_then(|g| g.lot().map(str::to_owned));
        if let (Some(given), Some(on_label)) = (row.opt("lot"), &labelled)
            && given != on_label
        {
            return Err(row.error(
                "lot",
                format!("lot {given}, but the label given as the SKU says lot {on_label}"),
            ));
        }
        let lot = row
            .opt("lot")
            .or(labelled.as_deref().filter(|_| item.lot_tracked));
        if let Some(lot) = lot {
            validate::code("value", lot).map_err(|e| row.error("lot", e.problem))?;
        }
        let tracking = Tracking {
            lots: item.lot_tracked,
            expiry: item.expiry_tracked,
        };
        // A row that cannot carry an expiry (`expiry` is None: a move, a
        // pick) books a known lot or none; only a receipt brings new lots.
        let is_new = |lot: &str| -> anyhow::Result<bool> {
            Ok(expiry.is_some()
                && replica::lot_expiry(self.store.conn(), &item.sku, lot)?.is_none())
        };
        let given = matches!(expiry, Some(Some(_)));
        if let Some(problem) = lot_problem(tracking, lot, given, is_new)? {
            return Err(row.error(problem.field(), problem.message(&item.sku, lot)));
        }
        Ok(lot.map(str::to_owned))
    }
}

fn unknown_item(row: &Row, field: &str, value: &str) -> anyhow::Error {
    row.error(
        field,
        format!("no item with SKU or GTIN {value} on this device (sync, or check the code)"),
    )
}

/// The idempotency key of a scripted row: its `ref`, or one made of the
/// digest of the whole input and the row's line in it. The same input run
/// again (saved with CRLF or LF alike) finds every row's key and records
/// nothing; any other input has other keys, so a row equal to one of an
/// earlier file at the same line is still recorded (docs/SCRIPTING.md). A
/// row of command-line flags has neither and gets no key: each command is
/// a new fact.
pub fn reference(kind: Kind, row: &Row) -> Option<String> {
    match (row.opt("ref"), row.input()) {
        (Some(r), _) => Some(format!("ref:{r}")),
        // Keys made before issue 18 were `auto:` and 32 hex digits of the
        // kind, line and content; these cannot be mistaken for them.
        (None, Some(input)) => Some(format!("auto:{kind}:{input}:{}", row.line)),
        (None, None) => None,
    }
}

/// One row's outcome in a scripted run.
#[derive(Debug, Serialize)]
pub struct RowOutcome {
    pub line: u64,
    #[serde(flatten)]
    pub recorded: Recorded,
}

/// Records drafts all-or-nothing and reports: JSON (an array for files, one
/// object for a single operation) or a sentence.
pub fn record_and_report(
    store: &mut Store,
    kind: Kind,
    rows: Vec<(u64, Draft)>,
    single: bool,
    json: bool,
) -> anyhow::Result<()> {
    let (lines, drafts): (Vec<u64>, Vec<Draft>) = rows.into_iter().unzip();
    let recorded = journal::record_all(store, &drafts)?;
    let outcomes: Vec<RowOutcome> = lines
        .into_iter()
        .zip(recorded)
        .map(|(line, recorded)| RowOutcome { line, recorded })
        .collect();
    let (new, old) = outcomes.iter().fold((0, 0), |(n, o), r| match r.recorded {
        Recorded::Recorded { .. } => (n + 1, o),
        Recorded::AlreadyRecorded { .. } => (n, o + 1),
    });
    if json {
        if single {
            return output::json(&outcomes[0].recorded);
        }
        return output::json(&outcomes);
    }
    if single {
        match outcomes[0].recorded {
            Recorded::Recorded { seq } => println!("recorded {kind} #{seq} (pending sync)"),
            Recorded::AlreadyRecorded { seq } => println!("already recorded as #{seq}"),
        }
    } else {
        println!("recorded {new} {kind} operation(s); {old} already recorded");
        for r in &outcomes {
            if let Recorded::AlreadyRecorded { seq } = r.recorded {
                println!("line {}: already recorded as #{seq}", r.line);
            }
        }
    }
    Ok(())
}

/// A draft for the current operator.
pub fn draft(
    payload: Payload,
    operator: &Operator,
    reference: Option<String>,
) -> anyhow::Result<Draft> {
    payload
        .validate()
        .map_err(|e| CliError::Invalid(e.to_string()))?;
    Ok(Draft {
        payload,
        operator: operator.badge.clone(),
        reference,
        photo: None,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::Resolver;
    use crate::input::Row;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store.sqlite3")).unwrap();
        (dir, store)
    }

    /// Monday's and Tuesday's files share line 3: each records it; the same
    /// file again, in LF or CRLF, records nothing; `ref`s are kept as given.
    #[test]
    fn automatic_keys_tell_inputs_apart_and_find_the_same_one() {
        use pyck_vocab::operation::Kind;

        let cols = crate::input::Columns {
            required: &["sku", "qty"],
            optional: &["ref"],
        };
        let dir = tempfile::tempdir().unwrap();
        let keys = |name: &str, text: &str| -> Vec<Option<String>> {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            let input = crate::input::read(path.to_str().unwrap(), &cols).unwrap();
            assert!(input.bad.is_empty());
            input
                .rows
                .iter()
                .map(|r| super::reference(Kind::Move, r))
                .collect()
        };
        let monday = keys("monday.csv", "sku,qty\nA,1\nB,2\n");
        let tuesday = keys("tuesday.csv", "sku,qty\nC,5\nB,2\n");
        assert_ne!(monday[1], tuesday[1], "an equal line 3 of another file");
        assert_eq!(monday, keys("again.csv", "sku,qty\nA,1\nB,2\n"));
        assert_eq!(monday, keys("crlf.csv", "sku,qty\r\nA,1\r\nB,2\r\n"));
        assert!(
            monday
                .iter()
                .all(|k| k.as_deref().unwrap().starts_with("auto:move:"))
        );
        let with_refs = keys("refs.csv", "sku,qty,ref\nA,1,r-1\nB,2,\n");
        assert_eq!(with_refs[0].as_deref(), Some("ref:r-1"));
        assert!(with_refs[1].as_deref().unwrap().starts_with("auto:"));
        let flags = Row::from_flags(&[("sku", Some("A".into())), ("qty", Some("1".into()))]);
        assert_eq!(super::reference(Kind::Move, &flags), None);
    }

    #[test]
    fn quantities_and_dates_that_cannot_be_are_named() {
        let (_dir, store) = store();
        let r = Resolver::new(&store);
        let row = |qty: &str, expiry: &str| {
            Row::from_flags(&[("qty", Some(qty.into())), ("expiry", Some(expiry.into()))])
        };
        for (qty, why) in [
            ("-5", "--qty:"),
            ("0", "--qty:"),
            ("9223372036854775808", "expected a whole number"),
            ("1000000001", "--qty:"),
            ("2.5", "expected a whole number"),
            ("", "expected a whole number"),
        ] {
            let err = r.qty(&row(qty, "2027-01-31"), "qty", false).unwrap_err();
            assert!(err.to_string().contains(why), "{qty:?}: {err}");
        }
        for date in [
            "2027-02-30",
            "2026-13-01",
            "27-01-31",
            "2027/01/31",
            "tomorrow",
        ] {
            let err = r.date(&row("1", date), "expiry").unwrap_err().to_string();
            assert!(
                err.starts_with("--expiry: expected a real date"),
                "{date:?}: {err}"
            );
        }
        assert_eq!(r.qty(&row("12", "2027-01-31"), "qty", false).unwrap(), 12);
    }

    /// Whatever a script puts in a quantity or date column: a value in
    /// range, or an error naming the line and the column. 2,000 cases.
    #[test]
    fn any_quantity_or_date_is_checked() {
        let (_dir, store) = store();
        let r = Resolver::new(&store);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 2_000,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        let inputs = (
            "\\PC{0,24}|-?[0-9]{1,22}",
            "\\PC{0,12}|[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,3}",
        );
        runner
            .run(&inputs, |(qty, date)| {
                let mut row =
                    Row::from_flags(&[("qty", Some(qty.clone())), ("expiry", Some(date.clone()))]);
                row.line = 7;
                match r.qty(&row, "qty", false) {
                    Ok(n) => prop_assert!((1..=pyck_vocab::validate::MAX_QTY).contains(&n)),
                    Err(e) => prop_assert!(e.to_string().starts_with("line 7: qty: "), "{}", e),
                }
                match r.date(&row, "expiry") {
                    Ok(d) => prop_assert_eq!(
                        d.map(|d| d.to_string()),
                        Some(date.clone()).filter(|s| !s.is_empty())
                    ),
                    Err(e) => prop_assert!(e.to_string().starts_with("line 7: expiry: "), "{}", e),
                }
                Ok(())
            })
            .unwrap();
    }
}
