//! Walking every flow through `update`, with an in-memory warehouse.

use pyck_vocab::operation::Kind;
use pyck_vocab::records::{OrderStatus, Role};

use super::*;
use crate::store::view::StockRow;
use crate::tui::app::{App, Entry, Flow, Screen};
use crate::tui::testing::{Fake, app_as, scan, send};

fn records(effects: &[Effect]) -> Vec<Entry> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(entry) => Some(entry.clone()),
            _ => None,
        })
        .collect()
}

fn form(app: &App) -> &Form {
    match &app.screen {
        Screen::Form(f) | Screen::Login(f) => f,
        other => panic!("not a form: {other:?}"),
    }
}

fn step_name(app: &App) -> &'static str {
    form(app).current().map_or("(done)", |f| f.name)
}

/// A refusal: the bell, the reason on screen, nothing recorded.
fn assert_refused(app: &App, effects: &[Effect], reason: &str) {
    assert!(effects.contains(&Effect::Bell), "no bell: {effects:?}");
    assert!(records(effects).is_empty(), "recorded: {effects:?}");
    let err = app.error.as_ref().expect("an error on screen");
    assert!(
        err.reason.contains(reason),
        "{:?} does not say {reason:?}",
        err.reason
    );
}

fn receiver() -> App {
    app_as("2001", Role::Receiver)
}

#[test]
fn login_asks_badge_then_pin_and_opens_the_menu() {
    let look = Fake::warehouse();
    let mut app = App::new(
        None,
        crate::tui::testing::link(),
        crate::tui::testing::today(),
    );
    assert!(matches!(app.screen, Screen::Login(_)));
    let fx = send(&mut app, &look, scan("2001"));
    assert!(fx.is_empty());
    assert_eq!(step_name(&app), "pin");
    let fx = send(&mut app, &look, scan("1234"));
    assert_eq!(
        fx,
        vec![Effect::Login {
            badge: "2001".into(),
            pin: "1234".into()
        }]
    );
    let op = Operator {
        badge: "2001".into(),
        role: Role::Receiver,
    };
    send(&mut app, &look, [Msg::LoggedIn(Ok(op.clone()))]);
    assert_eq!(app.screen, Screen::Menu);
    assert_eq!(app.operator, Some(op));
}

#[test]
fn a_wrong_pin_is_shown_with_the_bell_and_login_starts_over() {
    let look = Fake::warehouse();
    let mut app = App::new(
        None,
        crate::tui::testing::link(),
        crate::tui::testing::today(),
    );
    send(&mut app, &look, scan("2001"));
    send(&mut app, &look, scan("9999"));
    let fx = send(
        &mut app,
        &look,
        [Msg::LoggedIn(Err("wrong PIN for badge 2001".into()))],
    );
    assert_refused(&app, &fx, "wrong PIN");
    assert_eq!(app.operator, None);
    send(&mut app, &look, [Msg::Enter]);
    assert!(app.error.is_none());
    assert_eq!(step_name(&app), "badge");
}

#[test]
fn receive_with_a_gs1_label_fills_lot_and_expiry() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    assert_eq!(step_name(&app), "asn");
    send(&mut app, &look, scan("ASN-1003"));
    send(
        &mut app,
        &look,
        scan("(01)05790000100484(17)270131(10)L2647E"),
    );
    assert_eq!(form(&app).get("sku"), Some("SKU-10048"));
    assert_eq!(form(&app).get("lot"), Some("L2647E"));
    assert_eq!(form(&app).get("expiry"), Some("2027-01-31"));
    assert_eq!(step_name(&app), "qty");
    assert_eq!(
        form(&app).hint.as_deref(),
        Some("ASN-1003 line 1: 144 expected")
    );
    send(&mut app, &look, scan("24"));
    let fx = send(&mut app, &look, scan("DOCK-01"));
    assert_eq!(
        records(&fx),
        vec![Entry::Receive {
            asn: "ASN-1003".into(),
            sku: "SKU-10048".into(),
            qty: "24".into(),
            lot: Some("L2647E".into()),
            expiry: Some("2027-01-31".into()),
            to: "DOCK-01".into(),
            damaged: None,
        }]
    );
    // Recorded: the next case on the same ASN.
    send(
        &mut app,
        &look,
        [Msg::Recorded(Ok("recorded receive #1".into()))],
    );
    assert_eq!(app.notice.as_deref(), Some("recorded receive #1"));
    assert_eq!(form(&app).get("asn"), Some("ASN-1003"));
    assert_eq!(step_name(&app), "sku");
    assert_eq!(form(&app).get("lot"), None);
}

