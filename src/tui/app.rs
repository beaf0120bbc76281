//! The scanner UI's state: which screen is up, the step each flow is at, what
//! the operator typed so far, and what the status bar shows. Plain data: the
//! update function changes it, the view draws it, nothing here does I/O.

use chrono::NaiveDate;
use pyck_vocab::operation::Kind;
use pyck_vocab::records::{ExceptionRecord, TaskRecord};

use crate::store::replica::Item;
use crate::store::session::Operator;
use crate::store::view::StockRow;

/// Below this the UI shows "terminal too small" instead of a screen.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 16;

/// Reasons offered for a short pick, in the order of their number keys.
pub const SHORT_REASONS: [&str; 4] = [
    "not found at location",
    "damaged",
    "quantity short",
    "wrong item in bin",
];

/// The quantity step's label when an expired lot is received as rejected.
pub const REJECTED: &str = "Rejected";

/// The flows a form can belong to; each records one kind of operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Login,
    Receive,
    Putaway,
    Move,
    Pick,
    Count,
    PackShip,
    Resolve,
}

impl Flow {
    pub fn title(self) -> &'static str {
        match self {
            Flow::Login => "Log in",
            Flow::Receive => "Receive",
            Flow::Putaway => "Putaway",
            Flow::Move => "Move",
            Flow::Pick => "Pick",
            Flow::Count => "Count (blind)",
            Flow::PackShip => "Pack/Ship",
            Flow::Resolve => "Resolve exception",
        }
    }
}

/// What a step expects, which decides how its input is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Badge,
    /// Shown masked.
    Pin,
    Asn,
    /// A SKU, a GTIN or a GS1 code (which may fill lot, expiry, quantity).
    Item,
    Lot,
    Expiry,
    Qty,
    Location,
    Order,
    /// 1 pack, 2 ship.
    Action,
    Note,
}

/// One step of a form: one field, confirmed by a scan or Enter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The column name the CLI's checks know it by.
    pub name: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub value: Option<String>,
    /// A scan that is not this is refused (the task's bin, item or lot).
    pub expect: Option<String>,
    /// Taken when Enter is pressed on an empty input.
    pub default: Option<String>,
    /// A quantity of 0 is allowed (counts, damaged-only).
    pub zero_ok: bool,
    /// Not asked for this item (a lot for an item without lots).
    pub skip: bool,
    /// Filled by the scan of an earlier step (a GS1 label's lot and expiry):
    /// going back skips it, to the scan that filled it.
    pub auto: bool,
}

impl Field {
    pub fn new(name: &'static str, label: &'static str, kind: FieldKind) -> Field {
        Field {
            name,
            label,
            kind,
            value: None,
            expect: None,
            default: None,
            zero_ok: false,
            skip: false,
            auto: false,
        }
    }

    pub fn expect(mut self, v: Option<String>) -> Field {
        self.expect = v;
        self
    }

    pub fn default_to(mut self, v: Option<String>) -> Field {
        self.default = v;
        self
    }

    pub fn zero_ok(mut self) -> Field {
        self.zero_ok = true;
        self
    }
}

/// A flow in progress: its fields, the step it is at, and what was resolved
/// on the way (the item behind a scanned GTIN, the task being worked).
#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub flow: Flow,
    pub fields: Vec<Field>,
    pub step: usize,
    pub item: Option<Item>,
    pub task: Option<TaskRecord>,
    /// The exception being resolved.
    pub target: Option<String>,
    /// Fields kept after a recording (the receive flow keeps the ASN).
    pub keep: usize,
    /// All fields are in and the recording was asked for.
    pub submitted: bool,
    /// A line above the steps (the open count tasks).
    pub hint: Option<String>,
    /// The item a task is for, shown before it is scanned (description and
    /// unit on the pick screen).
    pub task_item: Option<Item>,
    /// A bin scanned once at a putaway's last step that is not the
    /// suggested one: scanning it again confirms.
    pub confirm: Option<String>,
    /// The receipt is of an expired lot: its quantity is recorded as
    /// rejected (damaged, reason `expired`), not as stock.
    pub rejected: bool,
}

