//! Request limits that hold before any expensive work, in time linear in
//! the request.
//!
//! async-graphql 7.2's own limits do not cover what one device token could
//! do with a small document (issue 19):
//!
//! - its parser recurses once per nesting level of a value literal and has
//!   no bound (`limit_recursive_depth` is checked *after* parsing, on
//!   selection sets only), so `stock(location: [[[…]]])` 1,400 deep
//!   overflowed the stack and aborted the process;
//! - `limit_recursive_depth`, `limit_depth` and `limit_complexity` walk a
//!   fragment spread by walking the fragment again, once per spread, so 26
//!   fragments each spreading the previous twice cost 2^26 visits before
//!   any of them could refuse;
//! - nothing bounds how often a root field is repeated under aliases, so 60
//!   aliased `pull`s answered 234 MB.
//!
//! So every document is first scanned as text ([`check_text`]: bracket
//! nesting, one pass, no recursion), then parsed, then measured
//! ([`check_document`]: each fragment's expanded size computed once and
//! reused, so linear in the document), and only then handed to
//! async-graphql's validation and execution, whose costs are by then
//! bounded by [`MAX_SELECTIONS`]. The HTTP handler, the sync fast path and
//! (through the [`Limits`] extension) every request the schema executes,
//! `/graphql/ws` subscriptions included, run these checks. A refusal is a
//! GraphQL error with a stable code in `extensions.code`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Request, ServerError, ServerResult};

/// Deepest nesting of `{`, `[` and `(` in a document's text, selections,
/// arguments and value literals together. The deepest document the
/// terminal or the supervisor screens send nests 8.
pub const MAX_NESTING: usize = 32;
/// Most field selections in one operation or fragment once every fragment
/// spread is expanded.
pub const MAX_SELECTIONS: usize = 2_000;
/// Most fields (aliases included) at the root of one operation.
pub const MAX_ROOT_FIELDS: usize = 100;
/// How often `push` or `pull` may stand at the root of one operation: each
/// carries up to a whole batch or page, and a terminal sends one at a time.
pub const MAX_SYNC_FIELDS: usize = 1;
/// Largest response body; larger answers are replaced by an error.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Largest message accepted on `/graphql/ws`.
pub const MAX_WS_MESSAGE_BYTES: usize = 256 * 1024;

/// `extensions.code` of a document nested deeper than [`MAX_NESTING`].
pub const NESTING_TOO_DEEP: &str = "nesting_too_deep";
/// `extensions.code` of a document over [`MAX_SELECTIONS`] (or whose
/// fragments spread themselves), and of async-graphql's complexity limit.
pub const QUERY_TOO_COMPLEX: &str = "query_too_complex";
/// `extensions.code` of an operation over [`MAX_ROOT_FIELDS`] or
/// [`MAX_SYNC_FIELDS`].
pub const TOO_MANY_ROOT_FIELDS: &str = "too_many_root_fields";
/// `extensions.code` of an answer over [`MAX_RESPONSE_BYTES`].
pub const RESPONSE_TOO_LARGE: &str = "response_too_large";