#[test]
fn receive_asks_lot_and_expiry_of_a_new_lot_typed_by_hand() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    send(&mut app, &look, scan("5790000100484"));
    assert_eq!(step_name(&app), "lot");
    send(&mut app, &look, scan("L9"));
    assert_eq!(step_name(&app), "expiry");
    let fx = send(&mut app, &look, scan("31.01.2027"));
    assert_refused(&app, &fx, "YYYY-MM-DD");
    send(&mut app, &look, [Msg::Escape]);
    send(&mut app, &look, scan("2027-01-31"));
    send(&mut app, &look, scan("10"));
    let fx = send(&mut app, &look, scan("DOCK-01"));
    assert!(matches!(
        &records(&fx)[..],
        [Entry::Receive { lot: Some(l), expiry: Some(e), .. }] if l == "L9" && e == "2027-01-31"
    ));
}

#[test]
fn receive_of_an_item_without_lots_skips_lot_and_expiry() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    send(&mut app, &look, scan("SKU-10001"));
    assert_eq!(step_name(&app), "qty");
    // Not on the ASN: said, not refused (the server raises the exception).
    assert_eq!(
        form(&app).hint.as_deref(),
        Some("! SKU-10001 is not on ASN-1003")
    );
}

#[test]
fn unknown_asn_item_and_bin_are_refused_loudly_and_nothing_is_recorded() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    let fx = send(&mut app, &look, scan("ASN-9"));
    assert_refused(&app, &fx, "ASN ASN-9 is not known");
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(step_name(&app), "asn");
    send(&mut app, &look, scan("ASN-1003"));
    let fx = send(&mut app, &look, scan("HELLO"));
    assert_refused(&app, &fx, "unknown code HELLO");
    send(&mut app, &look, [Msg::Enter]);
    send(&mut app, &look, scan("SKU-10001"));
    send(&mut app, &look, scan("5"));
    let fx = send(&mut app, &look, scan("Z-99"));
    assert_refused(&app, &fx, "unknown location Z-99");
    assert_eq!(step_name(&app), "to");
}

#[test]
fn a_scan_burst_does_not_dismiss_an_error() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-9"));
    // The next scan arrives while the error is up: dropped, error stays.
    send(&mut app, &look, scan("ASN-1003"));
    assert!(app.error.is_some());
    assert_eq!(form(&app).get("asn"), None);
    send(&mut app, &look, [Msg::Enter]);
    assert!(app.error.is_none());
}

#[test]
fn move_walks_from_item_lot_qty_to() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('3')]);
    assert_eq!(app.screen.title(), "Move");
    send(&mut app, &look, scan("C-01-03"));
    send(&mut app, &look, scan("SKU-10037"));
    assert_eq!(step_name(&app), "lot");
    send(&mut app, &look, scan("L2631H"));
    assert_eq!(step_name(&app), "qty", "a lot has no expiry step in a move");
    let fx = send(&mut app, &look, scan("0"));
    assert_refused(&app, &fx, "at least 1");
    send(&mut app, &look, [Msg::Escape]);
    send(&mut app, &look, scan("6"));
    let fx = send(&mut app, &look, scan("C-01-03"));
    assert_refused(&app, &fx, "where the stock comes from");
    send(&mut app, &look, [Msg::Escape]);
    let fx = send(&mut app, &look, scan("C-01-01"));
    assert_eq!(
        records(&fx),
        vec![Entry::Move {
            sku: "SKU-10037".into(),
            lot: Some("L2631H".into()),
            qty: "6".into(),
            from: "C-01-03".into(),
            to: "C-01-01".into(),
            task: None,
        }]
    );
    send(
        &mut app,
        &look,
        [Msg::Recorded(Ok("recorded move #3".into()))],
    );
    assert_eq!(step_name(&app), "from");
}

#[test]
fn escape_goes_back_a_step_then_a_screen() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('3')]);
    send(&mut app, &look, scan("C-01-03"));
    send(&mut app, &look, scan("SKU-10037"));
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(step_name(&app), "sku");
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(step_name(&app), "from");
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(app.screen, Screen::Menu);
    let fx = send(&mut app, &look, [Msg::Char('q')]);
    assert_eq!(fx, vec![Effect::Quit]);
    assert!(app.quit);
}

fn picker() -> App {
    app_as("1007", Role::Picker)
}

