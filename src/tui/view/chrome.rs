//! What every screen has: the title and status bar on top, the last notice
//! and the key hints at the bottom, and the full-screen refusal.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Padding, Paragraph, Wrap};

use super::wide;
use crate::tui::app::{App, ErrorBox};

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let title = Line::from(format!(" pyck · {}", app.screen.title()))
        .style(Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD));
    let link = &app.link;
    let (state, colour) = match link.online {
        Some(true) => ("ONLINE", Color::Green),
        Some(false) => ("OFFLINE", Color::Red),
        None => ("CHECKING", Color::Yellow),
    };
    let operator = match &app.operator {
        Some(op) if wide(area) => format!("{} ({})", op.badge, op.role),
        Some(op) => op.badge.clone(),
        None => "-".into(),
    };
    let mut spans = vec![
        Span::styled(
            format!(" {state}"),
            Style::default().fg(colour).add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!(" · {} pending · op {operator}", link.pending)),
    ];
    if link.syncing {
        spans.push(Span::raw(" · syncing"));
    }
    if wide(area)
        && let Some(at) = &link.last_sync
    {
        spans.push(Span::raw(format!(" · synced {}", short_time(at))));
    }
    frame.render_widget(Paragraph::new(vec![title, Line::from(spans)]), area);
}

/// "2026-11-23T21:40:03.123Z" → "21:40:03".
pub fn short_time(at: &str) -> &str {
    at.get(11..19).unwrap_or(at)
}

pub fn notice(frame: &mut Frame, area: Rect, notice: Option<&str>) {
    if let Some(n) = notice {
        frame.render_widget(
            Paragraph::new(Line::from(format!(" {n}"))).style(
                Style::default()
                    .fg(Color::Green)
                    .add_modifier(Modifier::BOLD),
            ),
            area,
        );
    }
}

pub fn footer(frame: &mut Frame, area: Rect, hints: &str) {
    frame.render_widget(
        Paragraph::new(Line::from(format!(" {hints}")))
            .style(Style::default().add_modifier(Modifier::REVERSED)),
        area,
    );
}

/// A refusal: red, over the whole body, impossible to miss.
pub fn error(frame: &mut Frame, area: Rect, err: &ErrorBox) {
    let style = Style::default()
        .bg(Color::Red)
        .fg(Color::White)
        .add_modifier(Modifier::BOLD);
    let text = vec![
        Line::from(""),
        Line::from("!! REFUSED: nothing recorded"),
        Line::from(""),
        Line::from(err.reason.clone()),
        Line::from(""),
        Line::from("Enter or Escape to go on"),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .block(
                Block::default()
                    .style(style)
                    .padding(Padding::horizontal(1)),
            )
            .style(style)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// The side panel at 80x24 and up: what this session recorded, newest
/// first.
pub fn recent(frame: &mut Frame, area: Rect, recent: &[String]) {
    let mut lines: Vec<Line> = recent.iter().rev().map(|r| Line::from(r.clone())).collect();
    if lines.is_empty() {
        lines.push(Line::from("nothing yet"));
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::LEFT)
                .title(" Recorded here ")
                .padding(Padding::horizontal(1)),
        ),
        area,
    );
}