impl Form {
    pub fn new(flow: Flow, fields: Vec<Field>) -> Form {
        Form {
            flow,
            fields,
            step: 0,
            item: None,
            task: None,
            target: None,
            keep: 0,
            submitted: false,
            hint: None,
            task_item: None,
            confirm: None,
            rejected: false,
        }
    }

    pub fn login() -> Form {
        Form::new(
            Flow::Login,
            vec![
                Field::new("badge", "Badge", FieldKind::Badge),
                Field::new("pin", "PIN", FieldKind::Pin),
            ],
        )
    }

    pub fn receive() -> Form {
        let mut f = Form::new(
            Flow::Receive,
            vec![
                Field::new("asn", "ASN", FieldKind::Asn),
                Field::new("sku", "Item", FieldKind::Item),
                Field::new("lot", "Lot", FieldKind::Lot),
                Field::new("expiry", "Expiry", FieldKind::Expiry),
                Field::new("qty", "Qty", FieldKind::Qty),
                Field::new("to", "To", FieldKind::Location),
            ],
        );
        f.keep = 1;
        f
    }

    /// A free move (also a free putaway).
    pub fn movement(flow: Flow) -> Form {
        Form::new(
            flow,
            vec![
                Field::new("from", "From", FieldKind::Location),
                Field::new("sku", "Item", FieldKind::Item),
                Field::new("lot", "Lot", FieldKind::Lot),
                Field::new("qty", "Qty", FieldKind::Qty),
                Field::new("to", "To", FieldKind::Location),
            ],
        )
    }

    /// A putaway task: its source bin, item and lot must be scanned (the
    /// bin not again when the task was chosen by scanning it: `at_bin`).
    pub fn putaway(task: TaskRecord, at_bin: bool) -> Form {
        let remaining = (task.qty - task.done_qty).max(0);
        let mut f = Form::new(
            Flow::Putaway,
            vec![
                Field::new("from", "From", FieldKind::Location).expect(Some(task.location.clone())),
                Field::new("sku", "Item", FieldKind::Item).expect(task.sku.clone()),
                Field::new("lot", "Lot", FieldKind::Lot).expect(task.lot.clone()),
                Field::new("qty", "Qty", FieldKind::Qty).default_to(Some(remaining.to_string())),
                Field::new("to", "To", FieldKind::Location),
            ],
        );
        if at_bin {
            // Filled by the scan that chose the task: Escape skips it, back
            // to the list.
            f.fields[0].value = Some(task.location.clone());
            f.fields[0].auto = true;
            f.advance();
        }
        f.task = Some(task);
        f
    }

    /// A pick task: go to the bin and scan it, scan the item (a GS1 label
    /// gives its lot; a plain EAN of a lot-tracked item asks for it), the
    /// quantity.
    pub fn pick(task: TaskRecord, item: Option<Item>) -> Form {
        let remaining = (task.qty - task.done_qty).max(0);
        let mut f = Form::new(
            Flow::Pick,
            vec![
                Field::new("location", "Bin", FieldKind::Location)
                    .expect(Some(task.location.clone())),
                Field::new("sku", "Item", FieldKind::Item).expect(task.sku.clone()),
                Field::new("lot", "Lot", FieldKind::Lot),
                // Enter on the quantity records: bin and item were scanned
                // already, a separate confirmation was one more key per line.
                Field::new("qty", "Qty", FieldKind::Qty).default_to(Some(remaining.to_string())),
            ],
        );
        f.task = Some(task);
        f.task_item = item;
        f
    }

    pub fn count() -> Form {
        Form::new(
            Flow::Count,
            vec![
                Field::new("location", "Bin", FieldKind::Location),
                Field::new("sku", "Item", FieldKind::Item),
                Field::new("lot", "Lot", FieldKind::Lot),
                Field::new("qty", "Counted", FieldKind::Qty).zero_ok(),
            ],
        )
    }

