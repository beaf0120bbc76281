//! Terminal events to messages: one table, so what a key does is written in
//! one place (and the docs' key list can be checked against it).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::update::Msg;

/// The messages for a terminal event (none when it means nothing to the UI).
pub fn msgs(event: Event) -> Vec<Msg> {
    match event {
        // A terminal cannot tell Escape followed quickly by a key from Alt
        // and that key: an operator going back and choosing from the menu
        // in one quick motion meant both.
        Event::Key(key)
            if key.modifiers.contains(KeyModifiers::ALT)
                && matches!(key.code, KeyCode::Char(_))
                && key.kind != KeyEventKind::Release =>
        {
            let mut plain = key;
            plain.modifiers.remove(KeyModifiers::ALT);
            std::iter::once(Msg::Escape).chain(key_msg(plain)).collect()
        }
        Event::Key(key) => key_msg(key).into_iter().collect(),
        // Scanners in "keyboard paste" mode, and people pasting a code.
        Event::Paste(text) => paste(&text),
        Event::Resize(..) => vec![Msg::Resize],
        _ => vec![],
    }
}

/// A bracketed paste as the keystrokes it stands for: its characters, each
/// line end (CR, LF or CRLF) an Enter. Expanded here rather than in update so
/// that the event loop carries out what each Enter asks (a recording) before
/// the next pasted character is read, exactly as for typed keys.
pub fn paste(text: &str) -> Vec<Msg> {
    let mut out = Vec::with_capacity(text.len());
    let mut after_cr = false;
    for c in text.chars() {
        match c {
            '\n' if after_cr => {}
            '\r' | '\n' => out.push(Msg::Enter),
            '\u{1d}' => out.push(Msg::Char(c)),
            c if c.is_control() => {}
            c => out.push(Msg::Char(c)),
        }
        after_cr = c == '\r';
    }
    out
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

    fn msg(event: Event) -> Option<Msg> {
        let mut all = msgs(event);
        assert!(all.len() <= 1, "{all:?}");
        all.pop()
    }

    #[test]
    fn a_paste_is_its_keystrokes_with_line_ends_as_enter() {
        use Msg::{Char, Enter};
        assert_eq!(
            msgs(Event::Paste("A-1\r\nB\n\u{1d}7\r\t".into())),
            vec![
                Char('A'),
                Char('-'),
                Char('1'),
                Enter,
                Char('B'),
                Enter,
                Char('\u{1d}'),
                Char('7'),
                Enter
            ]
        );
    }

    #[test]
    fn escape_and_a_key_in_one_burst_arrive_as_alt_key_and_mean_both() {
        assert_eq!(
            msgs(key(KeyCode::Char('3'), KeyModifiers::ALT)),
            vec![Msg::Escape, Msg::Char('3')]
        );
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
        assert_eq!(msg(Event::Resize(20, 8)), Some(Msg::Resize));
        assert_eq!(msg(Event::FocusGained), None);
    }
}
