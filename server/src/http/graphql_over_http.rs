//! GraphQL over HTTP, per the GraphQL-over-HTTP specification: POST with an
//! `application/json` body, GET with query parameters (queries only), and
//! responses in `application/graphql-response+json` when the client accepts
//! it (with 400 for requests that fail before execution) or legacy
//! `application/json` (always 200 once the request was understood).

use async_graphql::Variables;
use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::AppState;
use super::push_pull_fast_path::{self, Answer};
use crate::graphql::limits;
use crate::storage::DeviceAuth;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Which media type the response uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponse,
    Json,
}

impl Media {
    fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }
}

/// Picks the response media type from `Accept`; `None` when the client
/// accepts neither.
fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(Media::GraphqlResponse)
    } else if types
        .iter()
        .any(|t| *t == JSON || *t == "*/*" || *t == "application/*")
    {
        Some(Media::Json)
    } else {
        None
    }
}

fn respond(media: Media, status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        body.to_string(),
    )
        .into_response()
}

/// A request error: nothing was executed, there is no `data`.
fn request_error(media: Media, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message.into() }] });
    respond(media, StatusCode::BAD_REQUEST, body)
}

/// A GraphQL document that does not parse: 400 with the new media type,
/// 200 with legacy JSON (the spec's advice for legacy clients).
fn document_error(media: Media, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message.into() }] });
    let status = match media {
        Media::GraphqlResponse => StatusCode::BAD_REQUEST,
        Media::Json => StatusCode::OK,
    };
    respond(media, status, body)
}

pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
    axum::Extension(device): axum::Extension<DeviceAuth>,
    body: Bytes,
) -> Response {
    let Some(media) = negotiate(&headers) else {
        return (
            StatusCode::NOT_ACCEPTABLE,
            "accept application/graphql-response+json or application/json\n",
        )
            .into_response();
    };
    let params = if method == Method::GET {
        from_query(&params)
    } else {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence != JSON {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                [(header::ACCEPT, JSON)],
                "send the request body as application/json\n",
            )
                .into_response();
        }
        match push_pull_fast_path::execute(&state, &device, &body).await {
            Some(Answer::Data(body)) => {
                return (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, media.content_type())],
                    body,
                )
                    .into_response();
            }
            Some(Answer::Failed(response)) => return graphql_response(media, response),
            None => {}
        }
        from_body(&body)
    };
    let params = match params {
        Ok(p) => p,
        Err(message) => return request_error(media, message),
    };
    // The limits before the parser, whose recursion they bound, and before
    // validation, whose cost they bound (see `graphql::limits`).
    if let Err(e) = limits::check_text(&params.query) {
        return graphql_response(media, async_graphql::Response::from_errors(vec![e]));
    }
    let document = match async_graphql::parser::parse_query(&params.query) {
        Ok(doc) => doc,
        Err(e) => return document_error(media, e.to_string()),
    };
    if let Err(e) = limits::check_document(&document) {
        return graphql_response(media, async_graphql::Response::from_errors(vec![e]));
    }
    if method == Method::GET {
        let mutation = document.operations.iter().any(|(name, op)| {
            op.node.ty == OperationType::Mutation
                && params
                    .operation_name
                    .as_deref()
                    .is_none_or(|want| name.map(|n| n.as_str()) == Some(want))
        });
        if mutation {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, "POST")],
                "mutations must be sent with POST\n",
            )
                .into_response();
        }
    }
    let mut request = async_graphql::Request::new(params.query)
        .variables(Variables::from_json(Value::Object(params.variables)));
    // Parsed once: the schema's limits extension measures this parse again
    // (cheap) instead of parsing the text again.
    request.set_parsed_query(document);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    let response = state.schema.execute(request.data(device)).await;
    graphql_response(media, response)
}

fn graphql_response(media: Media, mut response: async_graphql::Response) -> Response {
    limits::code_builtin_errors(&mut response);
    // A request that never executed (it did not parse, validate or pass
    // the limits) has no `data` entry and, with the new media type, is a
    // 400. One that executed is a 2xx even when `data` came out null (a
    // non-null field failed): its errors carry the field's path.
    let never_ran = response.is_err()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    let status = if media == Media::GraphqlResponse && never_ran {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = serde_json::to_value(&response).map(|mut body| {
        if let (true, Some(body)) = (never_ran, body.as_object_mut()) {
            body.remove("data");
        }
        body.to_string()
    });
    match body {
        Ok(body) if body.len() > limits::MAX_RESPONSE_BYTES => {
            tracing::warn!(
                bytes = body.len(),
                "GraphQL response over the size limit: replaced by an error"
            );
            let refusal = limits::refusal(
                limits::RESPONSE_TOO_LARGE,
                format!(
                    "the answer is larger than {} MiB: ask for less (fewer fields, a smaller page)",
                    limits::MAX_RESPONSE_BYTES / (1024 * 1024)
                ),
            );
            let body = serde_json::json!({ "data": null, "errors": [refusal] });
            respond(media, StatusCode::OK, body)
        }
        Ok(body) => (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "serialising a GraphQL response");
            respond(
                media,
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"errors":[{"message":"internal server error"}]}),
            )
        }
    }
}

struct Params {
    query: String,
    operation_name: Option<String>,
    variables: Map<String, Value>,
}

fn from_body(body: &[u8]) -> Result<Params, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(mut map) = value else {
        return Err("the body must be a JSON object with a `query`".into());
    };
    let query = match map.remove("query") {
        Some(Value::String(q)) => q,
        Some(_) => return Err("`query` must be a string".into()),
        None => return Err("`query` is missing".into()),
    };
    let operation_name = match map.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("`operationName` must be a string or null".into()),
    };
    let variables = match map.remove("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(v)) => v,
        Some(_) => return Err("`variables` must be an object or null".into()),
    };
    match map.remove("extensions") {
        None | Some(Value::Null) | Some(Value::Object(_)) => {}
        Some(_) => return Err("`extensions` must be an object or null".into()),
    }
    Ok(Params {
        query,
        operation_name,
        variables,
    })
}

fn from_query(params: &[(String, String)]) -> Result<Params, String> {
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let query = get("query").ok_or("`query` is missing")?.to_owned();
    let variables = match get("variables") {
        None | Some("") => Map::new(),
        Some(v) => match serde_json::from_str(v) {
            Ok(Value::Object(m)) => m,
            Ok(Value::Null) => Map::new(),
            _ => return Err("`variables` must be a JSON object".into()),
        },
    };
    if let Some(ext) = get("extensions").filter(|e| !e.is_empty()) {
        match serde_json::from_str::<Value>(ext) {
            Ok(Value::Object(_)) | Ok(Value::Null) => {}
            _ => return Err("`extensions` must be a JSON object".into()),
        }
    }
    Ok(Params {
        query,
        operation_name: get("operationName")
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        variables,
    })
}
