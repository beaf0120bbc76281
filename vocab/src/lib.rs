//! `pyck-vocab` is the vocabulary the terminal and the server share: the
//! operations a device records, how they are validated, the wire protocol of
//! push and pull, the refusal codes, the records a pull brings, GS1
//! barcode parsing, and the enrolment code a handheld registers with.
//!
//! It does no I/O, so everything here is tested with plain unit and property
//! tests, and neither binary redefines any of it.

pub mod names;

pub mod attachments;
pub mod enrol;
pub mod events;
pub mod gs1;
pub mod operation;
pub mod private_file;
pub mod protocol;
pub mod records;
pub mod refusal;
pub mod rules;
pub mod validate;

pub use events::{Event, EventKind};
pub use operation::{Operation, Payload};
pub use protocol::{
    Change, Entity, OpResult, PROTOCOL_VERSION, PullPage, PullRequest, PushOutcome, PushRequest,
    PushResponse,
};
pub use records::{Role, Temperature};
pub use refusal::{Refusal, RefusalCode};
