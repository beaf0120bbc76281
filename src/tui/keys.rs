//! Terminal events to messages: one table, so what a key does is written in
//! one place (and the docs' key list can be checked against it).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::update::Msg;

/// The message for a terminal event, if it means anything to the UI.
pub fn msg(event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => key_msg(key),
        // Scanners in "keyboard paste" mode, and people pasting a code.
        Event::Paste(text) => Some(Msg::Paste(text)),
        Event::Resize(..) => Some(Msg::Resize),
        _ => None,
    }
}

pub fn key_msg(key: KeyEvent) -> Option<Msg> {
    // Key releases and repeats (kitty protocol) are not keystrokes.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Msg::Quit,
        // GS1 scanners send the FNC1 separator as GS, which terminals deliver
        // as Ctrl-] (or as the raw control character).
        KeyCode::Char(']') if ctrl => Msg::Char('\u{1d}'),
        KeyCode::Char('\u{1d}') => Msg::Char('\u{1d}'),
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Msg::Char(c),
        KeyCode::Enter => Msg::Enter,
        KeyCode::Tab => Msg::Enter,
        KeyCode::Esc => Msg::Escape,
        KeyCode::Backspace => Msg::Backspace,
        KeyCode::Up => Msg::Up,
        KeyCode::Down => Msg::Down,
        KeyCode::F(2) => Msg::ShortPick,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Event {
        Event::Key(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn the_table() {
        let none = KeyModifiers::NONE;
        assert_eq!(msg(key(KeyCode::Char('7'), none)), Some(Msg::Char('7')));
        assert_eq!(
            msg(key(KeyCode::Char('A'), KeyModifiers::SHIFT)),
            Some(Msg::Char('A'))
        );
        assert_eq!(msg(key(KeyCode::Enter, none)), Some(Msg::Enter));
        assert_eq!(msg(key(KeyCode::Esc, none)), Some(Msg::Escape));
        assert_eq!(msg(key(KeyCode::F(2), none)), Some(Msg::ShortPick));
        assert_eq!(
            msg(key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Msg::Quit)
        );
        assert_eq!(
            msg(key(KeyCode::Char(']'), KeyModifiers::CONTROL)),
            Some(Msg::Char('\u{1d}'))
        );
        assert_eq!(msg(key(KeyCode::Char('x'), KeyModifiers::CONTROL)), None);
        assert_eq!(
            msg(Event::Paste("A-01-01\r".into())),
            Some(Msg::Paste("A-01-01\r".into()))
        );
        assert_eq!(msg(Event::Resize(20, 8)), Some(Msg::Resize));
        assert_eq!(msg(Event::FocusGained), None);
    }
}