#[test]
fn pick_confirms_the_bin_and_the_item_then_records() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    assert_eq!(step_name(&app), "location");
    let fx = send(&mut app, &look, scan("C-01-01"));
    assert_refused(&app, &fx, "wrong bin C-01-01: go to C-01-03");
    send(&mut app, &look, [Msg::Enter]);
    send(&mut app, &look, scan("C-01-03"));
    let fx = send(&mut app, &look, scan("SKU-10001"));
    assert_refused(
        &app,
        &fx,
        "wrong item SKU-10001: this task is for SKU-10037",
    );
    send(&mut app, &look, [Msg::Escape]);
    let fx = send(&mut app, &look, scan("ZZZ"));
    assert_refused(&app, &fx, "unknown code");
    send(&mut app, &look, [Msg::Escape]);
    // A plain EAN of a lot-tracked item: the lot is asked for, and must be
    // one the bin holds.
    send(&mut app, &look, scan("5790000100378"));
    assert_eq!(step_name(&app), "lot");
    let fx = send(&mut app, &look, scan("L9999X"));
    assert_refused(
        &app,
        &fx,
        "lot L9999X is not in C-01-03: the bin holds lot L2631H",
    );
    send(&mut app, &look, [Msg::Escape]);
    send(&mut app, &look, scan("L2631H"));
    assert_eq!(step_name(&app), "qty");
    let fx = send(&mut app, &look, scan("13"));
    assert_refused(
        &app,
        &fx,
        "13 is more than the task asks for: pick at most 12",
    );
    send(&mut app, &look, [Msg::Escape]);
    // Enter alone takes what the task asks for, and records.
    let fx = send(&mut app, &look, [Msg::Enter]);
    assert_eq!(
        records(&fx),
        vec![Entry::Pick {
            task: "T-1".into(),
            qty: 12,
            lot: Some("L2631H".into()),
            short: None,
        }]
    );
    assert_eq!(records(&fx)[0].kind(), Kind::Pick);
}

#[test]
fn pick_of_another_lot_in_the_bin_records_the_lot_on_the_label() {
    let mut look = Fake::warehouse();
    look.stock.push(StockRow {
        location: "C-01-03".into(),
        sku: "SKU-10037".into(),
        lot: Some("L2634F".into()),
        expiry: None,
        qty: 5,
    });
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    send(&mut app, &look, scan("C-01-03"));
    send(
        &mut app,
        &look,
        scan("(01)05790000100378(17)270114(10)L2634F"),
    );
    let fx = send(&mut app, &look, scan("3"));
    assert!(matches!(
        &records(&fx)[..],
        [Entry::Pick { lot: Some(l), qty: 3, .. }] if l == "L2634F"
    ));
}

#[test]
fn a_label_of_a_lot_not_in_the_bin_or_expired_is_refused_at_the_scan() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    send(&mut app, &look, scan("C-01-03"));
    // L2634F is in C-01-01, not here.
    let fx = send(
        &mut app,
        &look,
        scan("(01)05790000100378(17)270114(10)L2634F"),
    );
    assert_refused(&app, &fx, "lot L2634F is not in C-01-03");
    assert_eq!(form(&app).get("sku"), None, "nothing filled in");
    send(&mut app, &look, [Msg::Escape]);
    // The task's own lot, but its label says it expired.
    let fx = send(
        &mut app,
        &look,
        scan("(01)05790000100378(17)261031(10)L2631H"),
    );
    assert_refused(&app, &fx, "lot L2631H EXPIRED on 2026-10-31");
    assert_eq!(step_name(&app), "sku");
}

#[test]
fn short_pick_takes_the_quantity_typed_and_a_reason() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    // Not before the bin is confirmed.
    let fx = send(&mut app, &look, [Msg::ShortPick]);
    assert_refused(&app, &fx, "scan the bin first");
    send(&mut app, &look, [Msg::Escape]);
    send(&mut app, &look, scan("C-01-03"));
    send(&mut app, &look, scan("SKU-10037"));
    send(&mut app, &look, scan("L2631H"));
    send(&mut app, &look, [Msg::Char('7'), Msg::ShortPick]);
    assert!(matches!(app.screen, Screen::ShortReason { .. }));
    // Escape returns to the pick with nothing recorded.
    let fx = send(&mut app, &look, [Msg::Escape]);
    assert!(records(&fx).is_empty());
    assert!(matches!(app.screen, Screen::Form(_)));
    assert_eq!(step_name(&app), "qty");
    assert_eq!(form(&app).get("qty"), None);
    send(&mut app, &look, [Msg::Char('7'), Msg::ShortPick]);
    send(&mut app, &look, [Msg::Down]);
    let fx = send(&mut app, &look, [Msg::Enter]);
    assert_eq!(
        records(&fx),
        vec![Entry::Pick {
            task: "T-1".into(),
            qty: 7,
            lot: Some("L2631H".into()),
            short: Some("damaged".into()),
        }]
    );
    assert_eq!(records(&fx)[0].kind(), Kind::ShortPick);
    // Recorded: on to the next task (none left in this fake: it still
    // lists T-1 as open, so the next pick is shown again).
    send(
        &mut app,
        &look,
        [Msg::Recorded(Ok("recorded short_pick #4".into()))],
    );
    assert!(matches!(&app.screen, Screen::Form(f) if f.flow == Flow::Pick && f.step == 0));
}

