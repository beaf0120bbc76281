//! The scanner UI's first screen on a terminal never registered: "Scan the
//! enrolment code". It takes the `pyck://enrol?…` code as a keyboard-mode
//! scanner types it (keys, then Enter; a bracketed paste alike), runs the
//! enrolment `pyck init --enrol` runs ([`crate::commands::init::enrol`]) on
//! a thread of its own while the screen shows each step, and hands over to
//! the login screen. A wrong scan says why, loudly, and stays.
//!
//! Its own small model → pure update → view, and its own loop before the
//! main UI's: the main UI needs a config and a store from the start, and
//! this screen is what makes them.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use pyck_vocab::enrol::EnrolCode;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Padding, Paragraph, Wrap};

use super::keys;
use super::update::Msg;
use crate::commands::Ctx;
use crate::commands::init::{self, Options, Steps};
use crate::config::Config;
use crate::error::CliError;
use crate::sync::Progress;

/// Where the screen is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Waiting for a scan.
    Waiting,
    /// An enrolment runs: its server and the step it is at.
    Working { server: String, step: String },
    /// The last scan did not enrol this device, and why.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// What the scanner typed so far.
    pub input: String,
    pub state: State,
}

impl Default for Screen {
    fn default() -> Screen {
        Screen {
            input: String::new(),
            state: State::Waiting,
        }
    }
}

/// What the screen is told: a key, or news from the enrolment thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Key(Msg),
    Step(String),
    Pulled(u64),
    /// The enrolment ended: what to say on the login screen, or why not.
    Done(Result<String, String>),
}

/// What the update asks the loop to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Enrol(EnrolCode),
    Bell,
    /// Leave without enrolling.
    Quit,
    /// Enrolled: on to the login screen, with this line on it.
    Enrolled(String),
}

/// The pure update: keys build the scan, Enter reads it.
pub fn update(screen: &mut Screen, input: Input) -> Vec<Effect> {
    let working = matches!(screen.state, State::Working { .. });
    match input {
        Input::Key(Msg::Quit) => vec![Effect::Quit],
        // Keys while an enrolment runs mean nothing (a second trigger pull).
        Input::Key(_) if working => vec![],
        Input::Key(Msg::Char(c)) => {
            if matches!(screen.state, State::Failed(_)) {
                screen.state = State::Waiting;
            }
            screen.input.push(c);
            vec![]
        }
        Input::Key(Msg::Backspace) => {
            screen.input.pop();
            vec![]
        }
        Input::Key(Msg::Escape) if screen.input.is_empty() => vec![Effect::Quit],
        Input::Key(Msg::Escape) => {
            screen.input.clear();
            screen.state = State::Waiting;
            vec![]
        }
        // A scanner's CR and LF both end a scan: the second Enter of a CRLF
        // finds nothing typed.
        Input::Key(Msg::Enter) if screen.input.trim().is_empty() => {
            screen.input.clear();
            vec![]
        }
        Input::Key(Msg::Enter) => {
            let scanned = std::mem::take(&mut screen.input);
            match EnrolCode::parse(&scanned) {
                Ok(code) => {
                    screen.state = State::Working {
                        server: code.server.clone(),
                        step: "starting".into(),
                    };
                    vec![Effect::Enrol(code)]
                }
                Err(e) => {
                    screen.state = State::Failed(e.to_string());
                    vec![Effect::Bell]
                }
            }
        }
        Input::Key(_) => vec![],
        Input::Step(what) => {
            if let State::Working { step, .. } = &mut screen.state {
                *step = what;
            }
            vec![]
        }
        Input::Pulled(n) => {
            if let State::Working { step, .. } = &mut screen.state {
                *step = format!("pulled {n} changes");
            }
            vec![]
        }
        Input::Done(Ok(hint)) => vec![Effect::Enrolled(hint)],
        Input::Done(Err(why)) => {
            screen.state = State::Failed(why);
            vec![Effect::Bell]
        }
    }
}

/// How much of a scan the screen shows: the start (the scheme and server)
/// and a count. The rest holds the token, a secret.
const SHOWN: usize = 24;