/// A request-level GraphQL error carrying `code`.
pub fn refusal(code: &'static str, message: impl Into<String>) -> ServerError {
    let mut err = ServerError::new(message, None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

/// Refuses a document whose brackets nest deeper than [`MAX_NESTING`]; one
/// pass over the bytes, skipping strings, block strings and comments, so the
/// parser after it never recurses deeper than that.
pub fn check_text(text: &str) -> Result<(), ServerError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(refusal(
                        NESTING_TOO_DEEP,
                        format!(
                            "the document nests brackets deeper than {MAX_NESTING}; send values in variables"
                        ),
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// What a selection set or fragment amounts to once expanded.
#[derive(Clone, Copy, Default)]
struct Size {
    /// Field selections, at any depth.
    selections: usize,
    /// Fields at its own top level.
    root: usize,
    /// `push` and `pull` fields at its own top level.
    sync: usize,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.selections = self.selections.saturating_add(other.selections);
        self.root = self.root.saturating_add(other.root);
        self.sync = self.sync.saturating_add(other.sync);
    }
}

/// Measures `doc` with each fragment expanded once and remembered: refuses
/// any operation or fragment over [`MAX_SELECTIONS`], fragments that spread
/// themselves or chain deeper than [`MAX_NESTING`], and operations over
/// [`MAX_ROOT_FIELDS`] or with `push`/`pull` more than [`MAX_SYNC_FIELDS`]
/// times.
pub fn check_document(doc: &ExecutableDocument) -> Result<(), ServerError> {
    let mut measure = Measure {
        doc,
        fragments: HashMap::new(),
    };
    // Operations first, so a fragment is first measured at the depth an
    // operation reaches it; then the fragments no operation spreads.
    for (_, op) in doc.operations.iter() {
        let size = measure.set(&op.node.selection_set.node, 0)?;
        if size.root > MAX_ROOT_FIELDS {
            return Err(refusal(
                TOO_MANY_ROOT_FIELDS,
                format!(
                    "an operation selects {} root fields; at most {MAX_ROOT_FIELDS}",
                    size.root
                ),
            ));
        }
        if size.sync > MAX_SYNC_FIELDS {
            return Err(refusal(
                TOO_MANY_ROOT_FIELDS,
                format!(
                    "an operation selects push or pull {} times; at most {MAX_SYNC_FIELDS}: send one request per batch or page",
                    size.sync
                ),
            ));
        }
    }
    for name in doc.fragments.keys() {
        measure.fragment(name.as_str(), 0)?;
    }
    Ok(())
}

struct Measure<'a> {
    doc: &'a ExecutableDocument,
    /// `None` while a fragment is being measured: meeting it again is a cycle.
    fragments: HashMap<&'a str, Option<Size>>,
}

impl<'a> Measure<'a> {
    fn fragment(&mut self, name: &'a str, depth: usize) -> Result<Size, ServerError> {
        match self.fragments.get(name) {
            Some(Some(size)) => return Ok(*size),
            Some(None) => {
                return Err(refusal(
                    QUERY_TOO_COMPLEX,
                    format!("fragment {name} spreads itself"),
                ));
            }
            None => {}
        }
        // Unknown fragments are for validation to report.
        let Some((key, fragment)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Size::default());
        };
        self.fragments.insert(key.as_str(), None);
        let size = self.set(&fragment.node.selection_set.node, depth)?;
        self.fragments.insert(key.as_str(), Some(size));
        Ok(size)
    }

    /// `depth` counts fields, inline fragments and spreads on the way here,
    /// so this recursion stays within [`MAX_NESTING`] however fragments chain.
    fn set(&mut self, set: &'a SelectionSet, depth: usize) -> Result<Size, ServerError> {
        if depth > MAX_NESTING {
            return Err(refusal(
                NESTING_TOO_DEEP,
                format!("selections (fragments expanded) nest deeper than {MAX_NESTING}"),
            ));
        }
        let mut size = Size::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let inner = self.set(&field.node.selection_set.node, depth + 1)?;
                    let name = field.node.name.node.as_str();
                    size.add(Size {
                        selections: inner.selections.saturating_add(1),
                        root: 1,
                        sync: usize::from(name == "push" || name == "pull"),
                    });
                }
                Selection::FragmentSpread(spread) => {
                    let inner =
                        self.fragment(spread.node.fragment_name.node.as_str(), depth + 1)?;
                    size.add(inner);
                }
                Selection::InlineFragment(inline) => {
                    let inner = self.set(&inline.node.selection_set.node, depth + 1)?;
                    size.add(inner);
                }
            }
        }
        if size.selections > MAX_SELECTIONS {
            return Err(refusal(
                QUERY_TOO_COMPLEX,
                format!(
                    "the document selects more than {MAX_SELECTIONS} fields once its fragments are expanded"
                ),
            ));
        }
        Ok(size)
    }
}

/// Both checks on a document's text, then its parse kept in `request` so
/// async-graphql does not parse it again. A document that does not parse is
/// left for async-graphql to report as it always has.
fn check_request(mut request: Request) -> ServerResult<Request> {
    check_text(&request.query)?;
    if let Ok(doc) = request.parsed_query() {
        check_document(doc)?;
    }
    Ok(request)
}

/// The schema extension that runs [`check_text`] and [`check_document`] on
/// every request before async-graphql parses (its own parse then reuses
/// ours), validates or executes it: the general executor over HTTP and the
/// subscriptions over `/graphql/ws` alike.
pub struct Limits;

