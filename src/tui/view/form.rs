//! Forms: the steps of a flow, the task card of a pick or putaway, and the
//! input line of the current step.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::wide;
use crate::tui::app::{App, FieldKind, Flow, Form};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, form: &Form) -> &'static str {
    let is_wide = wide(area);
    let mut lines: Vec<Line> = Vec::new();
    if let Some(task) = &form.task {
        let bold = Style::default().add_modifier(Modifier::BOLD);
        match form.flow {
            Flow::Pick => {
                // Where, how many of what, for which order: all a picker
                // needs before the first scan, at 40 columns too.
                let unit = form
                    .task_item
                    .as_ref()
                    .map(|i| format!(" {}", i.uom))
                    .unwrap_or_default();
                lines.push(Line::from(vec![
                    Span::raw(" Go to "),
                    Span::styled(task.location.clone(), bold.fg(Color::Cyan)),
                    Span::raw(format!(
                        "  take {}{unit}",
                        (task.qty - task.done_qty).max(0)
                    )),
                ]));
                lines.push(Line::from(format!(
                    " {} {}",
                    task.sku.clone().unwrap_or_default(),
                    task.lot
                        .as_ref()
                        .map(|l| format!("lot {l}"))
                        .unwrap_or_default(),
                )));
                if let Some(item) = &form.task_item {
                    lines.push(
                        Line::from(format!(" {}", item.description))
                            .style(Style::default().fg(Color::DarkGray)),
                    );
                }
                lines.push(Line::from(format!(
                    " order {} line {}",
                    task.order.clone().unwrap_or_default(),
                    task.line.unwrap_or(0)
                )));
            }
            _ => {
                lines.push(Line::from(vec![
                    Span::raw(" Task: "),
                    Span::styled(task.location.clone(), bold.fg(Color::Cyan)),
                    Span::raw(format!(
                        " → {}  {}",
                        task.to.clone().unwrap_or_else(|| "?".into()),
                        (task.qty - task.done_qty).max(0)
                    )),
                ]));
            }
        }
    }
    if let Some(hint) = &form.hint {
        // "!" marks a warning (an item the ASN does not list).
        let style = if hint.starts_with('!') {
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(Color::Cyan)
        };
        lines.push(Line::from(format!(" {hint}")).style(style));
    }
    if let Some(item) = &form.item
        && form.task_item.is_none()
        && (is_wide || form.task.is_none())
    {
        lines.push(
            Line::from(format!(" {}", item.description))
                .style(Style::default().fg(Color::DarkGray)),
        );
    }
    let label_width = if is_wide { 10 } else { 8 };
    for (i, f) in form.fields.iter().enumerate() {
        if f.skip {
            continue;
        }
        let current = i == form.step;
        let marker = if current { ">" } else { " " };
        let value = match (&f.value, f.kind) {
            (Some(_), FieldKind::Pin) => "****".to_owned(),
            (Some(v), _) => v.clone(),
            (None, _) if current => String::new(),
            (None, _) => match (&f.expect, &f.default) {
                (Some(e), _) if is_wide => format!("(scan {e})"),
                (_, Some(d)) if is_wide => format!("({d})"),
                _ => String::new(),
            },
        };
        let style = if current {
            Style::default()
                .add_modifier(Modifier::BOLD)
                .fg(Color::Yellow)
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{:<label_width$} ", f.label), style),
            Span::raw(value),
        ]));
        if current {
            let shown = if f.kind == FieldKind::Pin {
                "*".repeat(app.input.chars().count())
            } else {
                app.input.clone()
            };
            let suggested = form
                .task
                .as_ref()
                .and_then(|t| t.to.as_ref())
                .filter(|_| f.name == "to" && form.flow == Flow::Putaway);
            let hint = match (&f.expect, &f.default, f.kind) {
                (Some(e), _, FieldKind::Location) => format!("scan bin {e}"),
                (None, _, FieldKind::Location) if suggested.is_some() => {
                    format!("scan bin {}", suggested.cloned().unwrap_or_default())
                }
                (Some(e), _, _) => format!("scan {e}"),
                (None, Some(d), _) => format!("Enter = {d}"),
                (None, None, FieldKind::Item) => "scan SKU, GTIN or GS1".into(),
                (None, None, FieldKind::Location) => "scan a bin".into(),
                (None, None, FieldKind::Expiry) => "YYMMDD or YYYY-MM-DD".into(),
                (None, None, FieldKind::Action) => "1 pack · 2 ship".into(),
                _ => String::new(),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  [{shown}_]"),
                    Style::default().add_modifier(Modifier::REVERSED),
                ),
                Span::styled(format!(" {hint}"), Style::default().fg(Color::DarkGray)),
            ]));
        }
    }
    if form.submitted {
        lines.push(Line::from(if form.flow == Flow::Login {
            " checking…"
        } else {
            " recording…"
        }));
    }
    if form.flow == Flow::Login
        && let Some(hint) = &app.login_hint
    {
        lines.push(Line::from(""));
        lines.push(Line::from(format!(" {hint}")).style(Style::default().fg(Color::DarkGray)));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    match form.flow {
        Flow::Login => "Enter: next · Esc: back",
        Flow::Pick => "Enter · Esc back · F2 short · F3 skip",
        _ => "Enter: ok · Esc: back",
    }
}
