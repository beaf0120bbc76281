//! Drawing the state: the status bar (online/offline, pending operations,
//! operator) and the footer on every screen, one file per screen family in
//! between, and refusals full screen over the body. Reads the state only.

mod chrome;
mod form;
mod lists;
mod lookup;
mod menu;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{App, MIN_HEIGHT, MIN_WIDTH, Screen};

/// Whether an area has room for the wider layout: the main area of an
/// 80-column terminal, beside the side panel, is 50 columns.
pub(crate) fn wide(area: Rect) -> bool {
    area.width >= 50
}

/// Width of the side panel (recent operations) on terminals of 80x24 and
/// up.
const SIDE: u16 = 30;

pub fn view(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(frame, area);
        return;
    }
    let [header, body, notice, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::header(frame, header, app);
    if let Some(err) = &app.error {
        chrome::error(frame, body.union(notice), err);
        chrome::footer(frame, footer, "Enter/Esc: dismiss");
        return;
    }
    // Room to spare: the operations recorded this session beside the screen.
    let body = if area.width >= 80 && area.height >= 24 {
        let [main, side] =
            Layout::horizontal([Constraint::Min(40), Constraint::Length(SIDE)]).areas(body);
        chrome::recent(frame, side, &app.recent);
        main
    } else {
        body
    };
    let hints = match &app.screen {
        Screen::Login(f) | Screen::Form(f) => form::draw(frame, body, app, f),
        Screen::Menu => menu::menu(frame, body, app),
        Screen::Status => menu::status(frame, body, app),
        Screen::Idle { text, .. } => menu::idle(frame, body, text),
        Screen::PutawayList { tasks, selected } => {
            lists::putaway(frame, body, &app.input, tasks, *selected)
        }
        Screen::Exceptions { list, selected } => lists::exceptions(frame, body, list, *selected),
        Screen::ShortReason { form, selected } => lists::short(frame, body, form, *selected),
        Screen::Lookup { result } => lookup::draw(frame, body, app, result.as_ref()),
    };
    chrome::notice(frame, notice, app.notice.as_deref());
    chrome::footer(frame, footer, hints);
}

fn too_small(frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("terminal too small"),
        Line::from(format!("need {MIN_WIDTH}x{MIN_HEIGHT}")),
        Line::from(format!("have {}x{}", area.width, area.height)),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .style(
                Style::default()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
            )
            .wrap(Wrap { trim: true }),
        area,
    );
}

#[cfg(test)]
mod tests;
