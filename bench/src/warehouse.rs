//! A generated warehouse for the large scenarios (the CSV files of
//! `pyck-server import`), and the move files the terminals record.
//!
//! Deterministic: the same shape gives the same files, so runs compare.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// How big the generated warehouse is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub items: usize,
    pub locations: usize,
    pub stock_rows: usize,
}

/// Where a unit can be moved from: a stocked (location, SKU) pair.
#[derive(Debug, Clone)]
pub struct Stocked {
    pub location: String,
    pub sku: String,
}

/// One move of one unit.
#[derive(Debug, Clone)]
pub struct Move {
    pub sku: String,
    pub from: String,
    pub to: String,
}

impl Move {
    /// The operation's payload: one unit, no lot, no task, as the moves
    /// file records it.
    pub fn payload(&self) -> pyck_vocab::operation::Payload {
        pyck_vocab::operation::Payload::Move(pyck_vocab::operation::Move {
            sku: self.sku.clone(),
            lot: None,
            qty: 1,
            from: self.from.clone(),
            to: self.to.clone(),
            task: None,
        })
    }
}

pub struct Warehouse {
    pub dir: PathBuf,
    /// Every opening-stock row, in file order.
    pub stocked: Vec<Stocked>,
    /// Empty locations that moves go to (a packing zone).
    pub destinations: Vec<String>,
}

/// Opening quantity of every stock row: enough that no scenario's moves of
/// one unit empty a bin (an empty bin would raise exceptions and change
/// what is measured).
const OPENING_QTY: i64 = 5_000;

fn sku(i: usize) -> String {
    format!("SKU-{:06}", i)
}

fn gtin(i: usize) -> anyhow::Result<String> {
    // GS1 prefix 579 (Denmark), then the item number: 12 digits and a check digit.
    let body = format!("579{:09}", i);
    let check = pyck_vocab::gs1::gtin_check_digit(&body).context("GTIN body must be digits")?;
    Ok(format!("{body}{check}"))
}

fn location(i: usize) -> String {
    // Aisles of 50 bays.
    format!("A-{:03}-{:02}", i / 50, i % 50)
}

impl Warehouse {
    /// Writes items.csv, locations.csv and stock.csv into `dir`.
    pub fn generate(dir: &Path, shape: Shape) -> anyhow::Result<Warehouse> {
        anyhow::ensure!(
            shape.items > 0 && shape.locations > 0 && shape.stock_rows >= shape.locations,
            "a warehouse needs items, locations, and at least one stock row per location"
        );
        let per_location = shape.stock_rows.div_ceil(shape.locations);
        anyhow::ensure!(
            per_location <= shape.items,
            "more stock rows per location than items"
        );
        std::fs::create_dir_all(dir)?;

        let mut items =
            String::from("sku,gtin,description,uom,lot_tracked,expiry_tracked,temperature\n");
        for i in 0..shape.items {
            writeln!(
                items,
                "{},{},Generated item {i},EA,false,false,ambient",
                sku(i),
                gtin(i)?
            )?;
        }
        std::fs::write(dir.join("items.csv"), items)?;

        let destinations: Vec<String> = (0..(shape.locations / 20).max(10))
            .map(|i| format!("P-{i:04}"))
            .collect();
        let mut locations = String::from("code,zone,temperature\n");
        for i in 0..shape.locations {
            writeln!(locations, "{},AMB,ambient", location(i))?;
        }
        for d in &destinations {
            writeln!(locations, "{d},PACK,ambient")?;
        }
        std::fs::write(dir.join("locations.csv"), locations)?;

        let mut stock = String::from("location,sku,lot,expiry,qty\n");
        let mut stocked = Vec::with_capacity(shape.stock_rows);
        'rows: for l in 0..shape.locations {
            for j in 0..per_location {
                if stocked.len() == shape.stock_rows {
                    break 'rows;
                }
                let s = Stocked {
                    location: location(l),
                    sku: sku((l * per_location + j) % shape.items),
                };
                let qty = OPENING_QTY + ((l * 7 + j * 13) % 900) as i64;
                writeln!(stock, "{},{},,,{qty}", s.location, s.sku)?;
                stocked.push(s);
            }
        }
        std::fs::write(dir.join("stock.csv"), stock)?;
        Ok(Warehouse {
            dir: dir.to_owned(),
            stocked,
            destinations,
        })
    }

    /// `n` moves of one unit out of `keys` stocked pairs spread over the
    /// whole warehouse, each into a packing location: the pattern of a
    /// shift of putaways and replenishments. Touches `keys` source and at
    /// most `keys` destination stock records.
    pub fn spread(&self, n: usize, keys: usize, offset: usize) -> Vec<Move> {
        let keys = keys.clamp(1, self.stocked.len());
        (0..n)
            .map(|i| self.spread_move(keys, (offset + i) % keys))
            .collect()
    }

    /// Like [`Warehouse::spread`], but only keys `first..first + count` of
    /// the `keys` spread over the warehouse: one terminal's share of them.
    pub fn spread_window(&self, n: usize, keys: usize, first: usize, count: usize) -> Vec<Move> {
        let keys = keys.clamp(1, self.stocked.len());
        let count = count.max(1);
        (0..n)
            .map(|i| self.spread_move(keys, (first + i % count) % keys))
            .collect()
    }

    fn spread_move(&self, keys: usize, k: usize) -> Move {
        let stride = (self.stocked.len() / keys).max(1);
        let s = &self.stocked[(k * stride) % self.stocked.len()];
        Move {
            sku: s.sku.clone(),
            from: s.location.clone(),
            to: self.destinations[k % self.destinations.len()].clone(),
        }
    }

    /// `n` moves back and forth between `pairs` stocked bins and packing
    /// locations (out, then back): the ledger grows, the stock of a few
    /// records changes, and no bin ever runs empty.
    pub fn shuttle(&self, n: usize, pairs: usize, first_pair: usize) -> Vec<Move> {
        let pairs = pairs.clamp(1, self.stocked.len());
        (0..n)
            .map(|i| {
                let p = first_pair + i % pairs;
                let s = &self.stocked[p % self.stocked.len()];
                let there = self.destinations[p % self.destinations.len()].clone();
                let out = (i / pairs).is_multiple_of(2);
                let (from, to) = if out {
                    (s.location.clone(), there)
                } else {
                    (there, s.location.clone())
                };
                Move {
                    sku: s.sku.clone(),
                    from,
                    to,
                }
            })
            .collect()
    }
}

