//! Snapshots of the dashboard at 80x24 (the smallest) and 120x40, from
//! states reached through `update`. `CI=true` makes a new or changed
//! snapshot fail.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::view;
use crate::floor::app::Floor;
use crate::floor::testing::{event, floor, stock_changed};
use crate::floor::update::{Msg, update};
use pyck_vocab::events::EventKind;

fn snap(name: &str, floor: &Floor) {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| view(f, floor)).unwrap();
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

fn busy() -> Floor {
    let mut f = floor();
    for msg in [
        Msg::Event(event(
            9,
            EventKind::TaskCreated {
                task: "T-118".into(),
            },
        )),
        Msg::Event(event(
            3,
            EventKind::ExceptionRaised {
                id: "01a20aa1-0003-7000-8000-000000000003".into(),
                kind: "damaged_receipt".into(),
                message: "ASN-1003 line 1: 2 damaged".into(),
            },
        )),
        Msg::Event(event(1, stock_changed("A-01-03", 12))),
        Msg::Event(event(0, stock_changed("DOCK-1", 0))),
    ] {
        update(&mut f, msg);
    }
    f
}

#[test]
fn the_floor() {
    snap("floor", &busy());
}

#[test]
fn typing_a_resolution_note() {
    let mut f = busy();
    update(&mut f, Msg::Down);
    update(&mut f, Msg::Enter);
    for c in "recounted, 7 is right".chars() {
        update(&mut f, Msg::Char(c));
    }
    snap("floor_note", &f);
}

#[test]
fn offline_with_the_feed_down() {
    let mut f = busy();
    update(&mut f, Msg::Live(false));
    update(
        &mut f,
        Msg::Snapshot(
            Err("server unreachable: http://127.0.0.1:8080/graphql after 4 attempts".into()),
            crate::floor::testing::now(),
        ),
    );
    snap("floor_offline", &f);
}

#[test]
fn before_the_first_snapshot() {
    let f = Floor::new(
        floor().operator,
        "http://127.0.0.1:8080".into(),
        crate::floor::testing::now(),
        chrono::FixedOffset::east_opt(0).unwrap(),
    );
    snap("floor_waiting", &f);
}

#[test]
fn too_small() {
    let mut t = Terminal::new(TestBackend::new(60, 20)).unwrap();
    t.draw(|f| view(f, &busy())).unwrap();
    insta::assert_snapshot!("floor_too_small", t.backend());
}
