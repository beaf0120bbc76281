//! The floor dashboard's state: the server's last snapshot of the warehouse,
//! the live feed, what the supervisor has selected or is typing, and the
//! link to the server. Plain data: the update function changes it, the view
//! draws it, nothing here does I/O.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, FixedOffset, Utc};

use crate::store::session::Operator;

/// Below this the dashboard shows "terminal too small" instead.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// Feed lines kept (the view shows the newest that fit).
pub const FEED_LINES: usize = 200;

/// A device not heard from for this long while it reported pending
/// operations is shown as stuck.
pub const STUCK_AFTER: Duration = Duration::minutes(10);

/// The warehouse as the server last described it (GraphQL `floor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Server time of the snapshot.
    pub at: DateTime<Utc>,
    /// Start of the first hour in [`OperatorPicks::per_hour`].
    pub shift_start: DateTime<Utc>,
    pub tasks: Vec<ZoneTasks>,
    pub exceptions: Vec<OpenException>,
    pub operators: Vec<OperatorPicks>,
    pub devices: Vec<DeviceRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneTasks {
    pub zone: String,
    pub kind: String,
    pub waiting: i64,
    pub in_progress: i64,
    pub units_left: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenException {
    pub id: String,
    pub kind: String,
    pub message: String,
    pub raised_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorPicks {
    pub operator: String,
    /// Oldest hour first; the last is the current hour.
    pub per_hour: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    pub id: String,
    pub name: String,
    pub last_contact: Option<DateTime<Utc>>,
    pub backlog: i64,
    pub revoked: bool,
}

/// One line of the live feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLine {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// The supervisor is typing the note of a resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteInput {
    pub exception: String,
    pub text: String,
}

/// The dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Floor {
    pub operator: Operator,
    pub server: String,
    pub snapshot: Option<Snapshot>,
    /// Newest first.
    pub feed: VecDeque<FeedLine>,
    /// The subscription is connected (the feed is live).
    pub live: bool,
    /// The last request to the server worked; `None` before the first.
    pub online: Option<bool>,
    pub last_error: Option<String>,
    /// Resolutions recorded here and not yet on the server.
    pub pending: u64,
    /// Index into the snapshot's exceptions.
    pub selected: usize,
    pub note: Option<NoteInput>,
    pub notice: Option<String>,
    /// The server's clock as this desk estimates it: ages ("last contact
    /// 3 min ago") are measured against it, so a desk with a wrong clock
    /// still sees a stuck device.
    pub now: DateTime<Utc>,
    /// Server time minus local time, from the last snapshot.
    pub skew: Duration,
    /// Where clock hours are drawn (the desk's local time zone).
    pub offset: FixedOffset,
    pub quit: bool,
}

impl Floor {
    pub fn new(
        operator: Operator,
        server: String,
        now: DateTime<Utc>,
        offset: FixedOffset,
    ) -> Floor {
        Floor {
            operator,
            server,
            snapshot: None,
            feed: VecDeque::new(),
            live: false,
            online: None,
            last_error: None,
            pending: 0,
            selected: 0,
            note: None,
            notice: None,
            now,
            skew: Duration::zero(),
            offset,
            quit: false,
        }
    }

    /// The exception the cursor is on.
    pub fn selected_exception(&self) -> Option<&OpenException> {
        self.snapshot.as_ref()?.exceptions.get(self.selected)
    }
}

impl DeviceRow {
    /// No contact for [`STUCK_AFTER`] with operations still to send:
    /// someone should go and look.
    pub fn stuck(&self, now: DateTime<Utc>) -> bool {
        !self.revoked
            && self.backlog > 0
            && self.last_contact.is_some_and(|at| now - at >= STUCK_AFTER)
    }
}
