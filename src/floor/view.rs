//! Drawing the dashboard: a status line, then open tasks by zone beside the
//! exception queue, picks per hour beside the devices, the live feed below,
//! and the notice (or the note being typed) and key hints at the bottom.
//! Panels grow with the terminal; 80x24 is the smallest. Reads the state
//! only.

use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::app::{Floor, MIN_HEIGHT, MIN_WIDTH, Snapshot};

pub fn view(frame: &mut Frame, floor: &Floor) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        frame.render_widget(
            Paragraph::new(vec![
                Line::from("terminal too small"),
                Line::from(format!("need {MIN_WIDTH}x{MIN_HEIGHT}")),
                Line::from(format!("have {}x{}", area.width, area.height)),
            ])
            .style(Style::default().fg(Color::Yellow)),
            area,
        );
        return;
    }
    let [header, top, middle, feed, notice, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    status(frame, header, floor);
    let [tasks_area, exceptions_area] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(top);
    let [picks_area, devices_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(middle);
    match &floor.snapshot {
        Some(s) => {
            tasks(frame, tasks_area, s);
            exceptions(frame, exceptions_area, floor, s);
            picks(frame, picks_area, floor, s);
            devices(frame, devices_area, floor, s);
        }
        None => {
            let waiting = || Paragraph::new(" waiting for the server…");
            frame.render_widget(waiting().block(panel("Open tasks")), tasks_area);
            frame.render_widget(waiting().block(panel("Exceptions")), exceptions_area);
            frame.render_widget(waiting().block(panel("Picks per hour")), picks_area);
            frame.render_widget(waiting().block(panel("Devices")), devices_area);
        }
    }
    live_feed(frame, feed, floor);
    bottom(frame, notice, footer, floor);
}

fn panel(title: &str) -> Block<'_> {
    Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

fn status(frame: &mut Frame, area: Rect, floor: &Floor) {
    let (link, colour) = match floor.online {
        Some(true) => ("ONLINE", Color::Green),
        Some(false) => ("OFFLINE", Color::Red),
        None => ("CONNECTING", Color::Yellow),
    };
    let (feed, feed_colour) = if floor.live {
        ("live", Color::Green)
    } else {
        ("feed down", Color::Red)
    };
    let mut spans = vec![
        Span::styled(" pyck floor ", bold().add_modifier(Modifier::REVERSED)),
        Span::raw(format!(
            " {} ({}) · ",
            floor.operator.badge, floor.operator.role
        )),
        Span::styled(link, bold().fg(colour)),
        Span::raw(" · "),
        Span::styled(feed, Style::default().fg(feed_colour)),
        Span::raw(format!(" · {} pending", floor.pending)),
    ];
    if let Some(s) = &floor.snapshot {
        spans.push(Span::raw(format!(
            " · {}",
            local(floor, s.at).format("%H:%M:%S")
        )));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn tasks(frame: &mut Frame, area: Rect, s: &Snapshot) {
    let mut lines = vec![Line::styled(
        format!(
            "{:<6}{:<8}{:>5}{:>5}{:>7}",
            "zone", "kind", "wait", "busy", "units"
        ),
        bold(),
    )];
    if s.tasks.is_empty() {
        lines.push(Line::from("no open tasks"));
    }
    lines.extend(s.tasks.iter().map(|t| {
        Line::from(format!(
            "{:<6}{:<8}{:>5}{:>5}{:>7}",
            clip(&t.zone, 5),
            t.kind,
            t.waiting,
            t.in_progress,
            t.units_left
        ))
    }));
    frame.render_widget(Paragraph::new(lines).block(panel("Open tasks")), area);
}

fn exceptions(frame: &mut Frame, area: Rect, floor: &Floor, s: &Snapshot) {
    let title = format!("Exceptions ({} open)", s.exceptions.len());
    let inner = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    if s.exceptions.is_empty() {
        frame.render_widget(Paragraph::new("none open").block(panel(&title)), area);
        return;
    }
    // Keep the cursor in view.
    let first = (floor.selected + 1).saturating_sub(inner.max(1));
    let lines: Vec<Line> = s
        .exceptions
        .iter()
        .enumerate()
        .skip(first)
        .take(inner)
        .map(|(i, e)| {
            let text = format!(
                "{} {:>4} {}: {}",
                if i == floor.selected { '>' } else { ' ' },
                ago(floor.now - e.raised_at),
                e.kind,
                e.message
            );
            let line = Line::from(clip(&text, width));
            if i == floor.selected {
                line.style(Style::default().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(panel(&title)), area);
}

fn picks(frame: &mut Frame, area: Rect, floor: &Floor, s: &Snapshot) {
    // As many of the latest hours as fit beside the operator and the total.
    let width = area.width.saturating_sub(2) as usize;
    let hours = s.operators.first().map_or(0, |o| o.per_hour.len());
    let shown = (width.saturating_sub(8 + 6) / 4).min(hours);
    let skip = hours - shown;
    let mut header = format!("{:<8}", "op");
    for h in skip..hours {
        let start = s.shift_start + Duration::hours(h as i64);
        header.push_str(&format!("{:>4}", local(floor, start).format("%Hh")));
    }
    header.push_str(&format!("{:>6}", "shift"));
    let mut lines = vec![Line::styled(header, bold())];
    if s.operators.is_empty() {
        lines.push(Line::from("no picks this shift"));
    }
    for o in &s.operators {
        let mut row = format!("{:<8}", clip(&o.operator, 7));
        for n in &o.per_hour[skip..] {
            row.push_str(&format!("{n:>4}"));
        }
        row.push_str(&format!("{:>6}", o.total));
        lines.push(Line::from(row));
    }
    frame.render_widget(Paragraph::new(lines).block(panel("Picks per hour")), area);
}

fn devices(frame: &mut Frame, area: Rect, floor: &Floor, s: &Snapshot) {
    let width = area.width.saturating_sub(2) as usize;
    let name_width = width.saturating_sub(10 + 8 + 8).clamp(6, 24);
    let mut lines = vec![Line::styled(
        format!("{:<name_width$}{:>10}{:>8}", "device", "contact", "pending"),
        bold(),
    )];
    // The ones to go and look at first; revoked ones last.
    let mut shown: Vec<_> = s.devices.iter().collect();
    shown.sort_by_key(|d| (!d.stuck(floor.now), d.revoked));
    for d in shown {
        let contact = match d.last_contact {
            Some(at) => format!("{} ago", ago(floor.now - at)),
            None => "never".into(),
        };
        let (state, style) = if d.revoked {
            ("revoked", Style::default().add_modifier(Modifier::DIM))
        } else if d.stuck(floor.now) {
            ("STUCK", bold().fg(Color::Red))
        } else {
            ("", Style::default())
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{:<name_width$}{:>10}{:>8}",
                    clip(&d.name, name_width - 1),
                    contact,
                    d.backlog
                ),
                style,
            ),
            Span::styled(format!(" {state}"), style),
        ]));
    }
    frame.render_widget(Paragraph::new(lines).block(panel("Devices")), area);
}

fn live_feed(frame: &mut Frame, area: Rect, floor: &Floor) {
    let inner = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = floor
        .feed
        .iter()
        .take(inner)
        .map(|l| {
            Line::from(clip(
                &format!("{} {}", local(floor, l.at).format("%H:%M:%S"), l.text),
                width,
            ))
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from("no events yet"));
    }
    frame.render_widget(Paragraph::new(lines).block(panel("Live feed")), area);
}

fn bottom(frame: &mut Frame, notice: Rect, footer: Rect, floor: &Floor) {
    let green = bold().fg(Color::Green);
    let (text, style, hints) = match (&floor.note, &floor.notice, &floor.last_error) {
        (Some(n), _, _) => (
            format!(" note for {}: {}_", short_id(&n.exception), n.text),
            green,
            " Enter: resolve · Esc: cancel",
        ),
        (None, notice, error) => (
            match (notice, error) {
                (Some(n), _) => format!(" {n}"),
                (None, Some(e)) => format!(" {e}"),
                (None, None) => String::new(),
            },
            if notice.is_none() && error.is_some() {
                bold().fg(Color::Red)
            } else {
                green
            },
            " ↑↓: select · Enter: resolve with a note · s: refresh · q: quit",
        ),
    };
    frame.render_widget(
        Paragraph::new(clip(&text, notice.width as usize)).style(style),
        notice,
    );
    frame.render_widget(
        Paragraph::new(hints).style(Style::default().add_modifier(Modifier::REVERSED)),
        footer,
    );
}

/// A time in the desk's time zone.
fn local(floor: &Floor, at: DateTime<Utc>) -> DateTime<chrono::FixedOffset> {
    at.with_timezone(&floor.offset)
}

/// "45s", "12m", "3h", "2d".
fn ago(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

/// An exception's id as people read it aloud: its first eight characters.
fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// At most `width` characters, with an ellipsis when cut.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests;
