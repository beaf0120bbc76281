//! Where received goods should go: a bin of the item's temperature zone.

use pyck_vocab::records::Temperature;

use super::allocation::walk_key;

/// A storage bin and what it holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub code: String,
    pub temperature: Temperature,
    /// SKUs with stock there.
    pub holds: Vec<String>,
}

/// A bin for `sku`: one of its temperature that already holds it (to keep
/// an item together), else the first empty one in walking order, else any
/// of its temperature. `None` when the warehouse has no bin of that
/// temperature.
pub fn suggest(sku: &str, temperature: Temperature, bins: &[Bin]) -> Option<String> {
    let mut fitting: Vec<&Bin> = bins
        .iter()
        .filter(|b| b.temperature == temperature)
        .collect();
    fitting.sort_by_key(|b| walk_key(&b.code));
    fitting
        .iter()
        .find(|b| b.holds.iter().any(|s| s == sku))
        .or_else(|| fitting.iter().find(|b| b.holds.is_empty()))
        .or_else(|| fitting.first())
        .map(|b| b.code.clone())
}

/// A move into a bin of another temperature than the item needs (frozen
/// goods into an ambient bin). Docks take anything.
pub fn temperature_breach(item: Temperature, bin: Temperature) -> bool {
    bin != Temperature::Dock && bin != item
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin(code: &str, t: Temperature, holds: &[&str]) -> Bin {
        Bin {
            code: code.into(),
            temperature: t,
            holds: holds.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn keeps_items_together_then_fills_empty_bins_in_walking_order() {
        let bins = [
            bin("F-01-02", Temperature::Frozen, &["SKU-9"]),
            bin("F-01-10", Temperature::Frozen, &[]),
            bin("F-01-3", Temperature::Frozen, &[]),
            bin("A-01-01", Temperature::Ambient, &[]),
            bin("F-02-01", Temperature::Frozen, &["SKU-1"]),
        ];
        assert_eq!(
            suggest("SKU-1", Temperature::Frozen, &bins).as_deref(),
            Some("F-02-01")
        );
        assert_eq!(
            suggest("SKU-2", Temperature::Frozen, &bins).as_deref(),
            Some("F-01-3")
        );
        assert_eq!(suggest("SKU-2", Temperature::Chilled, &bins), None);
    }

    #[test]
    fn breaches() {
        assert!(temperature_breach(
            Temperature::Frozen,
            Temperature::Ambient
        ));
        assert!(!temperature_breach(Temperature::Frozen, Temperature::Dock));
        assert!(!temperature_breach(
            Temperature::Chilled,
            Temperature::Chilled
        ));
    }
}
