//! `pyck scan`: what a scanned code means — a location, an item (by SKU or
//! GTIN), or a GS1 element string / Digital Link broken into fields.

use serde_json::{Value, json};

use super::Ctx;
use crate::error::invalid;
use crate::output;
use crate::store::replica;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The scanned code
    code: String,
    /// Print JSON
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<()> {
    let store = ctx.store()?;
    let meaning = interpret(store.conn(), args.code.trim())?;
    if args.json {
        return output::json(&meaning);
    }
    println!("{}", serde_json::to_string_pretty(&meaning)?);
    Ok(())
}

/// The meaning of a code, or invalid input (exit 3) when it means nothing.
pub fn interpret(conn: &rusqlite::Connection, code: &str) -> anyhow::Result<Value> {
    if code.is_empty() {
        return Err(invalid("empty scan"));
    }
    if let Some(loc) = replica::location(conn, code)? {
        return Ok(
            json!({"type": "location", "code": loc.code, "zone": loc.zone, "temperature": loc.temperature}),
        );
    }
    if let Some(item) = replica::item(conn, code)? {
        return Ok(json!({"type": "item", "sku": item.sku, "description": item.description}));
    }
    if code.bytes().all(|b| b.is_ascii_digit()) && pyck_sync::gs1::is_valid_gtin(code) {
        if let Some(sku) = replica::sku_by_gtin(conn, code)? {
            return Ok(json!({"type": "item", "sku": sku, "gtin": code}));
        }
        return Err(invalid(format!(
            "GTIN {code} belongs to no item known on this device"
        )));
    }
    if pyck_sync::gs1::looks_like_gs1(code) {
        let gs1 = pyck_sync::gs1::parse(code, chrono::Local::now().date_naive())
            .map_err(|e| invalid(format!("not a valid GS1 code: {e}")))?;
        let sku = match gs1.gtin() {
            Some(g) => replica::sku_by_gtin(conn, g)?,
            None => None,
        };
        let mut v = json!({"type": "gs1", "elements": gs1.elements});
        if let Some(sku) = sku {
            v["sku"] = json!(sku);
        }
        if let Some(lot) = gs1.lot() {
            v["lot"] = json!(lot);
        }
        if let Some(expiry) = gs1.expiry() {
            v["expiry"] = json!(expiry);
        }
        return Ok(v);
    }
    Err(invalid(format!(
        "{code:?} is no location, SKU, GTIN or GS1 code known on this device"
    )))
}
