//! Closing an ASN: what arrived against what was expected.

use pyck_vocab::records::{AsnLineRecord, ExceptionKind, ExceptionRecord};

/// An exception a closed ASN line raises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discrepancy {
    pub kind: ExceptionKind,
    pub line: u32,
    pub sku: String,
    pub message: String,
}

/// Over-, under- and damaged receipts of the lines being closed, each an
/// exception naming the ASN, the line and the SKU.
pub fn close(lines: &[AsnLineRecord]) -> Vec<Discrepancy> {
    let mut out = Vec::new();
    for l in lines {
        let what = |kind: ExceptionKind, detail: String| Discrepancy {
            kind,
            line: l.line,
            sku: l.sku.clone(),
            message: format!("ASN {} line {} ({}): {detail}", l.asn, l.line, l.sku),
        };
        let good = l.received_qty;
        if good > l.expected_qty {
            out.push(what(
                ExceptionKind::OverReceipt,
                format!("received {good}, expected {}", l.expected_qty),
            ));
        } else if good + l.damaged_qty < l.expected_qty {
            out.push(what(
                ExceptionKind::UnderReceipt,
                format!(
                    "received {good}{}, expected {}",
                    if l.damaged_qty > 0 {
                        format!(" (+{} damaged)", l.damaged_qty)
                    } else {
                        String::new()
                    },
                    l.expected_qty
                ),
            ));
        }
        if l.damaged_qty > 0 {
            out.push(what(
                ExceptionKind::DamagedReceipt,
                format!("{} arrived damaged", l.damaged_qty),
            ));
        }
    }
    out
}

/// What a receipt on a closed line changes in the close's exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reconcile {
    /// A discrepancy the line has now and no open exception says.
    Raise(Discrepancy),
    /// An open exception that no longer says what arrived: settled, or
    /// superseded by a new one.
    Resolve { id: String, note: String },
}