#[test]
fn short_pick_at_an_empty_bin_records_zero() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    send(&mut app, &look, scan("C-01-03"));
    send(&mut app, &look, [Msg::ShortPick]);
    let fx = send(&mut app, &look, [Msg::Char('1')]);
    assert!(matches!(
        &records(&fx)[..],
        [Entry::Pick { qty: 0, short: Some(r), .. }] if r == "not found at location"
    ));
}

#[test]
fn no_pick_tasks_says_so() {
    let mut look = Fake::warehouse();
    look.tasks.clear();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    assert!(matches!(app.screen, Screen::Idle { .. }));
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(app.screen, Screen::Menu);
}

#[test]
fn putaway_from_the_task_list() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('2')]);
    assert!(matches!(&app.screen, Screen::PutawayList { tasks, .. } if tasks.len() == 1));
    let fx = send(&mut app, &look, scan("A-01-01"));
    assert_refused(&app, &fx, "no putaway task A-01-01");
    send(&mut app, &look, [Msg::Escape]);
    // Scanning the dock a task starts from opens it.
    send(&mut app, &look, scan("DOCK-01"));
    assert!(matches!(&app.screen, Screen::Form(f) if f.task.is_some()));
    send(&mut app, &look, [Msg::Escape]);
    // Back on the list, the task stays chosen.
    assert!(matches!(
        app.screen,
        Screen::PutawayList { selected: 1, .. }
    ));
    send(&mut app, &look, [Msg::Enter]);
    let fx = send(&mut app, &look, scan("DOCK-04"));
    assert_refused(&app, &fx, "unknown location DOCK-04");
    send(&mut app, &look, [Msg::Escape]);
    let fx = send(&mut app, &look, scan("A-01-01"));
    assert_refused(&app, &fx, "wrong bin A-01-01: go to DOCK-01");
    send(&mut app, &look, [Msg::Escape]);
    send(&mut app, &look, scan("DOCK-01"));
    send(&mut app, &look, scan("SKU-10001"));
    send(&mut app, &look, [Msg::Enter]);
    let fx = send(&mut app, &look, scan("A-01-05"));
    assert_eq!(
        records(&fx),
        vec![Entry::Move {
            sku: "SKU-10001".into(),
            lot: None,
            qty: "48".into(),
            from: "DOCK-01".into(),
            to: "A-01-05".into(),
            task: Some("T-2".into()),
        }]
    );
    send(
        &mut app,
        &look,
        [Msg::Recorded(Ok("recorded move #5".into()))],
    );
    assert!(matches!(app.screen, Screen::PutawayList { .. }));
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(app.screen, Screen::Menu);
}

#[test]
fn free_putaway_is_a_move() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('2')]);
    send(&mut app, &look, scan("0"));
    assert!(matches!(&app.screen, Screen::Form(f) if f.flow == Flow::Putaway && f.task.is_none()));
    send(&mut app, &look, scan("DOCK-01"));
    send(&mut app, &look, scan("SKU-10001"));
    send(&mut app, &look, scan("2"));
    let fx = send(&mut app, &look, scan("A-01-01"));
    assert!(matches!(
        &records(&fx)[..],
        [Entry::Move { task: None, .. }]
    ));
}

#[test]
fn count_is_blind_and_completes_the_open_count_task() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('6')]);
    send(&mut app, &look, scan("A-01-01"));
    send(&mut app, &look, scan("SKU-10001"));
    assert_eq!(form(&app).current().and_then(|f| f.default.clone()), None);
    let fx = send(&mut app, &look, scan("0"));
    assert_eq!(
        records(&fx),
        vec![Entry::Count {
            location: "A-01-01".into(),
            sku: "SKU-10001".into(),
            lot: None,
            qty: "0".into(),
            task: Some("T-3".into()),
        }]
    );
}

