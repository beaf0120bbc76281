//! GS1 barcode parsing (being written).
