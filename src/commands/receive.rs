//! `pyck receive`: receipts against ASN lines, one from flags or many from a
//! file, and `pyck receive close`.

use clap::Subcommand;
use pyck_vocab::operation::{CloseAsn, Kind, Payload, Receive};

use super::Ctx;
use super::record::{self, Resolver};
use crate::checks::{self, Use};
use crate::error::invalid;
use crate::input::{self, Columns, Row};
use crate::store::attachments::Photo;
use crate::store::{Store, replica, work};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    close: Option<Close>,
    /// ASN (advance shipping notice) the goods arrived on
    #[arg(long)]
    asn: Option<String>,
    /// SKU or GTIN of the item
    #[arg(long)]
    sku: Option<String>,
    /// Units received in good condition; left out, the count (or, for an
    /// item stocked by weight, the weight) on a GS1 label given as --sku
    #[arg(long)]
    qty: Option<String>,
    /// Lot (required for lot-tracked items)
    #[arg(long)]
    lot: Option<String>,
    /// Expiry date YYYY-MM-DD (required for a new lot of an expiry-tracked item)
    #[arg(long)]
    expiry: Option<String>,
    /// Location the goods were put (usually a dock)
    #[arg(long)]
    to: Option<String>,
    /// Units that arrived damaged (recorded on the ASN line, not stocked)
    #[arg(long)]
    damaged: Option<String>,
    /// Idempotency key: a receipt with a key already in the journal is not recorded again
    #[arg(long = "ref")]
    reference: Option<String>,
    /// A photo of the goods (damage): JPEG, PNG, WebP or HEIC, at most 10 MiB;
    /// kept with the receipt, uploaded at the next sync
    #[arg(long)]
    photo: Option<std::path::PathBuf>,
    /// Many receipts from a CSV or JSON-lines file (`-` for stdin): columns
    /// asn,sku,qty,lot,expiry,to (+ optional damaged, ref)
    #[arg(long, conflicts_with_all = ["asn", "sku", "qty", "lot", "expiry", "to", "damaged", "reference", "photo"])]
    file: Option<String>,
    /// Print JSON
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Close {
    /// Close an ASN: nothing more is expected on it
    Close {
        /// The ASN to close
        #[arg(long)]
        asn: String,
    },
}

const COLUMNS: Columns = Columns {
    required: &["asn", "sku", "qty", "to"],
    optional: &["lot", "expiry", "damaged", "ref"],
};

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let mut store = ctx.store()?;
    if let Some(Close::Close { asn }) = args.close {
        let operator = record::operator(&store, Kind::CloseAsn)?;
        if replica::asn_lines(store.conn(), &asn)?.is_empty() {
            return Err(invalid(format!(
                "--asn: ASN {asn} is not known on this device (sync first)"
            )));
        }
        let draft = record::draft(Payload::CloseAsn(CloseAsn { asn }), &operator, None)?;
        return record::record_and_report(
            &mut store,
            Kind::CloseAsn,
            vec![(0, draft)],
            true,
            args.json,
        );
    }
    let operator = record::operator(&store, Kind::Receive)?;
    let (rows, mut bad, single) = match &args.file {
        Some(file) => {
            let input = crate::output::refused_input(args.json, input::read(file, &COLUMNS))?;
            (input.rows, input.bad, false)
        }
        None => {
            let row = Row::from_flags(&[
                ("asn", args.asn.clone()),
                ("sku", args.sku.clone()),
                ("qty", args.qty.clone()),
                ("lot", args.lot.clone()),
                ("expiry", args.expiry.clone()),
                ("to", args.to.clone()),
                ("damaged", args.damaged.clone()),
            ]);
            (vec![row], crate::error::BadRows::default(), true)
        }
    };
    // Check every row before recording any, and name every bad one.
    let mut drafts = Vec::with_capacity(rows.len());
    {
        let mut resolver = Resolver::new(&store);
        for row in &rows {
            let reference = if single {
                args.reference.clone().map(|r| format!("ref:{r}"))
            } else {
                record::reference(Kind::Receive, row)
            };
            let draft = receipt(&store, &mut resolver, row)
                .and_then(|payload| record::draft(payload, &operator, reference));
            match draft {
                Ok(draft) => drafts.push((row.line, draft)),
                Err(e) if single => return Err(e),
                Err(e) => bad.add(row.line, e)?,
            }
        }
    }
    crate::output::refused_input(args.json, bad.into_result().map_err(Into::into))?;
    if let (Some(path), Some((_, draft))) = (&args.photo, drafts.first_mut()) {
        draft.photo = Some(Photo::read(path, "--photo")?);
    }
    record::record_and_report(&mut store, Kind::Receive, drafts, single, args.json)
}

/// A receipt checked against the local view: what `pyck receive` and the
/// scanner UI both record. Refused on a closed ASN, into a bin of the wrong
/// temperature, and for good units of an expired lot: expired goods are
/// recorded as rejected (`--qty 0 --damaged N`), with the reason `expired`.
pub(crate) fn receipt(store: &Store, r: &mut Resolver<'_>, row: &Row) -> anyhow::Result<Payload> {
    let asn = r.code(row, "asn")?;
    let lines = work::asn(store.conn(), asn)?;
    if lines.is_empty() {
        return Err(row.error(
            "asn",
            format!("ASN {asn} is not known on this device (sync first)"),
        ));
    }
    checks::asn_open(asn, &lines).map_err(|w| row.error("asn", w))?;
    let item = r.item(row, "sku")?;
    // A label's count is the units that arrived: split into good and
    // damaged, both are given.
    let qty = if row.opt("damaged").is_some() {
        r.qty(row, "qty", true)?
    } else {
        r.labelled_qty(row, &item, true)?
    };
    let damaged = match row.opt("damaged") {
        Some(_) => r.qty(row, "damaged", true)?,
        None => 0,
    };
    if qty == 0 && damaged == 0 {
        return Err(row.error("qty", "a receipt needs at least 1 unit, good or damaged"));
    }
    let expiry = r.expiry(row, &item)?;
    let lot = r.lot(row, &item, Some(expiry))?;
    let mut damaged_reason = None;
    if let Some(lot) = &lot {
        let expiry = match expiry {
            Some(e) => Some(e),
            None => replica::lot_expiry(store.conn(), &item.sku, lot)?.flatten(),
        };
        if let Err(wrong) = checks::not_expired(lot, expiry, checks::today(), Use::Receipt) {
            if qty > 0 {
                return Err(row.error("expiry", format!("{wrong} (qty 0, damaged {qty})")));
            }
            damaged_reason = Some("expired".to_owned());
        }
    }
    let to = if qty > 0 {
        r.destination(row, "to", &item)?
    } else {
        r.location(row, "to")?
    };
    Ok(Payload::Receive(Receive {
        asn: asn.to_owned(),
        sku: item.sku.clone(),
        qty,
        lot,
        expiry,
        to,
        damaged,
        damaged_reason,
    }))
}
