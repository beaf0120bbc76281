//! Closing an ASN: what arrived against what was expected.

use pyck_sync::records::{AsnLineRecord, ExceptionKind};

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

#[cfg(test)]
mod tests {
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
}
