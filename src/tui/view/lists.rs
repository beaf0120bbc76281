//! Lists to choose from: putaway tasks, exceptions, short-pick reasons.

use pyck_vocab::records::{ExceptionRecord, TaskRecord};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::wide;
use crate::tui::app::{Form, SHORT_REASONS};

fn row(text: String, selected: bool) -> Line<'static> {
    let marker = if selected { ">" } else { " " };
    let line = Line::from(format!("{marker}{text}"));
    if selected {
        line.style(Style::default().add_modifier(Modifier::REVERSED))
    } else {
        line
    }
}

/// Only as many rows as fit, scrolled so the selected one shows.
fn window(total: usize, selected: usize, room: usize) -> std::ops::Range<usize> {
    let room = room.max(1);
    let start = selected
        .saturating_sub(room - 1)
        .min(total.saturating_sub(room));
    start..total.min(start + room)
}

pub fn putaway(
    frame: &mut Frame,
    area: Rect,
    input: &str,
    tasks: &[TaskRecord],
    selected: usize,
) -> &'static str {
    let is_wide = wide(area);
    let mut rows = vec![row("0 Free putaway".into(), selected == 0)];
    for (i, t) in tasks.iter().enumerate() {
        let text = if is_wide {
            format!(
                "{} {:<10} {:<10} {:<8} → {:<10} {}",
                i + 1,
                t.location,
                t.sku.clone().unwrap_or_default(),
                t.lot.clone().unwrap_or_default(),
                t.to.clone().unwrap_or_else(|| "?".into()),
                t.qty - t.done_qty
            )
        } else {
            format!(
                "{} {} {} →{} {}",
                i + 1,
                t.location,
                t.sku.clone().unwrap_or_default(),
                t.to.clone().unwrap_or_else(|| "?".into()),
                t.qty - t.done_qty
            )
        };
        rows.push(row(text, selected == i + 1));
    }
    if tasks.is_empty() {
        rows.push(Line::from(" no open putaway tasks"));
    }
    let [list, entry] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let shown = window(rows.len(), selected, list.height as usize);
    frame.render_widget(Paragraph::new(rows[shown].to_vec()), list);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                format!("  [{input}_]"),
                Style::default().add_modifier(Modifier::REVERSED),
            ),
            Span::styled(" # or scan dock", Style::default().fg(Color::DarkGray)),
        ])),
        entry,
    );
    "↑↓ Enter: choose · Esc: back"
}

pub fn exceptions(
    frame: &mut Frame,
    area: Rect,
    list: &[ExceptionRecord],
    selected: usize,
) -> &'static str {
    if list.is_empty() {
        frame.render_widget(Paragraph::new(" no open exceptions"), area);
        return "Esc: back";
    }
    let is_wide = wide(area);
    let mut lines = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let text = if is_wide {
            format!("{:<18} {}", e.kind, e.message)
        } else {
            format!("{} {}", e.kind, e.message)
        };
        lines.push(row(text, i == selected));
    }
    let shown = window(lines.len(), selected, area.height as usize);
    frame.render_widget(
        Paragraph::new(lines[shown].to_vec()).wrap(Wrap { trim: false }),
        area,
    );
    "↑↓ Enter: resolve · Esc: back"
}

pub fn short(frame: &mut Frame, area: Rect, form: &Form, selected: usize) -> &'static str {
    let taken = form.get("qty").unwrap_or("0");
    let mut lines = vec![
        Line::from(format!(" Taken: {taken}. Why short?")),
        Line::from(""),
    ];
    for (i, r) in SHORT_REASONS.iter().enumerate() {
        lines.push(row(format!("{} {r}", i + 1), i == selected));
    }
    frame.render_widget(Paragraph::new(lines), area);
    "1-4 or ↑↓ Enter · Esc: back"
}
