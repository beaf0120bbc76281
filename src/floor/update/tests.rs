//! Every key and every server message of the dashboard, without a terminal
//! or a server.

use chrono::Duration;
use pyck_vocab::events::EventKind;

use super::{Effect, Msg, update};
use crate::floor::testing::{ago, event, floor, now, snapshot, stock_changed};

#[test]
fn an_event_goes_to_the_top_of_the_feed_and_asks_for_a_snapshot() {
    let mut f = floor();
    assert_eq!(
        update(&mut f, Msg::Event(event(1, stock_changed("A-01", 7)))),
        [Effect::Refresh]
    );
    update(&mut f, Msg::Event(event(0, stock_changed("A-02", 3))));
    let texts: Vec<_> = f.feed.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["stock A-02 SKU-1: 3", "stock A-01 SKU-1: 7"]);
}

#[test]
fn a_workflow_step_asks_for_a_snapshot_too() {
    let mut f = floor();
    let step = EventKind::WorkflowStep {
        order: "SO-1".into(),
        step: "notify".into(),
        status: "done".into(),
        attempt: 1,
        error: None,
    };
    // A reserve creates pick tasks without an event of their own.
    assert_eq!(
        update(&mut f, Msg::Event(event(0, step))),
        [Effect::Refresh]
    );
    assert_eq!(f.feed.len(), 1);
}

#[test]
fn the_feed_keeps_its_newest_lines_only() {
    let mut f = floor();
    for i in 0..(crate::floor::app::FEED_LINES + 5) {
        update(
            &mut f,
            Msg::Event(event(0, stock_changed("A-01", i as i64))),
        );
    }
    assert_eq!(f.feed.len(), crate::floor::app::FEED_LINES);
    assert!(
        f.feed[0]
            .text
            .ends_with(&format!(": {}", crate::floor::app::FEED_LINES + 4))
    );
}

#[test]
fn a_reconnected_feed_asks_for_a_snapshot_once() {
    let mut f = floor();
    update(&mut f, Msg::Live(false));
    assert!(!f.live);
    assert_eq!(update(&mut f, Msg::Live(false)), []);
    assert_eq!(update(&mut f, Msg::Live(true)), [Effect::Refresh]);
    assert_eq!(update(&mut f, Msg::Live(true)), []);
}

#[test]
fn resolving_takes_a_note_and_records_it() {
    let mut f = floor();
    update(&mut f, Msg::Down);
    update(&mut f, Msg::Enter);
    // While typing, letters are text, not commands.
    for c in "q recounted: 7".chars() {
        assert_eq!(update(&mut f, Msg::Char(c)), []);
    }
    update(&mut f, Msg::Backspace);
    assert_eq!(
        update(&mut f, Msg::Enter),
        [Effect::Resolve {
            id: "01a20aa1-0002-7000-8000-000000000002".into(),
            note: "q recounted:".into(),
        }]
    );
    assert_eq!(f.note, None);
    assert_eq!(
        update(&mut f, Msg::Recorded(Ok("recorded".into()))),
        [Effect::Refresh]
    );
    assert_eq!(f.notice.as_deref(), Some("recorded"));
}

#[test]
fn an_empty_note_is_refused_and_escape_drops_the_resolution() {
    let mut f = floor();
    update(&mut f, Msg::Char('r'));
    update(&mut f, Msg::Char(' '));
    assert_eq!(update(&mut f, Msg::Enter), []);
    assert!(f.note.is_some());
    assert!(f.notice.as_deref().unwrap_or_default().contains("note"));
    assert_eq!(update(&mut f, Msg::Escape), []);
    assert_eq!(f.note, None);
}

#[test]
fn nothing_to_resolve_says_so() {
    let mut f = floor();
    let mut empty = snapshot();
    empty.exceptions.clear();
    update(&mut f, Msg::Snapshot(Ok(empty), now()));
    assert_eq!(update(&mut f, Msg::Enter), []);
    assert_eq!(f.note, None);
    assert_eq!(f.notice.as_deref(), Some("no open exception to resolve"));
}

#[test]
fn the_cursor_stays_within_the_queue_and_on_its_exception() {
    let mut f = floor();
    for _ in 0..10 {
        update(&mut f, Msg::Down);
    }
    assert_eq!(f.selected, 2);
    update(&mut f, Msg::Up);
    assert_eq!(f.selected, 1);
    // The first exception is resolved elsewhere: the cursor follows its own.
    let mut next = snapshot();
    next.exceptions.remove(0);
    update(&mut f, Msg::Snapshot(Ok(next.clone()), now()));
    assert_eq!(f.selected, 0);
    assert_eq!(
        f.selected_exception().map(|e| e.id.as_str()),
        Some("01a20aa1-0002-7000-8000-000000000002")
    );
    // Its own resolved too: the cursor stays in range.
    next.exceptions.truncate(0);
    update(&mut f, Msg::Snapshot(Ok(next), now()));
    assert_eq!(f.selected, 0);
}

#[test]
fn ages_follow_the_servers_clock_between_snapshots() {
    let mut f = floor();
    // The desk's clock is 5 minutes slow.
    let desk = now() - Duration::minutes(5);
    update(&mut f, Msg::Snapshot(Ok(snapshot()), desk));
    update(&mut f, Msg::Tick(desk + Duration::minutes(12)));
    assert_eq!(f.now, now() + Duration::minutes(12));
    let stuck: Vec<_> = snapshot()
        .devices
        .iter()
        .filter(|d| d.stuck(f.now))
        .map(|d| d.name.clone())
        .collect();
    assert_eq!(stuck, ["scanner-12"]);
    // Quiet for a minute with nothing to send is not stuck.
    assert!(!snapshot().devices[1].stuck(ago(-60)));
}

#[test]
fn a_lost_feed_shows_offline_at_once_and_asks_the_server() {
    let mut f = floor();
    update(&mut f, Msg::Live(true));
    update(&mut f, Msg::Snapshot(Ok(snapshot()), now()));
    assert_eq!(f.online, Some(true));
    assert_eq!(update(&mut f, Msg::Live(false)), [Effect::Refresh]);
    assert_eq!(f.online, Some(false));
    // Further failed reconnections ask nothing more.
    assert_eq!(update(&mut f, Msg::Live(false)), []);
    // A server that still answers says so.
    update(&mut f, Msg::Snapshot(Ok(snapshot()), now()));
    assert_eq!(f.online, Some(true));
}

#[test]
fn a_failed_snapshot_shows_offline_and_keeps_the_last_one() {
    let mut f = floor();
    update(
        &mut f,
        Msg::Snapshot(Err("server unreachable".into()), now()),
    );
    assert_eq!(f.online, Some(false));
    assert_eq!(f.last_error.as_deref(), Some("server unreachable"));
    assert_eq!(f.snapshot, Some(snapshot()));
}

#[test]
fn keys_quit_and_refresh() {
    let mut f = floor();
    assert_eq!(update(&mut f, Msg::Char('s')), [Effect::Refresh]);
    assert_eq!(update(&mut f, Msg::Char('q')), [Effect::Quit]);
    let mut f = floor();
    update(&mut f, Msg::Enter);
    assert_eq!(
        update(&mut f, Msg::Quit),
        [Effect::Quit],
        "Ctrl-C even while typing"
    );
}
