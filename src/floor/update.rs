//! The floor dashboard's update: a message in, the state changed, effects
//! out. Pure, so every key and every server message is tested without a
//! terminal or a server.

use chrono::{DateTime, Utc};
use pyck_vocab::events::Event;

use super::app::{FEED_LINES, FeedLine, Floor, NoteInput, Snapshot};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    Char(char),
    Enter,
    Escape,
    Backspace,
    Up,
    Down,
    /// Ctrl-C: leave at once.
    Quit,
    /// Only a redraw.
    Resize,
    /// The desk's clock, once a second: ages move on between snapshots.
    Tick(DateTime<Utc>),
    /// An event from the server's subscription.
    Event(Event),
    /// The subscription connected (true) or was lost (false).
    Live(bool),
    /// A fresh snapshot (or why there is none), with the desk's clock when
    /// it arrived.
    Snapshot(Result<Snapshot, String>, DateTime<Utc>),
    /// Resolutions recorded here and not yet on the server, after a sync.
    Pending(u64),
    /// The outcome of an [`Effect::Resolve`].
    Recorded(Result<String, String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Sync (sends recorded resolutions) and fetch a new snapshot. Requests
    /// made while one runs are served by one more run, not one each.
    Refresh,
    /// Record the resolution of an exception in the journal (it syncs like
    /// every operation, offline too).
    Resolve {
        id: String,
        note: String,
    },
    Quit,
}

pub fn update(floor: &mut Floor, msg: Msg) -> Vec<Effect> {
    if floor.note.is_some() {
        return typing_note(floor, msg);
    }
    match msg {
        Msg::Quit | Msg::Char('q') => {
            floor.quit = true;
            vec![Effect::Quit]
        }
        Msg::Up | Msg::Char('k') => {
            floor.selected = floor.selected.saturating_sub(1);
            vec![]
        }
        Msg::Down | Msg::Char('j') => {
            let last = floor
                .snapshot
                .as_ref()
                .map_or(0, |s| s.exceptions.len().saturating_sub(1));
            floor.selected = (floor.selected + 1).min(last);
            vec![]
        }
        Msg::Enter | Msg::Char('r') => {
            match floor.selected_exception() {
                Some(e) => {
                    floor.note = Some(NoteInput {
                        exception: e.id.clone(),
                        text: String::new(),
                    });
                    floor.notice = None;
                }
                None => floor.notice = Some("no open exception to resolve".into()),
            }
            vec![]
        }
        Msg::Char('s') => {
            floor.notice = Some("refreshing".into());
            vec![Effect::Refresh]
        }
        Msg::Escape => {
            floor.notice = None;
            vec![]
        }
        msg => server(floor, msg),
    }
}

/// Keys while the note of a resolution is typed: everything is text until
/// Enter records it or Escape drops it.
fn typing_note(floor: &mut Floor, msg: Msg) -> Vec<Effect> {
    let Some(note) = floor.note.as_mut() else {
        return vec![];
    };
    match msg {
        Msg::Char(c) => {
            note.text.push(c);
            vec![]
        }
        Msg::Backspace => {
            note.text.pop();
            vec![]
        }
        Msg::Escape => {
            floor.note = None;
            floor.notice = Some("not resolved".into());
            vec![]
        }
        Msg::Enter if note.text.trim().is_empty() => {
            floor.notice = Some("type a note: what was found, what was done".into());
            vec![]
        }
        Msg::Enter => match floor.note.take() {
            Some(NoteInput { exception, text }) => vec![Effect::Resolve {
                id: exception,
                note: text.trim().to_owned(),
            }],
            None => vec![],
        },
        Msg::Quit => {
            floor.quit = true;
            vec![Effect::Quit]
        }
        msg => server(floor, msg),
    }
}

/// What the server, the clock and the event loop say: the same whatever the
/// supervisor is doing.
fn server(floor: &mut Floor, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(local) => {
            floor.now = local + floor.skew;
            vec![]
        }
        Msg::Event(event) => {
            floor.feed.push_front(FeedLine {
                at: event.at,
                text: crate::commands::feed::describe(&event.kind),
            });
            floor.feed.truncate(FEED_LINES);
            // Any event may move a figure: a workflow step reserves (new
            // pick tasks), compensates (cancelled ones) or raises
            // `pick_overdue`, and a `lagged` marker means events were lost.
            vec![Effect::Refresh]
        }
        Msg::Live(up) => {
            let was = floor.live;
            floor.live = up;
            if up && !was {
                // Events may have been missed while the subscription was down.
                vec![Effect::Refresh]
            } else if was && !up {
                // The feed is the one connection held open: its loss (a
                // close, or no answer to its keep-alive ping) is the first
                // sign of a server gone. Nothing else would ask the server
                // before the next event, which will not come; so OFFLINE at
                // once, and a snapshot says ONLINE again if it still answers.
                floor.online = Some(false);
                floor.last_error = Some("lost the live connection to the server".into());
                vec![Effect::Refresh]
            } else {
                vec![]
            }
        }
        Msg::Snapshot(Ok(snapshot), local) => {
            floor.online = Some(true);
            floor.last_error = None;
            floor.skew = snapshot.at - local;
            floor.now = snapshot.at;
            // The cursor stays on the same exception when others come and go.
            let current = floor.selected_exception().map(|e| e.id.clone());
            floor.selected = current
                .and_then(|id| snapshot.exceptions.iter().position(|e| e.id == id))
                .unwrap_or(floor.selected)
                .min(snapshot.exceptions.len().saturating_sub(1));
            floor.snapshot = Some(snapshot);
            vec![]
        }
        Msg::Snapshot(Err(why), _) => {
            floor.online = Some(false);
            floor.last_error = Some(why);
            vec![]
        }
        Msg::Pending(n) => {
            floor.pending = n;
            vec![]
        }
        Msg::Recorded(Ok(what)) => {
            floor.notice = Some(what);
            vec![Effect::Refresh]
        }
        Msg::Recorded(Err(why)) => {
            floor.notice = Some(format!("not recorded: {why}"));
            vec![]
        }
        _ => vec![],
    }
}

#[cfg(test)]
mod tests;