    pub fn pack_ship() -> Form {
        Form::new(
            Flow::PackShip,
            vec![
                Field::new("order", "Order", FieldKind::Order),
                Field::new("action", "1 Pack 2 Ship", FieldKind::Action),
            ],
        )
    }

    pub fn resolve(exception: &ExceptionRecord) -> Form {
        let mut f = Form::new(
            Flow::Resolve,
            vec![Field::new("note", "Note", FieldKind::Note)],
        );
        f.target = Some(exception.id.clone());
        f
    }

    pub fn current(&self) -> Option<&Field> {
        self.fields.get(self.step)
    }

    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.as_deref())
    }

    /// Moves to the first field still to fill; false when none is left.
    pub fn advance(&mut self) -> bool {
        match self
            .fields
            .iter()
            .position(|f| f.value.is_none() && !f.skip)
        {
            Some(i) => {
                self.step = i;
                true
            }
            None => {
                self.step = self.fields.len();
                false
            }
        }
    }

    /// One step back: clears the previous step and everything after it.
    /// False when already at the first step.
    pub fn back(&mut self) -> bool {
        // At the first step after the kept ones (the receive flow's item),
        // back goes to the kept step itself: a wrong ASN can be changed.
        let first = if self.step <= self.keep { 0 } else { self.keep };
        let prev = (first..self.step.min(self.fields.len()))
            .rev()
            .find(|&i| !self.fields[i].skip && !self.fields[i].auto);
        match prev {
            Some(i) => {
                self.clear_from(i);
                true
            }
            None => false,
        }
    }

    /// Clears fields from `i` on (and what the item, lot and expiry steps
    /// decided).
    pub fn clear_from(&mut self, i: usize) {
        let item_at = self.fields.iter().position(|f| f.kind == FieldKind::Item);
        for f in self.fields.iter_mut().skip(i) {
            f.value = None;
            f.auto = false;
        }
        // A receipt is rejected by its lot or expiry: another one typed
        // after going back decides again.
        let decided = self
            .fields
            .iter()
            .skip(i)
            .any(|f| matches!(f.kind, FieldKind::Item | FieldKind::Lot | FieldKind::Expiry));
        if decided {
            self.rejected = false;
            if let Some(f) = self.field_mut("qty")
                && f.label == REJECTED
            {
                f.label = "Qty";
            }
        }
        if item_at.is_some_and(|at| at >= i) {
            self.item = None;
            for f in self.fields.iter_mut().skip(i) {
                f.skip = false;
                if f.kind == FieldKind::Qty && self.task.is_none() {
                    f.default = None;
                }
            }
        }
        self.submitted = false;
        self.confirm = None;
        self.step = i;
        self.advance();
    }
}

/// The screens. Forms hold flows in progress; the others are lists and
/// views.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    Login(Form),
    Menu,
    Form(Form),
    /// Open putaway tasks; row 0 is "free putaway".
    PutawayList {
        tasks: Vec<TaskRecord>,
        selected: usize,
    },
    /// Choosing why a pick is short.
    ShortReason {
        form: Form,
        selected: usize,
    },
    /// Stock lookup: the last code looked up and what is there.
    Lookup {
        result: Option<LookupResult>,
    },
    Exceptions {
        list: Vec<ExceptionRecord>,
        selected: usize,
    },
    Status,
    /// A flow with nothing to do (no open pick tasks).
    Idle {
        title: &'static str,
        text: String,
    },
}

impl Screen {
    pub fn title(&self) -> &'static str {
        match self {
            Screen::Login(_) => "Log in",
            Screen::Menu => "Menu",
            Screen::Form(f) => f.flow.title(),
            Screen::PutawayList { .. } => "Putaway",
            Screen::ShortReason { .. } => "Short pick",
            Screen::Lookup { .. } => "Stock lookup",
            Screen::Exceptions { .. } => "Exceptions",
            Screen::Status => "Sync/status",
            Screen::Idle { title, .. } => title,
        }
    }
}

