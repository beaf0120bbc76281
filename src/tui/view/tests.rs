//! Snapshots of every screen at the smallest supported size (40x16) and at
//! 80x24, drawn from states reached through `update` on an in-memory
//! warehouse. `CI=true` makes a new or changed snapshot fail.

use pyck_vocab::records::Role;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::view;
use crate::tui::app::App;
use crate::tui::testing::{Fake, app_as, link, scan, send, today};
use crate::tui::update::{Msg, SyncOutcome};

fn draw(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view(f, app)).unwrap();
    t
}

fn snap(name: &str, app: &App) {
    for (w, h) in [(40, 16), (80, 24)] {
        let t = draw(app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), t.backend());
    }
}

/// Reaches a state by sending messages to a fresh app.
fn reach(role: Role, msgs: Vec<Msg>) -> App {
    let look = Fake::warehouse();
    let badge = match role {
        Role::Picker => "1007",
        Role::Supervisor => "3001",
        _ => "2001",
    };
    let mut app = app_as(badge, role);
    send(&mut app, &look, msgs);
    app
}

fn keys(text: &str) -> Vec<Msg> {
    text.chars().map(Msg::Char).collect()
}

fn then(mut a: Vec<Msg>, b: Vec<Msg>) -> Vec<Msg> {
    a.extend(b);
    a
}

#[test]
fn login() {
    let look = Fake::warehouse();
    let mut app = App::new(None, link(), today());
    snap("login_badge", &app);
    app.login_hint =
        Some("demo badges: 1007 picker, 2001 receiver, 3001 supervisor; PIN 1234".into());
    snap("login_demo", &app);
    app.login_hint = None;
    send(&mut app, &look, scan("2001"));
    send(&mut app, &look, keys("12"));
    snap("login_pin", &app);
}

#[test]
fn menu() {
    let mut app = reach(Role::Receiver, vec![]);
    app.notice = Some("logged in: 2001 (receiver)".into());
    snap("menu", &app);
}

#[test]
fn receive() {
    let app = reach(
        Role::Receiver,
        then(
            then(vec![Msg::Char('1')], scan("ASN-1003")),
            then(scan("(01)05790000100484(17)270131(10)L2647E"), keys("24")),
        ),
    );
    snap("receive_qty", &app);
    let look = Fake::warehouse();
    let mut app = app;
    send(&mut app, &look, scan(""));
    send(&mut app, &look, scan("DOCK-01"));
    snap("receive_recording", &app);
    send(
        &mut app,
        &look,
        [Msg::Recorded(Ok("recorded receive #1".into()))],
    );
    snap("receive_recorded", &app);
}

#[test]
fn putaway() {
    let app = reach(Role::Receiver, vec![Msg::Char('2')]);
    snap("putaway_list", &app);
    let app = reach(
        Role::Receiver,
        then(then(vec![Msg::Char('2')], scan("1")), scan("DOCK-01")),
    );
    snap("putaway_task", &app);
}

#[test]
fn movement() {
    let app = reach(
        Role::Receiver,
        then(
            then(vec![Msg::Char('3')], scan("C-01-03")),
            scan("SKU-10037"),
        ),
    );
    snap("move_lot", &app);
}

#[test]
fn pick() {
    let app = reach(Role::Picker, vec![Msg::Char('4')]);
    snap("pick_bin", &app);
    let app = reach(
        Role::Picker,
        then(
            then(vec![Msg::Char('4')], scan("C-01-03")),
            then(then(scan("SKU-10037"), scan("L2631H")), keys("7")),
        ),
    );
    snap("pick_qty", &app);
    let mut msgs = then(vec![Msg::Char('4')], scan("C-01-03"));
    msgs.extend(scan("SKU-10037"));
    msgs.extend(scan("L2631H"));
    msgs.extend(keys("7"));
    msgs.push(Msg::ShortPick);
    let app = reach(Role::Picker, msgs);
    snap("pick_short_reason", &app);
    let look = Fake {
        tasks: vec![],
        ..Fake::warehouse()
    };
    let mut app = app_as("1007", Role::Picker);
    send(&mut app, &look, [Msg::Char('4')]);
    snap("pick_none", &app);
}

#[test]
fn stock_lookup() {
    let app = reach(Role::Picker, vec![Msg::Char('5')]);
    snap("lookup_empty", &app);
    let app = reach(Role::Picker, then(vec![Msg::Char('5')], scan("C-01-03")));
    snap("lookup_bin", &app);
    let app = reach(
        Role::Picker,
        then(vec![Msg::Char('5')], scan("5790000100378")),
    );
    snap("lookup_item", &app);
}

