//! The fast path for the sync documents.
//!
//! Push and pull are ordinary GraphQL fields (SPEC: one endpoint), and most
//! of a terminal's traffic is them: batches of thousands of operations. Run
//! through the general executor, such a batch is parsed into a JSON tree,
//! copied into GraphQL variables, checked value by value against the
//! argument's scalar type, deserialised into operations, and its answer goes
//! back through two trees again. A profile of a 10,000-operation push put
//! about 40 % of the server's CPU there, more than the database.
//!
//! So a request whose document is exactly one `push` or `pull` field taking
//! its whole argument from one variable (`mutation Push($request:
//! PushRequest!) { push(request: $request) }`, any operation name, any
//! variable name) is executed here: the variable is deserialised straight
//! into `pyck_vocab::protocol` types and the answer serialised straight from
//! them, by the same [`crate::graphql::push_pull`] functions the resolvers call.
//! Anything else — aliases, directives, other fields, a variable that does
//! not deserialise — goes to the general executor, which also reports the
//! errors, so the fast path never answers differently from it (the tests
//! compare both on the same requests).

use std::borrow::Cow;
use std::collections::HashMap;

use async_graphql::parser::types::{
    BaseType, DocumentOperations, OperationType, Selection, VariableDefinition,
};
use async_graphql::{ErrorExtensions, PathSegment, Pos, ServerError};
use serde::Deserialize;
use serde::Serialize;
use serde_json::value::RawValue;

use super::AppState;
use crate::graphql::{ApiError, limits, push_pull};
use crate::storage::DeviceAuth;

/// Which sync field a recognised document runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncField {
    Push,
    Pull,
}

impl SyncField {
    fn name(self) -> &'static str {
        match self {
            SyncField::Push => "push",
            SyncField::Pull => "pull",
        }
    }
}

/// A recognised sync document: the field, where it stands in the document
/// (for error locations), and the name of the variable carrying its request.
#[derive(Debug, PartialEq, Eq)]
pub struct SyncDocument {
    pub field: SyncField,
    pub pos: Pos,
    pub variable: String,
}

/// The request body, borrowed where it can be: the variables stay raw JSON
/// until we know which type to read them as.
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    query: Cow<'a, str>,
    #[serde(rename = "operationName", borrow, default)]
    operation_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    variables: Option<HashMap<Cow<'a, str>, &'a RawValue>>,
    #[serde(borrow, default)]
    extensions: Option<&'a RawValue>,
}

/// Recognises the sync documents (the operation to run is the only one or
/// the one `operation_name` names); `None` for every other document.
pub fn recognise(query: &str, operation_name: Option<&str>) -> Option<SyncDocument> {
    // The same bound as every other document before the parser recurses; a
    // refused one goes to the general path, which answers the refusal.
    limits::check_text(query).ok()?;
    let doc = async_graphql::parser::parse_query(query).ok()?;
    if !doc.fragments.is_empty() {
        return None;
    }
    let op = match &doc.operations {
        DocumentOperations::Single(op) if operation_name.is_none() => op,
        DocumentOperations::Single(_) => return None,
        // The terminal sends its whole operations file and names the one to
        // run; the others are not executed.
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(want) => ops.get(want)?,
            None if ops.len() == 1 => ops.values().next()?,
            None => return None,
        },
    };
    let op = &op.node;
    let field_kind = match op.ty {
        OperationType::Mutation => SyncField::Push,
        OperationType::Query => SyncField::Pull,
        OperationType::Subscription => return None,
    };
    let [variable] = op.variable_definitions.as_slice() else {
        return None;
    };
    if !op.directives.is_empty() || !is_request_variable(&variable.node, field_kind) {
        return None;
    }
    let [selection] = op.selection_set.node.items.as_slice() else {
        return None;
    };
    let Selection::Field(field) = &selection.node else {
        return None;
    };
    let f = &field.node;
    let [(arg, value)] = f.arguments.as_slice() else {
        return None;
    };
    let plain = f.alias.is_none()
        && f.directives.is_empty()
        && f.selection_set.node.items.is_empty()
        && f.name.node.as_str() == field_kind.name()
        && arg.node.as_str() == "request"
        // The parser's `Value` is not re-exported; a variable displays as `$name`.
        && value.node.to_string() == format!("${}", variable.node.name.node);
    plain.then(|| SyncDocument {
        field: field_kind,
        pos: field.pos,
        variable: variable.node.name.node.to_string(),
    })
}

/// `$x: PushRequest!` for push, `$x: PullRequest!` for pull; no default.
fn is_request_variable(v: &VariableDefinition, field: SyncField) -> bool {
    let want = match field {
        SyncField::Push => "PushRequest",
        SyncField::Pull => "PullRequest",
    };
    v.default_value.is_none()
        && v.directives.is_empty()
        && !v.var_type.node.nullable
        && matches!(&v.var_type.node.base, BaseType::Named(n) if n.as_str() == want)
}

/// What the fast path answers.
pub enum Answer {
    /// The whole response body: `{"data":{"push":…}}`.
    Data(String),
    /// The field failed: the response the general executor would give.
    Failed(async_graphql::Response),
}