pub fn view(frame: &mut Frame, screen: &Screen) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(" pyck · Enrol this device")
                .style(Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)),
            Line::from(" not registered with a server yet"),
        ]),
        header,
    );
    let loud = Style::default()
        .bg(Color::Red)
        .fg(Color::White)
        .add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::from("")];
    let mut style = Style::default();
    match &screen.state {
        State::Waiting => {
            lines.push(
                Line::from("Scan the enrolment code").style(
                    Style::default()
                        .fg(Color::Yellow)
                        .add_modifier(Modifier::BOLD),
                ),
            );
            lines.push(Line::from(""));
            lines.push(Line::from(
                "(the QR code of pyck-server device-token create --url … --qr)",
            ));
        }
        State::Working { server, step } => {
            lines.push(
                Line::from("Enrolling…").style(Style::default().add_modifier(Modifier::BOLD)),
            );
            lines.push(Line::from(""));
            lines.push(Line::from(format!("with {server}")));
            lines.push(Line::from(step.clone()));
        }
        State::Failed(why) => {
            style = loud;
            lines.push(Line::from("!! NOT ENROLLED"));
            lines.push(Line::from(""));
            lines.push(Line::from(why.clone()));
            lines.push(Line::from(""));
            lines.push(Line::from("Scan the enrolment code again"));
        }
    }
    if !screen.input.is_empty() {
        let count = screen.input.chars().count();
        let start: String = screen.input.chars().take(SHOWN).collect();
        let more = if count > SHOWN { "…" } else { "" };
        lines.push(Line::from(""));
        lines.push(Line::from(format!("> {start}{more} ({count} characters)")));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(
                Block::default()
                    .style(style)
                    .padding(Padding::horizontal(1)),
            )
            .style(style)
            .wrap(Wrap { trim: false }),
        body,
    );
    let hints = match screen.state {
        State::Working { .. } => " please wait",
        _ => " scan · Esc: clear/quit",
    };
    frame.render_widget(
        Paragraph::new(Line::from(hints)).style(Style::default().add_modifier(Modifier::REVERSED)),
        footer,
    );
}

/// Runs the first screen if this terminal has no config and is a terminal;
/// the line for the login screen once enrolled, `None` when there was
/// nothing to do (the main UI then starts, or refuses, as it always did).
/// Leaving it without enrolling is "not initialised" (exit 6).
pub fn first_screen(ctx: &Ctx) -> anyhow::Result<Option<String>> {
    let tty = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    if !tty || Config::load(&ctx.paths)?.is_some() {
        return Ok(None);
    }
    let mut terminal = ratatui::try_init()?;
    let _ = crossterm::execute!(std::io::stdout(), EnableBracketedPaste);
    let result = screen_loop(ctx, &mut terminal);
    let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
    ratatui::restore();
    match result? {
        Some(hint) => Ok(Some(hint)),
        None => Err(CliError::NotInitialised(
            "left the enrolment screen: this terminal is not initialised (scan an enrolment \
             code, or run `pyck init`)"
                .into(),
        )
        .into()),
    }
}

/// Keys are read here with a timeout, not on a thread of their own, so
/// that none is left reading when the main UI takes over the terminal.
fn screen_loop(
    ctx: &Ctx,
    terminal: &mut ratatui::DefaultTerminal,
) -> anyhow::Result<Option<String>> {
    let (tx, rx) = mpsc::channel::<Input>();
    let mut screen = Screen::default();
    loop {
        terminal.draw(|frame| view(frame, &screen))?;
        let mut inputs: Vec<Input> = rx.try_iter().collect();
        if crossterm::event::poll(Duration::from_millis(100))? {
            inputs.extend(
                keys::msgs(crossterm::event::read()?)
                    .into_iter()
                    .map(Input::Key),
            );
        }
        for input in inputs {
            for effect in update(&mut screen, input) {
                match effect {
                    Effect::Enrol(code) => {
                        let (paths, tx) = (ctx.paths.clone(), tx.clone());
                        std::thread::spawn(move || {
                            let ctx = Ctx { paths };
                            let steps = ToScreen(tx.clone());
                            let done = init::enrol(&ctx, &code, Options::default(), &steps)
                                .map(|r| {
                                    format!(
                                        "enrolled as {} with {}; pulled {} changes",
                                        r.device, r.server, r.pulled
                                    )
                                })
                                .map_err(|e| plain(&e));
                            let _ = tx.send(Input::Done(done));
                        });
                    }
                    Effect::Bell => {
                        let mut out = std::io::stdout();
                        let _ = out.write_all(b"\x07");
                        let _ = out.flush();
                    }
                    Effect::Quit => return Ok(None),
                    Effect::Enrolled(hint) => return Ok(Some(hint)),
                }
            }
        }
    }
}

