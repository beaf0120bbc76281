//! Terminal events to messages: one table, so what a key does is written in
//! one place (and the docs' key list can be checked against it).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::update::Msg;

/// ASCII GS (group separator), the FNC1 of a GS1 scan as a keyboard-wedge
/// scanner sends it.
const GS: char = '\u{1d}';

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
            GS => out.push(Msg::Char(c)),
            c if c.is_control() => {}
            c => out.push(Msg::Char(c)),
        }
        after_cr = c == '\r';
    }
    out
}

/// The Enter ending a scan whose text the site's GS substitute changes
/// ([`crate::config::Config::normalize_scan`]): the keystrokes that turn
/// `typed` into `normalized` (Backspaces back to the first difference, then
/// the rest), then Enter. Keystrokes rather than a new kind of message, so
/// the screen's own input handling sees the scan as if the scanner had
/// sent GS, and a scan typed by hand or pasted is treated the same.
pub fn retyped_enter(typed: &str, normalized: &str) -> Vec<Msg> {
    let same = typed
        .chars()
        .zip(normalized.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let back = typed.chars().count() - same;
    std::iter::repeat_n(Msg::Backspace, back)
        .chain(normalized.chars().skip(same).map(Msg::Char))
        .chain([Msg::Enter])
        .collect()
}

pub fn key_msg(key: KeyEvent) -> Option<Msg> {
    // Key releases and repeats (kitty protocol) are not keystrokes.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Msg::Quit,
        // GS1 scanners send the FNC1 separator as GS (byte 0x1D). crossterm
        // 0.29 on Unix reads that byte as Ctrl+'5' (it maps 0x1C..=0x1F to
        // Ctrl+'4'..='7'); the kitty protocol and Windows say Ctrl+']', the
        // key that types GS on a US keyboard; a paste keeps the character.
        KeyCode::Char('5' | ']') if ctrl => Msg::Char(GS),
        KeyCode::Char(GS) => Msg::Char(GS),
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => Msg::Char(c),
        KeyCode::Enter => Msg::Enter,
        KeyCode::Tab => Msg::Enter,
        KeyCode::Esc => Msg::Escape,
        KeyCode::Backspace => Msg::Backspace,
        KeyCode::Up => Msg::Up,
        KeyCode::Down => Msg::Down,
        KeyCode::F(2) => Msg::ShortPick,
        KeyCode::F(3) => Msg::Skip,
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

    /// The byte 0x1D of a keyboard-mode scanner, however it is decoded.
    #[test]
    fn gs_arrives_as_ctrl_5_ctrl_bracket_or_the_raw_character() {
        let ctrl = KeyModifiers::CONTROL;
        // What crossterm 0.29 makes of the byte on Unix.
        assert_eq!(msg(key(KeyCode::Char('5'), ctrl)), Some(Msg::Char(GS)));
        assert_eq!(msg(key(KeyCode::Char(']'), ctrl)), Some(Msg::Char(GS)));
        assert_eq!(
            msg(key(KeyCode::Char(GS), KeyModifiers::NONE)),
            Some(Msg::Char(GS))
        );
        // Escape then GS in one burst reads as Alt+Ctrl+'5'.
        assert_eq!(
            msgs(key(KeyCode::Char('5'), ctrl | KeyModifiers::ALT)),
            vec![Msg::Escape, Msg::Char(GS)]
        );
        // A whole scan in keyboard mode: the separator stays in the text.
        let scan: Vec<Msg> = "10L2650A"
            .chars()
            .map(|c| key(KeyCode::Char(c), KeyModifiers::NONE))
            .chain([key(KeyCode::Char('5'), ctrl)])
            .chain(
                "17280115"
                    .chars()
                    .map(|c| key(KeyCode::Char(c), KeyModifiers::NONE)),
            )
            .flat_map(msgs)
            .collect();
        let text: String = scan
            .iter()
            .map(|m| match m {
                Msg::Char(c) => *c,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(text, "10L2650A\u{1d}17280115");
    }

    #[test]
    fn a_substitute_is_retyped_as_gs_before_the_enter() {
        use Msg::{Backspace, Char, Enter};
        assert_eq!(
            retyped_enter("10L2650A~17", "10L2650A\u{1d}17"),
            vec![
                Backspace,
                Backspace,
                Backspace,
                Char(GS),
                Char('1'),
                Char('7'),
                Enter
            ]
        );
        assert_eq!(retyped_enter("A-01-01", "A-01-01"), vec![Enter]);
        // The whole path: typed keys, then the Enter through the site's
        // setting, leave the GS1 reader the scan with GS.
        let config = crate::config::Config {
            server: String::new(),
            token: String::new(),
            device: uuid::Uuid::nil(),
            ca: None,
            gs_substitute: Some(r"\F".into()),
            store: None,
            last_seq: 0,
        };
        let typed = r"]C1010579000010009510L2650A\F17280115";
        let mut input = String::from(typed);
        for m in retyped_enter(typed, &config.normalize_scan(typed)) {
            match m {
                Char(c) => input.push(c),
                Backspace => {
                    input.pop();
                }
                Enter => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(input, "]C1010579000010009510L2650A\u{1d}17280115");
        let gs1 = pyck_vocab::gs1::parse(&input, chrono::Local::now().date_naive()).unwrap();
        assert_eq!(gs1.lot(), Some("L2650A"));
        // A bin that contains the text is left alone.
        assert_eq!(config.normalize_scan(r"A\F1"), r"A\F1");
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
        assert_eq!(msg(key(KeyCode::Char('4'), KeyModifiers::CONTROL)), None);
        assert_eq!(msg(Event::Resize(20, 8)), Some(Msg::Resize));
        assert_eq!(msg(Event::FocusGained), None);
    }
}
