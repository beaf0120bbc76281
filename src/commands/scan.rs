//! `pyck scan`: what a scanned code means — a location, an item (by SKU or
//! GTIN), or a GS1 element string / Digital Link broken into fields. A
//! scan with this site's GS substitute (`init --gs-substitute`) is read as
//! the scanner UI reads it. Text for people, `--json` for scripts.

use std::io::Write;

use serde_json::{Value, json};

use super::Ctx;
use crate::config::Config;
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
    // The site's substitute for the GS1 separator, as the scanner UI reads it.
    let config = Config::load(&ctx.paths)?;
    let code = match &config {
        Some(config) => config.normalize_scan(args.code.trim()),
        None => args.code.trim().into(),
    };
    let meaning = interpret(store.conn(), &code)?;
    if args.json {
        return output::json(&meaning);
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text(&meaning).as_bytes())?;
    Ok(())
}

/// The meaning for people, one fact a line:
///
/// ```text
/// location A-01-01 (zone A, ambient)
/// item SKU-10009 Tuna Chunks in Water 185g Can
/// (01) GTIN 05790000100095
/// (17) USE BY or EXPIRY 280115 = 2028-01-15
/// ```
fn text(meaning: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let mut lines = Vec::new();
    match meaning["type"].as_str() {
        Some("location") => lines.push(format!(
            "location {} (zone {}, {})",
            s(&meaning["code"]),
            s(&meaning["zone"]),
            s(&meaning["temperature"])
        )),
        Some("item") => {
            lines.push(item_line(meaning));
            if let Some(gtin) = meaning["gtin"].as_str() {
                lines.push(format!("GTIN {gtin}"));
            }
        }
        _ => {
            if meaning["sku"].is_string() {
                lines.push(item_line(meaning));
            } else {
                lines.push("GS1 code of no item known on this device".into());
            }
            for e in meaning["elements"].as_array().into_iter().flatten() {
                let mut line = format!("({}) {} {}", s(&e["ai"]), s(&e["title"]), s(&e["value"]));
                if let Some(date) = e["date"].as_str() {
                    line.push_str(&format!(" = {date}"));
                }
                if let Some(decimal) = e["decimal"].as_str() {
                    line.push_str(&format!(" = {decimal}"));
                }
                lines.push(line);
            }
        }
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn item_line(meaning: &Value) -> String {
    let sku = meaning["sku"].as_str().unwrap_or_default();
    match meaning["description"].as_str() {
        Some(d) => format!("item {sku} {d}"),
        None => format!("item {sku}"),
    }
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
    if code.bytes().all(|b| b.is_ascii_digit()) && pyck_vocab::gs1::is_valid_gtin(code) {
        if let Some(sku) = replica::sku_by_gtin(conn, code)? {
            let mut v = json!({"type": "item", "sku": sku, "gtin": code});
            if let Some(item) = replica::item(conn, &sku)? {
                v["description"] = json!(item.description);
            }
            return Ok(v);
        }
        return Err(invalid(format!(
            "GTIN {code} belongs to no item known on this device"
        )));
    }
    // After the location, SKU and GTIN look-ups, so that a bin or SKU that
    // happens to read as an element string stays what it is.
    if let Some(read) = pyck_vocab::gs1::read_scan(code, chrono::Local::now().date_naive()) {
        let gs1 = read.map_err(|e| invalid(format!("not a valid GS1 code: {e}")))?;
        let sku = match gs1.gtin() {
            Some(g) => replica::sku_by_gtin(conn, g)?,
            None => None,
        };
        let mut v = json!({"type": "gs1", "elements": gs1.elements});
        if let Some(sku) = sku {
            if let Some(item) = replica::item(conn, &sku)? {
                v["description"] = json!(item.description);
                // Catch weight: what a receipt or pick of this weighed case
                // records as its quantity, in the item's unit.
                if let Some(Ok(qty)) = pyck_vocab::gs1::WeightUnit::from_uom(&item.uom)
                    .and_then(|unit| gs1.weight_in(unit))
                {
                    v["weight"] = json!({"qty": qty, "uom": item.uom});
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_for_people_one_fact_a_line() {
        let location =
            json!({"type": "location", "code": "A-01-01", "zone": "A", "temperature": "ambient"});
        assert_eq!(text(&location), "location A-01-01 (zone A, ambient)\n");
        let item = json!({"type": "item", "sku": "SKU-10009", "gtin": "5790000100095", "description": "Tuna"});
        assert_eq!(text(&item), "item SKU-10009 Tuna\nGTIN 5790000100095\n");
        let gs1 = json!({"type": "gs1", "sku": "SKU-10009", "description": "Tuna", "lot": "L2650A",
        "elements": [
            {"ai": "01", "title": "GTIN", "value": "05790000100095"},
            {"ai": "10", "title": "BATCH/LOT", "value": "L2650A"},
            {"ai": "17", "title": "USE BY or EXPIRY", "value": "280115", "date": "2028-01-15"},
        ]});
        assert_eq!(
            text(&gs1),
            "item SKU-10009 Tuna\n(01) GTIN 05790000100095\n(10) BATCH/LOT L2650A\n(17) USE BY or EXPIRY 280115 = 2028-01-15\n"
        );
        let weighed = json!({"type": "gs1", "elements": [
            {"ai": "3103", "title": "NET WEIGHT (kg)", "value": "000189", "decimal": "0.189"},
        ]});
        assert!(text(&weighed).ends_with("(3103) NET WEIGHT (kg) 000189 = 0.189\n"));
        let unknown =
            json!({"type": "gs1", "elements": [{"ai": "00", "title": "SSCC", "value": "1"}]});
        assert!(text(&unknown).starts_with("GS1 code of no item known"));
    }
}
