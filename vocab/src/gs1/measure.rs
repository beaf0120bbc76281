//! Catch weight: the weight printed on a weighed case (AIs 310n and 320n
//! net, 330n and 340n gross) as a whole number in the unit an item is
//! stocked in, for items sold by weight.
//!
//! Quantities in pyck are integers in the item's base unit, so a weight
//! becomes one without floating point: the label's digits and decimals are
//! scaled exactly. Within one system (kg to g or kg, lb to lb) a weight that
//! is not a whole number of the unit is refused rather than rounded, since
//! that would record stock that is not there; across systems (lb to g, kg
//! to lb) no exact answer exists, so the result is rounded half to even to
//! the unit (1 lb is exactly 453.59237 g).

use super::{Ai, Element, Gs1, Gs1Error};

/// A unit of mass an item can be stocked in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightUnit {
    Gram,
    Kilogram,
    Pound,
}

impl WeightUnit {
    /// The weight unit an item's base unit of measure names, if it is one:
    /// `G`/`GRM`, `KG`/`KGM`, `LB`/`LBR` (UN/ECE Recommendation 20 codes and
    /// their common short forms), in any case. `EA`, `CS` and the like are
    /// no weight: such items are not sold by weight.
    pub fn from_uom(uom: &str) -> Option<Self> {
        match uom.trim().to_ascii_uppercase().as_str() {
            "G" | "GR" | "GRM" => Some(Self::Gram),
            "KG" | "KGM" => Some(Self::Kilogram),
            "LB" | "LBS" | "LBR" => Some(Self::Pound),
            _ => None,
        }
    }

    /// The unit's symbol, for messages.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Gram => "g",
            Self::Kilogram => "kg",
            Self::Pound => "lb",
        }
    }

    /// The unit in micrograms as a fraction `numerator / denominator`, so
    /// that conversions stay exact integers.
    fn in_micrograms(self) -> (i128, i128) {
        match self {
            Self::Gram => (1_000_000, 1),
            Self::Kilogram => (1_000_000_000, 1),
            // 453.59237 g exactly.
            Self::Pound => (453_592_370, 1),
        }
    }

    fn is_metric(self) -> bool {
        !matches!(self, Self::Pound)
    }
}

/// The unit a weight AI is printed in: 310n and 330n kilograms, 320n and
/// 340n pounds.
fn label_unit(ai: Ai) -> Option<WeightUnit> {
    match ai.code().get(..3)? {
        "310" | "330" => Some(WeightUnit::Kilogram),
        "320" | "340" => Some(WeightUnit::Pound),
        _ => None,
    }
}

impl Gs1 {
    /// The weighed case's weight in `unit` as a whole number: the net
    /// weight (310n, 320n), else the gross weight (330n, 340n); `None` when
    /// the label carries no weight. An error when the weight is not a whole
    /// number of a metric unit from a metric label, or of pounds from a
    /// pound label (the item's unit is then too coarse for the label).
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use pyck_vocab::gs1::{WeightUnit, parse};
    ///
    /// let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    /// let case = parse("(01)09501101530003(3103)001234", today).unwrap();
    /// assert_eq!(case.weight_in(WeightUnit::Gram), Some(Ok(1234)));
    /// assert!(case.weight_in(WeightUnit::Kilogram).unwrap().is_err());
    /// ```
    pub fn weight_in(&self, unit: WeightUnit) -> Option<Result<i64, Gs1Error>> {
        let net = |e: &&Element| matches!(e.ai().code().get(..3), Some("310" | "320"));
        let gross = |e: &&Element| matches!(e.ai().code().get(..3), Some("330" | "340"));
        let element = self
            .elements
            .iter()
            .find(net)
            .or_else(|| self.elements.iter().find(gross))?;
        Some(convert(element, unit))
    }
}

impl Gs1 {
    /// The quantity a label gives for an item stocked in `uom`: for an
    /// item stocked by weight, the label's weight in that unit
    /// ([`Gs1::weight_in`]); else, or when the label carries no weight, its
    /// count of trade items (30) or (37). `None` when it carries neither.
    /// The scanner UI and the recording commands both take a quantity not
    /// entered from here.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use pyck_vocab::gs1::parse;
    ///
    /// let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    /// let case = parse("(01)09501101530003(30)12(3103)005310", today).unwrap();
    /// assert_eq!(case.quantity_for("EA"), Some(Ok(12)));
    /// assert_eq!(case.quantity_for("G"), Some(Ok(5310)));
    /// assert_eq!(parse("(01)09501101530003", today).unwrap().quantity_for("EA"), None);
    /// ```
    pub fn quantity_for(&self, uom: &str) -> Option<Result<i64, Gs1Error>> {
        let weight = WeightUnit::from_uom(uom).and_then(|unit| self.weight_in(unit));
        weight.or_else(|| self.count().map(|c| Ok(i64::from(c))))
    }
}