#[test]
fn pack_and_ship() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('7')]);
    let fx = send(&mut app, &look, scan("SO-9"));
    assert_refused(&app, &fx, "order SO-9 is not known");
    send(&mut app, &look, [Msg::Escape]);
    send(&mut app, &look, scan("SO-5001"));
    let fx = send(&mut app, &look, scan("3"));
    assert_refused(&app, &fx, "1 to pack or 2 to ship");
    send(&mut app, &look, [Msg::Escape]);
    // Its pick T-1 is still open: neither pack nor ship.
    let fx = send(&mut app, &look, scan("1"));
    assert_refused(&app, &fx, "order SO-5001 has 1 open pick(s)");
    send(&mut app, &look, [Msg::Escape]);
    let fx = send(&mut app, &look, scan("2"));
    assert_refused(&app, &fx, "order SO-5001 has 1 open pick(s)");
    send(&mut app, &look, [Msg::Escape]);

    let mut look = look;
    look.tasks.retain(|t| t.kind != TaskKind::Pick);
    let fx = send(&mut app, &look, scan("2"));
    assert_refused(&app, &fx, "order SO-5001 is not packed");
    send(&mut app, &look, [Msg::Escape]);
    let fx = send(&mut app, &look, scan("1"));
    assert_eq!(
        records(&fx),
        vec![Entry::Order {
            kind: Kind::Pack,
            order: "SO-5001".into()
        }]
    );
    look.orders = vec![("SO-5001", OrderStatus::Packed)];
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('7')]);
    send(&mut app, &look, scan("SO-5001"));
    let fx = send(&mut app, &look, scan("2"));
    assert_eq!(
        records(&fx),
        vec![Entry::Order {
            kind: Kind::Ship,
            order: "SO-5001".into()
        }]
    );
}

#[test]
fn only_supervisors_resolve_exceptions_with_a_note() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('8')]);
    assert!(matches!(&app.screen, Screen::Exceptions { list, .. } if list.len() == 1));
    let fx = send(&mut app, &look, [Msg::Enter]);
    assert_refused(&app, &fx, "a picker may not resolve exceptions");

    let mut app = app_as("3001", Role::Supervisor);
    send(&mut app, &look, [Msg::Char('8'), Msg::Enter]);
    assert_eq!(step_name(&app), "note");
    let fx = send(&mut app, &look, scan("recounted, found 7"));
    assert_eq!(
        records(&fx),
        vec![Entry::Resolve {
            id: "E-1".into(),
            note: "recounted, found 7".into()
        }]
    );
    send(
        &mut app,
        &look,
        [Msg::Recorded(Ok("recorded resolve_exception #1".into()))],
    );
    assert!(matches!(app.screen, Screen::Exceptions { .. }));
}

#[test]
fn stock_lookup_by_bin_gtin_and_gs1() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('5')]);
    send(&mut app, &look, scan("C-01-03"));
    let Screen::Lookup { result: Some(r) } = &app.screen else {
        panic!("no result")
    };
    assert!(r.by_location);
    assert_eq!(r.rows.len(), 1);
    assert_eq!(r.rows[0].qty, 40);

    send(&mut app, &look, scan("5790000100378"));
    let Screen::Lookup { result: Some(r) } = &app.screen else {
        panic!("no result")
    };
    assert!(!r.by_location);
    assert_eq!(r.rows.len(), 2, "both lots of the milk");

    send(
        &mut app,
        &look,
        scan("(01)05790000100378(17)270114(10)L2634F"),
    );
    let Screen::Lookup { result: Some(r) } = &app.screen else {
        panic!("no result")
    };
    assert_eq!(r.rows.len(), 1, "only the scanned lot");
    assert_eq!(r.rows[0].location, "C-01-01");

    send(&mut app, &look, [Msg::Down, Msg::Down, Msg::Up]);
    let Screen::Lookup { result: Some(r) } = &app.screen else {
        panic!("no result")
    };
    assert_eq!(r.scroll, 0, "one row: nowhere to scroll");

    let fx = send(&mut app, &look, scan("NOPE"));
    assert_refused(&app, &fx, "unknown code NOPE");
}

#[test]
fn status_syncs_on_enter_and_logs_out_with_0() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('9')]);
    assert_eq!(app.screen, Screen::Status);
    assert_eq!(send(&mut app, &look, [Msg::Enter]), vec![Effect::SyncNow]);
    // A stray scan does not log anyone out.
    let fx = send(&mut app, &look, scan("A-01-01"));
    assert_refused(&app, &fx, "means nothing here");
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(send(&mut app, &look, scan("0")), vec![Effect::Logout]);
    send(&mut app, &look, [Msg::LoggedOut]);
    assert!(matches!(app.screen, Screen::Login(_)));
    assert_eq!(app.operator, None);
}