/// Writes moves as a `pyck move --file` CSV, each row with a `ref` unique
/// to `tag`, so files recorded one after another are new facts and not a
/// re-run of an earlier script.
pub fn write_moves(path: &Path, moves: &[Move], tag: &str) -> anyhow::Result<()> {
    let mut csv = String::with_capacity(moves.len() * 48);
    csv.push_str("sku,lot,qty,from,to,ref\n");
    for (i, m) in moves.iter().enumerate() {
        writeln!(csv, "{},,1,{},{},{tag}-{i}", m.sku, m.from, m.to)?;
    }
    std::fs::write(path, csv).with_context(|| format!("while writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_have_the_shape_and_valid_gtins() {
        let dir = tempfile::tempdir().unwrap();
        let shape = Shape {
            items: 30,
            locations: 10,
            stock_rows: 45,
        };
        let w = Warehouse::generate(dir.path(), shape).unwrap();
        let lines = |f: &str| {
            std::fs::read_to_string(dir.path().join(f))
                .unwrap()
                .lines()
                .count()
                - 1
        };
        assert_eq!(lines("items.csv"), 30);
        assert_eq!(lines("locations.csv"), 10 + w.destinations.len());
        assert_eq!(lines("stock.csv"), 45);
        assert_eq!(w.stocked.len(), 45);
        let items = std::fs::read_to_string(dir.path().join("items.csv")).unwrap();
        for row in items.lines().skip(1) {
            let gtin = row.split(',').nth(1).unwrap();
            assert!(pyck_vocab::gs1::is_valid_gtin(gtin), "{gtin}");
        }
        // (location, sku) pairs are unique, as the import requires.
        let mut keys: Vec<_> = w
            .stocked
            .iter()
            .map(|s| (s.location.clone(), s.sku.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 45);
    }

    #[test]
    fn shuttles_return_what_they_took() {
        let dir = tempfile::tempdir().unwrap();
        let shape = Shape {
            items: 5,
            locations: 5,
            stock_rows: 5,
        };
        let w = Warehouse::generate(dir.path(), shape).unwrap();
        let moves = w.shuttle(8, 2, 0);
        assert_eq!(moves[0].from, moves[2].to);
        assert_eq!(moves[0].to, moves[2].from);
        assert_eq!(w.spread(10, 3, 0).len(), 10);
    }
}