#[test]
fn stock_lookup_longer_than_the_screen() {
    let mut look = Fake::warehouse();
    for i in 1..=20 {
        look.stock.push(crate::store::view::StockRow {
            location: format!("A-{i:02}-01"),
            sku: "SKU-10001".into(),
            lot: None,
            expiry: None,
            qty: i,
        });
    }
    let mut app = app_as("1007", Role::Picker);
    send(&mut app, &look, [Msg::Char('5')]);
    send(&mut app, &look, scan("SKU-10001"));
    send(&mut app, &look, [Msg::Down, Msg::Down]);
    snap("lookup_scrolled", &app);
}

#[test]
fn count() {
    let app = reach(
        Role::Receiver,
        then(
            then(vec![Msg::Char('6')], scan("A-01-01")),
            scan("SKU-10001"),
        ),
    );
    snap("count_qty", &app);
}

#[test]
fn pack_ship() {
    let app = reach(Role::Picker, then(vec![Msg::Char('7')], scan("SO-5001")));
    snap("pack_ship_action", &app);
}

#[test]
fn exceptions() {
    let app = reach(Role::Supervisor, vec![Msg::Char('8')]);
    snap("exceptions_list", &app);
    let app = reach(
        Role::Supervisor,
        then(vec![Msg::Char('8'), Msg::Enter], keys("recounted")),
    );
    snap("exceptions_resolve", &app);
}

#[test]
fn status() {
    let app = reach(Role::Picker, vec![Msg::Char('9')]);
    snap("status_online", &app);
    let app = reach(
        Role::Picker,
        vec![
            Msg::Char('9'),
            Msg::Synced(SyncOutcome {
                online: false,
                pending: 7,
                last_sync: None,
                error: Some("server http://127.0.0.1:8080 unreachable".into()),
                refused: 0,
                report: None,
                disabled: None,
            }),
        ],
    );
    snap("status_offline", &app);
}

#[test]
fn refusal() {
    let app = reach(Role::Picker, then(vec![Msg::Char('4')], scan("C-01-01")));
    snap("refused_wrong_bin", &app);
}

#[test]
fn too_small() {
    let app = reach(Role::Picker, vec![]);
    insta::assert_snapshot!("too_small_20x8", draw(&app, 20, 8).backend());
    insta::assert_snapshot!("too_small_39x16", draw(&app, 39, 16).backend());
}

/// No size, however odd, makes any screen panic.
#[test]
fn every_size_draws() {
    let states = [
        reach(Role::Picker, vec![]),
        reach(Role::Picker, then(vec![Msg::Char('4')], scan("C-01-01"))),
        reach(Role::Picker, then(vec![Msg::Char('5')], scan("C-01-03"))),
        reach(Role::Receiver, vec![Msg::Char('2')]),
        reach(Role::Supervisor, vec![Msg::Char('8')]),
        reach(Role::Picker, then(vec![Msg::Char('4')], scan("C-01-03"))),
    ];
    for app in &states {
        for w in (0..=120).step_by(7) {
            for h in 0..=40 {
                draw(app, w, h);
            }
        }
    }
}

/// Online/offline, the pending count and the operator show on every screen,
/// refusals included, at both sizes.
#[test]
fn the_status_bar_is_always_there() {
    let states = [
        reach(Role::Picker, vec![]),
        reach(Role::Receiver, vec![Msg::Char('1')]),
        reach(Role::Receiver, vec![Msg::Char('2')]),
        reach(Role::Receiver, vec![Msg::Char('3')]),
        reach(Role::Picker, vec![Msg::Char('4')]),
        reach(Role::Picker, vec![Msg::Char('5')]),
        reach(Role::Picker, vec![Msg::Char('6')]),
        reach(Role::Picker, vec![Msg::Char('7')]),
        reach(Role::Supervisor, vec![Msg::Char('8')]),
        reach(Role::Picker, vec![Msg::Char('9')]),
        reach(Role::Picker, then(vec![Msg::Char('4')], scan("C-01-01"))),
    ];
    for app in &states {
        for (w, h) in [(40, 16), (80, 24)] {
            let t = draw(app, w, h);
            let buffer = t.backend().buffer();
            let line: String = (0..w).map(|x| buffer[(x, 1)].symbol().to_owned()).collect();
            let badge = &app.operator.as_ref().unwrap().badge;
            let screen = app.screen.title();
            for part in ["ONLINE", "2 pending", &format!("op {badge}")] {
                assert!(line.contains(part), "{w}x{h} {screen}: {line:?}");
            }
        }
    }
}
