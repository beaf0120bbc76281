//! Stock lookup: what is in a bin, or where an item is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::wide;
use crate::tui::app::{App, LookupResult};

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    result: Option<&LookupResult>,
) -> &'static str {
    let is_wide = wide(area);
    let mut lines = vec![
        Line::from(" Scan a bin, SKU, GTIN or GS1"),
        Line::from(Span::styled(
            format!("  [{}_]", app.input),
            Style::default().add_modifier(Modifier::REVERSED),
        )),
    ];
    if let Some(r) = result {
        lines.push(Line::from(Span::styled(
            format!(" {}", r.heading),
            Style::default().add_modifier(Modifier::BOLD),
        )));
        if r.rows.is_empty() {
            lines.push(Line::from(" nothing here"));
        }
        let head = if r.by_location { "SKU" } else { "BIN" };
        lines.push(Line::from(if is_wide {
            format!(" {head:<12} {:<10} {:<10} {:>6}", "LOT", "EXPIRY", "QTY")
        } else {
            format!(" {head:<10} {:<7} {:<10} {:>5}", "LOT", "EXPIRY", "QTY")
        }));
        // Room left for rows; the last line says how many more there are.
        let room = (area.height as usize).saturating_sub(lines.len());
        let scroll = r.scroll.min(r.rows.len().saturating_sub(1));
        let rest = r.rows.len().saturating_sub(scroll);
        let shown = if rest > room {
            room.saturating_sub(1)
        } else {
            rest
        };
        for row in r.rows.iter().skip(scroll).take(shown) {
            let key = if r.by_location {
                &row.sku
            } else {
                &row.location
            };
            let lot = row.lot.clone().unwrap_or_default();
            let expiry = row.expiry.map(|e| e.to_string()).unwrap_or_default();
            let text = if is_wide {
                format!(" {key:<12} {lot:<10} {expiry:<10} {:>6}", row.qty)
            } else {
                format!(" {key:<10} {lot:<7} {expiry:<10} {:>5}", row.qty)
            };
            lines.push(Line::from(text));
        }
        if shown < rest || scroll > 0 {
            lines.push(Line::from(Span::styled(
                format!(
                    " rows {}-{} of {} (↑↓)",
                    scroll + 1,
                    scroll + shown,
                    r.rows.len()
                ),
                Style::default().fg(Color::Yellow),
            )));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
    "Enter: look up · Esc: back"
}