/// Runs a POSTed sync document, or returns `None` to hand the request to the
/// general executor (not a sync document, or not one this path can read).
pub async fn execute(state: &AppState, device: &DeviceAuth, body: &[u8]) -> Option<Answer> {
    let body: Body<'_> = serde_json::from_slice(body).ok()?;
    if body.extensions.is_some_and(|e| !e.get().starts_with('{')) {
        return None;
    }
    let doc = recognise(&body.query, body.operation_name.as_deref())?;
    let raw = body.variables.as_ref()?.get(doc.variable.as_str())?.get();
    let result = match doc.field {
        SyncField::Push => {
            let req = serde_json::from_str(raw).ok()?;
            push_pull::push(&state.storage, &state.metrics, &state.events, device, req)
                .await
                .and_then(|r| data(SyncField::Push, &r))
        }
        SyncField::Pull => {
            let req = serde_json::from_str(raw).ok()?;
            push_pull::pull(&state.storage, device, req)
                .await
                .and_then(|r| data(SyncField::Pull, &r))
        }
    };
    Some(match result {
        Ok(body) if body.len() > limits::MAX_RESPONSE_BYTES => {
            Answer::Failed(async_graphql::Response::from_errors(vec![limits::refusal(
                limits::RESPONSE_TOO_LARGE,
                "the answer is too large: ask for a smaller page",
            )]))
        }
        Ok(body) => Answer::Data(body),
        Err(e) => Answer::Failed(async_graphql::Response::from_errors(vec![field_error(
            &doc, &e,
        )])),
    })
}

/// The response body for a field's answer, serialised straight from it.
fn data<T: Serialize>(field: SyncField, answer: &T) -> Result<String, ApiError> {
    #[derive(Serialize)]
    struct Body<'a, T> {
        data: HashMap<&'static str, &'a T>,
    }
    serde_json::to_string(&Body {
        data: HashMap::from([(field.name(), answer)]),
    })
    .map_err(|e| {
        tracing::error!(error = %e, "serialising a sync answer");
        ApiError::Internal
    })
}

/// The error as the general executor reports a failed field: located at the
/// field, with its path and the stable code.
fn field_error(doc: &SyncDocument, e: &ApiError) -> ServerError {
    let mut err = e.extend().into_server_error(doc.pos);
    err.path = vec![PathSegment::Field(doc.field.name().to_owned())];
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the terminal sends: its whole operations file, naming one.
    const TERMINAL: &str = include_str!("../../../src/sync/operations.graphql");

    fn field(query: &str, name: Option<&str>) -> Option<SyncField> {
        recognise(query, name).map(|d| d.field)
    }

    #[test]
    fn the_terminals_documents_take_the_fast_path() {
        assert_eq!(field(TERMINAL, Some("Push")), Some(SyncField::Push));
        assert_eq!(field(TERMINAL, Some("Pull")), Some(SyncField::Pull));
        assert_eq!(field(TERMINAL, Some("Hello")), None);
        assert_eq!(
            field(TERMINAL, None),
            None,
            "several operations, none named"
        );
        let doc = recognise(TERMINAL, Some("Push")).unwrap();
        assert_eq!(doc.variable, "request");
    }

    #[test]
    fn plain_push_pull_fast_path_are_recognised_whatever_their_names() {
        let push = "mutation($r: PushRequest!) { push(request: $r) }";
        let pull = "query P($x: PullRequest!) { pull(request: $x) }";
        assert_eq!(field(push, None), Some(SyncField::Push));
        assert_eq!(field(pull, None), Some(SyncField::Pull));
        assert_eq!(field(pull, Some("P")), Some(SyncField::Pull));
        assert_eq!(recognise(pull, None).unwrap().variable, "x");
    }

    #[test]
    fn everything_else_goes_to_the_general_executor() {
        for query in [
            "mutation($r: PushRequest!) { p: push(request: $r) }",
            "mutation($r: PushRequest!) { push(request: $r) @include(if: true) }",
            "mutation($r: PushRequest!) @deprecated { push(request: $r) }",
            "mutation($r: PushRequest) { push(request: $r) }",
            "mutation($r: PullRequest!) { push(request: $r) }",
            "query($r: PushRequest!) { push(request: $r) }",
            "mutation($r: PushRequest!) { pull(request: $r) }",
            "mutation($r: PushRequest!, $s: Int) { push(request: $r) }",
            "mutation($r: PushRequest!) { push(request: $r) me { id } }",
            "mutation { push(request: {protocol: 1, ops: []}) }",
            "query($r: PullRequest!) { ...F } fragment F on Query { pull(request: $r) }",
            "subscription($r: PullRequest!) { pull(request: $r) }",
            "not graphql",
        ] {
            assert_eq!(recognise(query, None), None, "{query}");
        }
        let pull = "query P($x: PullRequest!) { pull(request: $x) }";
        assert_eq!(field(pull, Some("Q")), None, "names another operation");
        let anonymous = "query($x: PullRequest!) { pull(request: $x) }";
        assert_eq!(field(anonymous, Some("P")), None);
    }
}