#[test]
fn background_sync_updates_the_status_bar_and_a_nudge_syncs() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::SyncStarted]);
    assert!(app.link.syncing);
    send(
        &mut app,
        &look,
        [Msg::Synced(SyncOutcome {
            online: false,
            pending: 9,
            last_sync: None,
            error: Some("server unreachable".into()),
            refused: 0,
            report: None,
            disabled: None,
        })],
    );
    assert_eq!(app.link.online, Some(false));
    assert_eq!(app.link.pending, 9);
    assert!(!app.link.syncing);
    assert_eq!(
        app.link.last_sync.as_deref(),
        Some("2026-11-23T21:40:03.000000Z"),
        "a failed sync keeps the last good one"
    );
    assert_eq!(
        send(&mut app, &look, [Msg::ServerNudge]),
        vec![Effect::SyncNow]
    );
    // Operations the server refused ring the bell and say so.
    let fx = send(
        &mut app,
        &look,
        [Msg::Synced(SyncOutcome {
            online: true,
            pending: 0,
            last_sync: Some("2026-11-23T22:00:00.000000Z".into()),
            error: None,
            refused: 1,
            report: Some("pushed 3 (1 refused), pulled 4".into()),
            disabled: None,
        })],
    );
    assert_eq!(fx, vec![Effect::Bell]);
    assert!(app.notice.as_deref().unwrap().contains("server refused 1"));
    send(&mut app, &look, [Msg::Pending(10)]);
    assert_eq!(app.link.pending, 10);
}

#[test]
fn a_pasted_scan_with_a_line_end_is_a_scan_and_enter() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('3')]);
    send(
        &mut app,
        &look,
        crate::tui::keys::paste("C-01-03\r\nSKU-100"),
    );
    assert_eq!(form(&app).get("from"), Some("C-01-03"));
    assert_eq!(app.input, "SKU-100");
    send(&mut app, &look, crate::tui::keys::paste("37\n"));
    assert_eq!(form(&app).get("sku"), Some("SKU-10037"));
}

#[test]
fn a_recording_the_checks_refuse_returns_to_the_last_step() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('6')]);
    send(&mut app, &look, scan("A-01-01"));
    send(&mut app, &look, scan("SKU-10001"));
    let fx = send(&mut app, &look, scan("4"));
    assert_eq!(records(&fx).len(), 1);
    assert!(form(&app).submitted);
    // Enter again while recording does nothing.
    assert!(send(&mut app, &look, [Msg::Enter]).is_empty());
    let fx = send(
        &mut app,
        &look,
        [Msg::Recorded(Err("a receiver may not record count".into()))],
    );
    assert_refused(&app, &fx, "may not record count");
    send(&mut app, &look, [Msg::Enter]);
    assert_eq!(step_name(&app), "qty");
    assert!(!form(&app).submitted);
}

#[test]
fn ctrl_c_quits_from_any_screen() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1'), Msg::Char('A')]);
    assert_eq!(send(&mut app, &look, [Msg::Quit]), vec![Effect::Quit]);
}

#[test]
fn a_gs1_digital_link_and_a_case_count_fill_the_steps() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    send(
        &mut app,
        &look,
        scan("https://id.gs1.org/01/05790000100484/10/L2650A?17=270301"),
    );
    assert_eq!(form(&app).get("sku"), Some("SKU-10048"));
    assert_eq!(form(&app).get("lot"), Some("L2650A"));
    assert_eq!(form(&app).get("expiry"), Some("2027-03-01"));
    // Back from the quantity: to the scan that filled lot and expiry.
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(step_name(&app), "sku");
    assert_eq!(form(&app).get("lot"), None);
    // A case label with a count (AI 30): Enter at the quantity takes it.
    send(&mut app, &look, scan("(01)05790000100019(30)24"));
    assert_eq!(step_name(&app), "qty");
    send(&mut app, &look, [Msg::Enter]);
    assert_eq!(form(&app).get("qty"), Some("24"));
}