impl ExtensionFactory for Limits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(LimitsExtension)
    }
}

struct LimitsExtension;

#[async_trait::async_trait]
impl Extension for LimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, check_request(request)?).await
    }
}

/// Gives async-graphql's own limit errors (which carry no code) a stable
/// code, so clients can tell them apart without reading the message.
pub fn code_builtin_errors(response: &mut async_graphql::Response) {
    for err in &mut response.errors {
        let code = match err.message.as_str() {
            "Query is too complex." => QUERY_TOO_COMPLEX,
            "Query is nested too deep." => NESTING_TOO_DEEP,
            m if m.starts_with("The recursion depth of the query cannot be greater") => {
                NESTING_TOO_DEEP
            }
            _ => continue,
        };
        err.extensions
            .get_or_insert_with(ErrorExtensionValues::default)
            .set("code", code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<(), ServerError>) -> Option<String> {
        let err = result.err()?;
        match err.extensions?.get("code")? {
            async_graphql::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    fn doc(query: &str) -> Result<(), ServerError> {
        check_text(query)?;
        check_document(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn deep_literals_are_refused_before_parsing() {
        let deep = format!(
            "{{ stock(location: {}1{}) {{ qty }} }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert_eq!(code(check_text(&deep)).as_deref(), Some(NESTING_TOO_DEEP));
        let object = format!("{{ a: {}1{} }}", "{a:".repeat(5_000), "}".repeat(5_000));
        assert_eq!(code(check_text(&object)).as_deref(), Some(NESTING_TOO_DEEP));
        // Brackets in strings and comments are not nesting.
        let quoted = format!(
            "{{ me {{ id }} }} # {}\n\"{}\" \"\"\"{}\"\"\"",
            "[".repeat(100),
            "{".repeat(100),
            "(".repeat(100)
        );
        assert!(check_text(&quoted).is_ok());
        let terminal = include_str!("../../../src/sync/operations.graphql");
        assert!(doc(terminal).is_ok());
    }

    #[test]
    fn a_fragment_bomb_is_refused_in_linear_time() {
        let mut q = String::from("query { ...F26 }\nfragment F0 on Query { me { id } }\n");
        for i in 1..=26 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
                p = i - 1
            ));
        }
        let started = std::time::Instant::now();
        assert_eq!(code(doc(&q)).as_deref(), Some(QUERY_TOO_COMPLEX));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        let cycle = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }";
        assert_eq!(code(doc(cycle)).as_deref(), Some(QUERY_TOO_COMPLEX));
        // A long chain of fragments is as deep as long nesting.
        let mut chain = String::from("query { ...F0 }\n");
        for i in 0..200 {
            chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        chain.push_str("fragment F200 on Query { me { id } }\n");
        assert_eq!(code(doc(&chain)).as_deref(), Some(NESTING_TOO_DEEP));
    }

    #[test]
    fn root_fields_and_sync_fields_are_counted_through_fragments() {
        let pulls = |n: usize| {
            (0..n)
                .map(|i| format!("p{i}: pull(request: $r)"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let one = format!("query($r: PullRequest!) {{ {} }}", pulls(1));
        assert!(doc(&one).is_ok());
        let two = format!("query($r: PullRequest!) {{ {} }}", pulls(2));
        assert_eq!(code(doc(&two)).as_deref(), Some(TOO_MANY_ROOT_FIELDS));
        let hidden = "query($r: PullRequest!) { pull(request: $r) ...F } \
                      fragment F on Query { ... { q: pull(request: $r) } }";
        assert_eq!(code(doc(hidden)).as_deref(), Some(TOO_MANY_ROOT_FIELDS));
        let wide = |n: usize| {
            let fields: Vec<_> = (0..n).map(|i| format!("a{i}: me {{ id }}")).collect();
            format!("{{ {} }}", fields.join(" "))
        };
        assert!(doc(&wide(MAX_ROOT_FIELDS)).is_ok());
        assert_eq!(
            code(doc(&wide(MAX_ROOT_FIELDS + 1))).as_deref(),
            Some(TOO_MANY_ROOT_FIELDS)
        );
    }
}