/// A receipt reached a closed line: its over-, under- and damaged-receipt
/// exceptions are brought up to what arrived. `open` are the open
/// exceptions of the line's ASN and SKU. An exception whose figures changed
/// is resolved (note: what replaced it) and raised again with the new
/// figures; one the receipt settled (a shortfall filled) is resolved with
/// the figures that settled it; one still true is left alone.
pub fn reconcile(line: &AsnLineRecord, open: &[ExceptionRecord]) -> Vec<Reconcile> {
    let now = close(std::slice::from_ref(line));
    let mut out = Vec::new();
    for kind in [
        ExceptionKind::OverReceipt,
        ExceptionKind::UnderReceipt,
        ExceptionKind::DamagedReceipt,
    ] {
        let mut old: Vec<&ExceptionRecord> = open
            .iter()
            .filter(|e| e.kind == kind && e.sku.as_deref() == Some(line.sku.as_str()))
            .collect();
        old.sort_by(|a, b| a.id.cmp(&b.id));
        let new = now.iter().find(|d| d.kind == kind);
        if let Some(d) = new
            && old.iter().any(|e| e.message == d.message)
        {
            // Still true as it stands; any duplicates go.
            for e in old.iter().filter(|e| e.message != d.message) {
                out.push(Reconcile::Resolve {
                    id: e.id.clone(),
                    note: format!("superseded by a later receipt: {}", d.message),
                });
            }
            continue;
        }
        for e in &old {
            let note = match new {
                Some(d) => format!("superseded by a later receipt: {}", d.message),
                None => format!(
                    "settled by a later receipt: ASN {} line {} ({}) received {}{}, expected {}",
                    line.asn,
                    line.line,
                    line.sku,
                    line.received_qty,
                    if line.damaged_qty > 0 {
                        format!(" (+{} damaged)", line.damaged_qty)
                    } else {
                        String::new()
                    },
                    line.expected_qty
                ),
            };
            out.push(Reconcile::Resolve {
                id: e.id.clone(),
                note,
            });
        }
        if let Some(d) = new {
            out.push(Reconcile::Raise(d.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use pyck_vocab::records::ExceptionStatus;

    use super::*;

    fn line(line: u32, expected: i64, received: i64, damaged: i64) -> AsnLineRecord {
        AsnLineRecord {
            asn: "ASN-1".into(),
            line,
            sku: format!("SKU-{line}"),
            supplier: "S".into(),
            expected_qty: expected,
            received_qty: received,
            damaged_qty: damaged,
            closed: false,
        }
    }

    #[test]
    fn over_under_damaged_and_exact() {
        let found = close(&[
            line(1, 10, 12, 0),
            line(2, 10, 7, 0),
            line(3, 10, 8, 2),
            line(4, 10, 10, 0),
        ]);
        let kinds: Vec<_> = found.iter().map(|d| (d.line, d.kind.as_str())).collect();
        assert_eq!(
            kinds,
            vec![
                (1, "over_receipt"),
                (2, "under_receipt"),
                (3, "damaged_receipt")
            ]
        );
        assert_eq!(
            found[1].message,
            "ASN ASN-1 line 2 (SKU-2): received 7, expected 10"
        );
    }

    #[test]
    fn short_and_damaged_is_both() {
        let found = close(&[line(1, 10, 5, 2)]);
        let kinds: Vec<_> = found.iter().map(|d| d.kind.as_str()).collect();
        assert_eq!(kinds, vec!["under_receipt", "damaged_receipt"]);
        assert!(
            found[0]
                .message
                .contains("received 5 (+2 damaged), expected 10")
        );
    }

    fn open(id: &str, kind: ExceptionKind, message: &str) -> ExceptionRecord {
        ExceptionRecord {
            id: id.into(),
            kind,
            status: ExceptionStatus::Open,
            message: message.into(),
            order: None,
            asn: Some("ASN-1".into()),
            location: None,
            sku: Some("SKU-1".into()),
            lot: None,
            raised_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_late_receipt_updates_or_settles_the_shortfall() {
        let was = open(
            "E1",
            ExceptionKind::UnderReceipt,
            "ASN ASN-1 line 1 (SKU-1): received 70, expected 100",
        );
        // 20 more: still short, by less.
        let changes = reconcile(&line(1, 100, 90, 0), std::slice::from_ref(&was));
        assert_eq!(
            changes,
            vec![
                Reconcile::Resolve {
                    id: "E1".into(),
                    note: "superseded by a later receipt: ASN ASN-1 line 1 (SKU-1): received 90, expected 100".into()
                },
                Reconcile::Raise(Discrepancy {
                    kind: ExceptionKind::UnderReceipt,
                    line: 1,
                    sku: "SKU-1".into(),
                    message: "ASN ASN-1 line 1 (SKU-1): received 90, expected 100".into()
                })
            ]
        );
        // The rest: settled.
        let changes = reconcile(&line(1, 100, 100, 0), std::slice::from_ref(&was));
        assert_eq!(
            changes,
            vec![Reconcile::Resolve {
                id: "E1".into(),
                note: "settled by a later receipt: ASN ASN-1 line 1 (SKU-1) received 100, expected 100".into()
            }]
        );
        // Beyond it: settled, and an over-receipt.
        let changes = reconcile(&line(1, 100, 104, 0), &[was]);
        let kinds: Vec<_> = changes
            .iter()
            .map(|c| match c {
                Reconcile::Raise(d) => d.kind.as_str(),
                Reconcile::Resolve { .. } => "resolve",
            })
            .collect();
        assert_eq!(kinds, vec!["over_receipt", "resolve"]);
    }

    #[test]
    fn an_exception_still_true_is_left_alone() {
        let still = open(
            "E1",
            ExceptionKind::DamagedReceipt,
            "ASN ASN-1 line 1 (SKU-1): 2 arrived damaged",
        );
        assert_eq!(reconcile(&line(1, 10, 8, 2), &[still]), vec![]);
    }
}