/// Catch weight: an item stocked in grams, received from a weighed case's
/// label (net weight 1.234 kg, AI 3103), takes the weight as its quantity;
/// a label too fine for an item stocked in kilograms is refused.
#[test]
fn a_weighed_case_gives_its_weight_as_the_quantity() {
    let mut look = Fake::warehouse();
    let mut cheese = crate::tui::testing::item("SKU-20001", "Cheese by weight", false);
    cheese.uom = "G".into();
    look.items.push((cheese, vec!["9501101530003"]));
    let mut kilos = crate::tui::testing::item("SKU-20002", "Ham by weight", false);
    kilos.uom = "KG".into();
    look.items.push((kilos, vec!["4006381333931"]));
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    // A bare element string, as a scanner without identifiers sends it.
    send(&mut app, &look, scan("01095011015300033103001234"));
    assert_eq!(form(&app).get("sku"), Some("SKU-20001"));
    assert_eq!(step_name(&app), "qty");
    send(&mut app, &look, [Msg::Enter]);
    assert_eq!(form(&app).get("qty"), Some("1234"));

    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    let fx = send(&mut app, &look, scan("(01)04006381333931(3103)001234"));
    assert!(effects_ring(&fx));
    assert!(
        app.error
            .as_ref()
            .is_some_and(|e| e.reason.contains("whole number of kg")),
        "{:?}",
        app.error
    );
    assert_eq!(form(&app).get("sku"), None);
}

#[test]
fn a_gs1_code_for_an_unknown_gtin_is_refused() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('3')]);
    send(&mut app, &look, scan("C-01-03"));
    let fx = send(&mut app, &look, scan("(01)05790000999994(10)X1"));
    assert!(effects_ring(&fx));
    assert!(app.error.is_some());
    assert_eq!(form(&app).get("sku"), None);
}

fn effects_ring(fx: &[Effect]) -> bool {
    fx.contains(&Effect::Bell)
}

#[test]
fn a_flow_the_role_may_not_record_is_refused_at_the_menu() {
    let look = Fake::warehouse();
    let mut app = picker();
    let fx = send(&mut app, &look, [Msg::Char('1')]);
    assert_refused(&app, &fx, "a picker may not record receive");
    assert_eq!(app.screen, Screen::Menu);
    let mut app = receiver();
    let fx = send(&mut app, &look, [Msg::Char('4')]);
    assert_refused(&app, &fx, "a receiver may not record pick");
    send(&mut app, &look, [Msg::Escape]);
    let fx = send(&mut app, &look, [Msg::Char('7')]);
    assert_refused(&app, &fx, "a receiver may not record pack");
    // Everyone moves and counts.
    for role in [Role::Picker, Role::Receiver] {
        let mut app = app_as("1", role);
        send(&mut app, &look, [Msg::Char('3')]);
        assert_eq!(app.screen.title(), "Move");
        let mut app = app_as("1", role);
        send(&mut app, &look, [Msg::Char('6')]);
        assert!(app.error.is_none());
    }
}

#[test]
fn a_closed_asn_is_refused_at_its_scan() {
    let mut look = Fake::warehouse();
    look.asns[0].closed = true;
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    let fx = send(&mut app, &look, scan("ASN-1003"));
    assert_refused(&app, &fx, "ASN ASN-1003 is closed");
    assert_eq!(step_name(&app), "asn");
}

#[test]
fn an_expired_lot_at_the_dock_is_received_as_rejected() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    // Expired at the end of October; today is 2026-11-23.
    let fx = send(
        &mut app,
        &look,
        scan("(01)05790000100484(17)261031(10)L2647E"),
    );
    assert_refused(&app, &fx, "lot L2647E EXPIRED on 2026-10-31");
    assert!(app.error.as_ref().unwrap().reason.contains("REJECTED"));
    send(&mut app, &look, [Msg::Enter]);
    assert_eq!(step_name(&app), "qty");
    assert_eq!(form(&app).current().unwrap().label, "Rejected");
    send(&mut app, &look, scan("24"));
    let fx = send(&mut app, &look, scan("DOCK-01"));
    assert!(matches!(
        &records(&fx)[..],
        [Entry::Receive { qty, damaged: Some(d), .. }] if qty == "0" && d == "24"
    ));
}

#[test]
fn a_receipt_defaults_to_what_is_still_expected_and_the_same_dock() {
    let mut look = Fake::warehouse();
    look.asns[0].received_qty = 100;
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('1')]);
    send(&mut app, &look, scan("ASN-1003"));
    // Escape on the item step goes back to the ASN, not out of the flow.
    send(&mut app, &look, [Msg::Escape]);
    assert_eq!(step_name(&app), "asn");
    send(&mut app, &look, scan("ASN-1003"));
    send(&mut app, &look, scan("SKU-10048"));
    send(&mut app, &look, scan("L2650A"));
    // The GS1 form of a date, as printed on the label.
    send(&mut app, &look, scan("270200"));
    assert_eq!(form(&app).get("expiry"), Some("2027-02-28"));
    assert_eq!(
        form(&app).current().and_then(|f| f.default.clone()),
        Some("44".into())
    );
    send(&mut app, &look, [Msg::Enter]);
    // A chilled item is not put into an ambient bin, even at receipt.
    let fx = send(&mut app, &look, scan("a-01-01"));
    assert_refused(
        &app,
        &fx,
        "SKU-10048 is chilled goods and A-01-01 is an ambient bin",
    );
    send(&mut app, &look, [Msg::Escape]);
    let fx = send(&mut app, &look, scan("dock-01"));
    assert!(matches!(
        &records(&fx)[..],
        [Entry::Receive { qty, to, .. }] if qty == "44" && to == "DOCK-01"
    ));
    send(
        &mut app,
        &look,
        [Msg::Recorded(Ok("recorded receive #3".into()))],
    );
    assert_eq!(step_name(&app), "sku");
    assert_eq!(
        form(&app).fields.last().and_then(|f| f.default.clone()),
        Some("DOCK-01".into())
    );
}

