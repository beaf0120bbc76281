//! The main menu, the sync/status screen, and "nothing to do".

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::chrome::short_time;
use super::wide;
use crate::tui::app::App;

pub const ENTRIES: [&str; 9] = [
    "Receive",
    "Putaway",
    "Move",
    "Pick",
    "Stock lookup",
    "Count",
    "Pack/Ship",
    "Exceptions",
    "Sync",
];

pub fn menu(frame: &mut Frame, area: Rect, _app: &App) -> &'static str {
    let mut lines = Vec::new();
    if wide(area) {
        lines.push(Line::from(""));
        for pair in ENTRIES.chunks(2).enumerate() {
            let (row, names) = pair;
            let left = format!("  {} {}", row * 2 + 1, names[0]);
            let right = names
                .get(1)
                .map(|n| format!("{} {n}", row * 2 + 2))
                .unwrap_or_default();
            lines.push(Line::from(format!("{left:<30}{right}")));
        }
    } else {
        for (i, name) in ENTRIES.iter().enumerate() {
            lines.push(Line::from(format!("  {} {name}", i + 1)));
        }
    }
    frame.render_widget(Paragraph::new(lines), area);
    "1-9: choose · q: quit"
}

pub fn status(frame: &mut Frame, area: Rect, app: &App) -> &'static str {
    let l = &app.link;
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let online = match l.online {
        Some(true) => "online",
        Some(false) => "offline",
        None => "checking",
    };
    let operator = app
        .operator
        .as_ref()
        .map(|o| format!("{} ({})", o.badge, o.role))
        .unwrap_or_else(|| "-".into());
    let mut lines = vec![
        Line::from(format!(" server   {online}")),
        Line::from(format!(" {}", l.server)),
        Line::from(format!(" pending  {}", l.pending)),
        Line::from(format!(
            " synced   {}",
            l.last_sync.as_deref().map(short_time).unwrap_or("-")
        )),
        Line::from(format!(" last     {}", show(&l.last_report))),
        Line::from(format!(" operator {operator}")),
    ];
    if wide(area) {
        lines.push(Line::from(format!(" device   {}", l.device)));
    }
    if let Some(e) = &l.last_error {
        lines.push(Line::from(format!(" error    {e}")));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(vec![
        Span::styled(
            format!("  [{}_]", app.input),
            Style::default().add_modifier(Modifier::REVERSED),
        ),
        Span::styled(" 0 Enter: log out", Style::default().fg(Color::DarkGray)),
    ]));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    "Enter: sync now · Esc: back"
}

pub fn idle(frame: &mut Frame, area: Rect, text: &str) -> &'static str {
    frame.render_widget(
        Paragraph::new(vec![Line::from(""), Line::from(format!(" {text}"))])
            .wrap(Wrap { trim: false }),
        area,
    );
    "Esc: back"
}