/// What a stock lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResult {
    pub code: String,
    /// "bin C-01-01", "SKU-10048 Salmon Fillet…".
    pub heading: String,
    /// A location was scanned: rows show items; otherwise rows show bins.
    pub by_location: bool,
    pub rows: Vec<StockRow>,
    /// The first row shown (↑↓ scroll a list longer than the screen).
    pub scroll: usize,
}

/// A refusal or failure, shown full screen until Enter or Escape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBox {
    pub reason: String,
    /// Keys were typed since it came up (a scan burst): its Enter does not
    /// dismiss the message, so a scan cannot wave an error away unseen.
    pub typed: bool,
}

/// The connection to the server as the background sync last saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    /// None until the first check.
    pub online: Option<bool>,
    pub pending: u64,
    pub server: String,
    pub device: String,
    pub last_sync: Option<String>,
    pub last_error: Option<String>,
    pub last_report: Option<String>,
    pub syncing: bool,
}

/// An operation to record, with the fields the operator gave. The event loop
/// checks and records it through the same functions as the CLI commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Receive {
        asn: String,
        sku: String,
        qty: String,
        lot: Option<String>,
        expiry: Option<String>,
        to: String,
        /// Units rejected at the dock (an expired lot), not stocked.
        damaged: Option<String>,
    },
    Move {
        sku: String,
        lot: Option<String>,
        qty: String,
        from: String,
        to: String,
        task: Option<String>,
    },
    Pick {
        task: String,
        qty: i64,
        lot: Option<String>,
        /// A short pick, with its reason.
        short: Option<String>,
    },
    Count {
        location: String,
        sku: String,
        lot: Option<String>,
        qty: String,
        task: Option<String>,
    },
    Order {
        kind: Kind,
        order: String,
    },
    Resolve {
        id: String,
        note: String,
    },
}

impl Entry {
    pub fn kind(&self) -> Kind {
        match self {
            Entry::Receive { .. } => Kind::Receive,
            Entry::Move { .. } => Kind::Move,
            Entry::Pick { short: None, .. } => Kind::Pick,
            Entry::Pick { short: Some(_), .. } => Kind::ShortPick,
            Entry::Count { .. } => Kind::Count,
            Entry::Order { kind, .. } => *kind,
            Entry::Resolve { .. } => Kind::ResolveException,
        }
    }
}

/// The whole state of the UI.
#[derive(Debug, Clone, PartialEq)]
pub struct App {
    pub screen: Screen,
    /// Screens to go back to with Escape.
    pub back: Vec<Screen>,
    /// What was typed or scanned into the current step.
    pub input: String,
    pub error: Option<ErrorBox>,
    /// The last thing done ("Recorded move #12").
    pub notice: Option<String>,
    /// What this session recorded, oldest first (the last few).
    pub recent: Vec<String>,
    pub operator: Option<Operator>,
    pub link: Link,
    /// A line of help under the login form (the demo's badges).
    pub login_hint: Option<String>,
    /// For GS1 dates with day 00 and two-digit years, and expiry; set by
    /// the event loop.
    pub today: NaiveDate,
    /// Pick tasks skipped this session: offered again after the others.
    pub skipped: Vec<String>,
    pub quit: bool,
}

impl App {
    pub fn new(operator: Option<Operator>, link: Link, today: NaiveDate) -> App {
        let screen = if operator.is_some() {
            Screen::Menu
        } else {
            Screen::Login(Form::login())
        };
        App {
            screen,
            back: Vec::new(),
            input: String::new(),
            error: None,
            notice: None,
            recent: Vec::new(),
            operator,
            link,
            login_hint: None,
            today,
            skipped: Vec::new(),
            quit: false,
        }
    }
}