#[test]
fn a_putaway_chosen_by_its_dock_does_not_ask_for_it_again_and_another_bin_is_confirmed() {
    let look = Fake::warehouse();
    let mut app = receiver();
    send(&mut app, &look, [Msg::Char('2')]);
    send(&mut app, &look, scan("DOCK-01"));
    assert_eq!(step_name(&app), "sku");
    send(&mut app, &look, scan("SKU-10001"));
    send(&mut app, &look, [Msg::Enter]);
    // Not the suggested A-01-05: a warning and the bell, then the same
    // scan again puts it there.
    let fx = send(&mut app, &look, scan("A-01-01"));
    assert!(records(&fx).is_empty());
    assert!(fx.contains(&Effect::Bell));
    assert!(
        form(&app)
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("not the suggested A-01-05"))
    );
    let fx = send(&mut app, &look, scan("A-01-01"));
    assert!(matches!(
        &records(&fx)[..],
        [Entry::Move { to, task: Some(_), .. }] if to == "A-01-01"
    ));
}

#[test]
fn skip_leaves_a_task_for_later() {
    let mut look = Fake::warehouse();
    let mut second = crate::tui::testing::task("T-9", TaskKind::Pick, "A-01-01", "SKU-10001", 5);
    second.sequence = 2;
    look.tasks.push(second);
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    assert!(matches!(&app.screen, Screen::Form(f) if f.task.as_ref().unwrap().id == "T-1"));
    send(&mut app, &look, [Msg::Skip]);
    assert!(matches!(&app.screen, Screen::Form(f) if f.task.as_ref().unwrap().id == "T-9"));
    send(&mut app, &look, [Msg::Skip]);
    assert!(matches!(&app.screen, Screen::Form(f) if f.task.as_ref().unwrap().id == "T-1"));
}

#[test]
fn a_task_cancelled_under_the_picker_is_announced_with_what_to_put_back() {
    let mut look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    send(&mut app, &look, scan("C-01-03"));
    send(&mut app, &look, scan("SKU-10037"));
    send(&mut app, &look, scan("L2631H"));
    // The order was cancelled: the next sync no longer lists the task.
    look.tasks.retain(|t| t.id != "T-1");
    let fx = send(
        &mut app,
        &look,
        [Msg::Synced(SyncOutcome {
            online: true,
            pending: 0,
            last_sync: None,
            error: None,
            refused: 0,
            report: None,
            disabled: None,
        })],
    );
    assert_refused(
        &app,
        &fx,
        "TASK T-1 CANCELLED: put back 12 of SKU-10037 lot L2631H at C-01-03",
    );
    assert!(matches!(app.screen, Screen::Idle { .. }));
}

#[test]
fn a_sync_that_disables_the_operator_ends_the_session_mid_task() {
    let look = Fake::warehouse();
    let mut app = picker();
    send(&mut app, &look, [Msg::Char('4')]);
    let step = step_name(&app).to_owned();
    let synced = |badge: &str| {
        Msg::Synced(SyncOutcome {
            online: true,
            pending: 0,
            last_sync: None,
            error: None,
            refused: 0,
            report: Some("pushed 0, pulled 1".into()),
            disabled: Some(badge.into()),
        })
    };
    // Word of someone else's badge changes nothing here.
    assert_eq!(send(&mut app, &look, [synced("2002")]), vec![]);
    assert!(app.operator.is_some());
    assert_eq!(step_name(&app), step);
    let fx = send(&mut app, &look, [synced("1007")]);
    assert_eq!(fx, vec![Effect::Logout, Effect::Bell]);
    assert!(app.operator.is_none());
    assert!(matches!(app.screen, Screen::Login(_)));
    let error = app.error.as_ref().expect("said loudly").reason.clone();
    assert!(error.contains("1007 was disabled"), "{error}");
}