/// An error as a sentence on the screen: the flag the command line names
/// means nothing to a person with a scanner.
fn plain(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    text.strip_prefix("--enrol: ").unwrap_or(&text).to_owned()
}

/// The enrolment's steps and pull progress, sent to the screen.
struct ToScreen(Sender<Input>);

impl Progress for ToScreen {
    fn pushed(&self, _done: u64, _total: u64) {}

    fn pulled(&self, done: u64) {
        let _ = self.0.send(Input::Pulled(done));
    }
}

impl Steps for ToScreen {
    fn step(&self, what: String) {
        let _ = self.0.send(Input::Step(what));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;

    const CODE: &str = "pyck://enrol?v=1&server=https://10.0.0.5:7415&token=pyck_secret";

    fn typed(screen: &mut Screen, text: &str) -> Vec<Effect> {
        let mut effects = Vec::new();
        for c in text.chars() {
            let msg = match c {
                '\r' | '\n' => Msg::Enter,
                c => Msg::Char(c),
            };
            effects.extend(update(screen, Input::Key(msg)));
        }
        effects
    }

    fn snap(name: &str, screen: &Screen) {
        for (w, h) in [(40, 16), (80, 24)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
            t.draw(|f| view(f, screen)).unwrap();
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
        }
    }

    #[test]
    fn a_scan_ending_in_crlf_starts_one_enrolment() {
        let mut screen = Screen::default();
        snap("enrol_waiting", &screen);
        let effects = typed(&mut screen, &format!("{CODE}\r\n"));
        let [Effect::Enrol(code)] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!(code.server, "https://10.0.0.5:7415");
        assert_eq!(code.token, "pyck_secret");
        // A second scan while it runs is ignored.
        assert!(typed(&mut screen, &format!("{CODE}\r")).is_empty());
        update(&mut screen, Input::Step("checking the certificate".into()));
        update(&mut screen, Input::Pulled(120));
        snap("enrol_working", &screen);
        let done = update(&mut screen, Input::Done(Ok("enrolled".into())));
        assert_eq!(done, vec![Effect::Enrolled("enrolled".into())]);
    }

    #[test]
    fn a_wrong_scan_is_loud_and_the_screen_stays() {
        let mut screen = Screen::default();
        let effects = typed(&mut screen, "SKU-10001\r");
        assert_eq!(effects, vec![Effect::Bell]);
        let State::Failed(why) = &screen.state else {
            panic!("{screen:?}")
        };
        assert!(why.contains("not an enrolment code"), "{why}");
        snap("enrol_wrong_scan", &screen);
        // The next scan starts afresh.
        typed(&mut screen, "pyck://en");
        assert_eq!(screen.state, State::Waiting);
        snap("enrol_typing", &screen);
        // A failed enrolment says why and waits for another scan.
        typed(&mut screen, "rol?v=1&server=http://h&token=t\r");
        let bell = update(
            &mut screen,
            Input::Done(Err("server unreachable: h".into())),
        );
        assert_eq!(bell, vec![Effect::Bell]);
        assert_eq!(screen.state, State::Failed("server unreachable: h".into()));
    }

    #[test]
    fn escape_clears_then_quits() {
        let mut screen = Screen::default();
        typed(&mut screen, "pyck");
        assert!(update(&mut screen, Input::Key(Msg::Escape)).is_empty());
        assert!(screen.input.is_empty());
        assert_eq!(
            update(&mut screen, Input::Key(Msg::Escape)),
            vec![Effect::Quit]
        );
    }

    #[test]
    fn the_token_is_never_on_screen() {
        let mut screen = Screen::default();
        typed(&mut screen, CODE);
        let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
        t.draw(|f| view(f, &screen)).unwrap();
        let shown = format!("{}", t.backend());
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("pyck://enrol?v=1&server=…"), "{shown}");
    }
}