fn convert(element: &Element, unit: WeightUnit) -> Result<i64, Gs1Error> {
    let from = label_unit(element.ai()).ok_or(Gs1Error::Invalid {
        ai: element.ai(),
        problem: "not a weight",
    })?;
    let (raw, decimals) = element.decimal().ok_or(Gs1Error::Invalid {
        ai: element.ai(),
        problem: "not a number",
    })?;
    // value = raw / 10^decimals [from]; in [unit]:
    // raw * from_ug / (10^decimals * unit_ug)
    let (from_ug, _) = from.in_micrograms();
    let (unit_ug, _) = unit.in_micrograms();
    let numerator = i128::from(raw) * from_ug;
    let denominator = 10i128.pow(decimals) * unit_ug;
    let whole = numerator / denominator;
    let rest = numerator % denominator;
    let value = if rest == 0 {
        whole
    } else if from.is_metric() == unit.is_metric() {
        return Err(Gs1Error::WeightNotWhole {
            ai: element.ai(),
            unit: unit.symbol(),
        });
    } else {
        // Half to even.
        match (2 * rest).cmp(&denominator) {
            std::cmp::Ordering::Less => whole,
            std::cmp::Ordering::Greater => whole + 1,
            std::cmp::Ordering::Equal => whole + (whole % 2),
        }
    };
    i64::try_from(value).map_err(|_| Gs1Error::Invalid {
        ai: element.ai(),
        problem: "weight out of range",
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::NaiveDate;

    use super::super::parse;
    use super::*;

    fn weight(scan: &str, unit: WeightUnit) -> Option<Result<i64, Gs1Error>> {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        parse(scan, today).unwrap().weight_in(unit)
    }

    const GTIN: &str = "(01)09501101530003";

    #[test]
    fn metric_labels_into_metric_units_are_exact() {
        use WeightUnit::*;
        assert_eq!(weight(&format!("{GTIN}(3103)001234"), Gram), Some(Ok(1234)));
        assert_eq!(
            weight(&format!("{GTIN}(3100)000012"), Kilogram),
            Some(Ok(12))
        );
        assert_eq!(
            weight(&format!("{GTIN}(3101)000120"), Kilogram),
            Some(Ok(12))
        );
        assert_eq!(weight(&format!("{GTIN}(3105)123400"), Gram), Some(Ok(1234)));
        // 1.234 kg is no whole kilogram, 1.23456 kg no whole gram: refused.
        assert!(matches!(
            weight(&format!("{GTIN}(3103)001234"), Kilogram),
            Some(Err(Gs1Error::WeightNotWhole { .. }))
        ));
        assert!(matches!(
            weight(&format!("{GTIN}(3105)123456"), Gram),
            Some(Err(Gs1Error::WeightNotWhole { .. }))
        ));
    }

    #[test]
    fn pounds() {
        use WeightUnit::*;
        // 2.50 lb is no whole pound: refused.
        assert!(matches!(
            weight(&format!("{GTIN}(3202)000250"), Pound),
            Some(Err(Gs1Error::WeightNotWhole { unit: "lb", .. }))
        ));
        assert_eq!(weight(&format!("{GTIN}(3201)000250"), Pound), Some(Ok(25)));
        // 2.50 lb = 1133.980925 g: rounded to 1134 g.
        assert_eq!(weight(&format!("{GTIN}(3202)000250"), Gram), Some(Ok(1134)));
        // 1 kg = 2.2046… lb: rounded to 2 lb.
        assert_eq!(weight(&format!("{GTIN}(3100)000001"), Pound), Some(Ok(2)));
    }

    #[test]
    fn net_before_gross_and_no_weight_at_all() {
        use WeightUnit::*;
        let both = "(01)09501101530003(3302)000150(3103)001234";
        assert_eq!(weight(both, Gram), Some(Ok(1234)));
        assert_eq!(
            weight("(01)09501101530003(3302)000150", Gram),
            Some(Ok(1500))
        );
        assert_eq!(weight("(01)09501101530003(10)L1", Gram), None);
        assert_eq!(WeightUnit::from_uom("kgm"), Some(Kilogram));
        assert_eq!(WeightUnit::from_uom("EA"), None);
    }
}
