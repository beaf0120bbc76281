//! The sync client: GraphQL requests to `pyck-server`, with typed operations
//! generated at compile time from the server's committed schema, retries with
//! backoff for transient failures, and errors sorted into "unreachable"
//! (exit 4) and "refused" (exit 5).

use std::time::Duration;

use graphql_client::{GraphQLQuery, Response};
use pyck_vocab::attachments::{Target, UploadState};
use pyck_vocab::protocol::{self, PROTOCOL_VERSION};
use pyck_vocab::records::Role;
use pyck_vocab::refusal::{Refusal, RefusalCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Remote;
use crate::error::CliError;

// Scalars of the schema, mapped to the shared protocol types.
type PushRequest = protocol::PushRequest;
type PushResponse = protocol::PushResponse;
type PullRequest = protocol::PullRequest;
type PullPage = protocol::PullPage;
type DateTime = chrono::DateTime<chrono::Utc>;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "server/schema.graphql",
    query_path = "src/sync/operations.graphql",
    response_derives = "Debug"
)]
pub struct Hello;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "server/schema.graphql",
    query_path = "src/sync/operations.graphql",
    response_derives = "Debug"
)]
pub struct Push;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "server/schema.graphql",
    query_path = "src/sync/operations.graphql",
    response_derives = "Debug"
)]
pub struct Pull;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "server/schema.graphql",
    query_path = "src/sync/operations.graphql",
    response_derives = "Debug"
)]
pub struct Settings;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "server/schema.graphql",
    query_path = "src/sync/operations.graphql",
    response_derives = "Debug"
)]
pub struct Floor;

#[derive(GraphQLQuery)]
#[graphql(
    schema_path = "server/schema.graphql",
    query_path = "src/sync/operations.graphql",
    response_derives = "Debug"
)]
pub struct VerifyOperator;

/// Attempts per request before giving up as unreachable.
const ATTEMPTS: u32 = 4;
/// First backoff; doubles each retry, with jitter.
const BACKOFF: Duration = Duration::from_millis(250);
/// The longest `Retry-After` the terminal honours before its next try; a
/// longer one still counts as a failed attempt, so a sync ends (exit 4)
/// instead of hanging on a server that asks for minutes.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

pub struct Client {
    http: reqwest::Client,
    /// The server's address, without a trailing slash.
    base: String,
    endpoint: String,
    token: String,
    /// Bytes sent and received, for `sync --json` and the benchmarks.
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

/// What `Hello` learns about the server and this device.
#[derive(Debug, Clone)]
pub struct ServerHello {
    pub version: String,
    pub device: String,
}

impl Client {
    pub fn new(remote: &Remote, timeout: Duration) -> anyhow::Result<Client> {
        let http = remote.http(timeout)?;
        let base = remote.server.clone();
        Ok(Client {
            http,
            endpoint: format!("{base}/graphql"),
            base,
            token: remote.token.clone(),
            bytes_sent: 0,
            bytes_received: 0,
        })
    }

    /// Checks the token and the protocol version.
    pub async fn hello(&mut self) -> anyhow::Result<ServerHello> {
        let data: hello::ResponseData = self.send(Hello::build_query(hello::Variables)).await?;
        let info = data.server_info;
        let (theirs, min) = (info.protocol as u32, info.min_protocol as u32);
        if !(min..=theirs).contains(&PROTOCOL_VERSION) {
            return Err(CliError::Refused(Refusal::new(
                RefusalCode::ProtocolVersion,
                format!(
                    "protocol version mismatch: this terminal speaks {PROTOCOL_VERSION}, \
                     the server speaks {min}..={theirs}; update the older of the two"
                ),
            ))
            .into());
        }
        Ok(ServerHello {
            version: info.version,
            device: data.me.id,
        })
    }

    pub async fn push(
        &mut self,
        request: protocol::PushRequest,
    ) -> anyhow::Result<protocol::PushResponse> {
        let data: push::ResponseData = self
            .send(Push::build_query(push::Variables { request }))
            .await?;
        Ok(data.push)
    }

    pub async fn pull(&mut self, cursor: u64, limit: u32) -> anyhow::Result<protocol::PullPage> {
        let request = protocol::PullRequest {
            protocol: PROTOCOL_VERSION,
            cursor,
            limit,
        };
        let data: pull::ResponseData = self
            .send(Pull::build_query(pull::Variables { request }))
            .await?;
        Ok(data.pull)
    }

    /// Asks the server to check an operator's PIN (supervisors and admins,
    /// whose PIN hash devices never receive); their role when it matches.
    pub async fn verify_operator(&mut self, badge: &str, pin: &str) -> anyhow::Result<Role> {
        let data: verify_operator::ResponseData = self
            .send(VerifyOperator::build_query(verify_operator::Variables {
                badge: badge.to_owned(),
                pin: pin.to_owned(),
            }))
            .await?;
        let role = data.verify_operator.role;
        Role::parse(&role)
            .ok_or_else(|| anyhow::anyhow!("the server answered an unknown role {role:?}"))
    }

    /// The warehouse's count threshold, which the local view applies to
    /// counts not yet pulled back (docs/SETTINGS.md).
    pub async fn count_threshold(&mut self) -> anyhow::Result<Option<i64>> {
        let data: settings::ResponseData = self
            .send(Settings::build_query(settings::Variables))
            .await?;
        Ok(data.settings.count_threshold)
    }

    /// The warehouse as the floor dashboard shows it, with picks charted
    /// over the last `shift_hours` clock hours (docs/FLOOR.md).
    pub async fn floor(&mut self, shift_hours: u32) -> anyhow::Result<floor::FloorFloor> {
        let data: floor::ResponseData = self
            .send(Floor::build_query(floor::Variables {
                shift_hours: i64::from(shift_hours),
            }))
            .await?;
        Ok(data.floor)
    }

    /// Where the upload of a photo stands on the server.
    pub async fn upload_state(&mut self, sha256: &str) -> anyhow::Result<UploadState> {
        let resp = self
            .http
            .get(format!("{}/attachments/{sha256}/upload", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| CliError::Unreachable(describe(&e)))?;
        photo_answer(resp).await
    }

    /// Sends one chunk of a photo of `size` bytes at `offset`. A chunk the
    /// server did not expect (409) answers with where it stands.
    pub async fn put_chunk(
        &mut self,
        sha256: &str,
        offset: u64,
        size: u64,
        chunk: Vec<u8>,
    ) -> anyhow::Result<UploadState> {
        self.bytes_sent += chunk.len() as u64;
        let resp = self
            .http
            .put(format!("{}/attachments/{sha256}", self.base))
            .bearer_auth(&self.token)
            .header("x-pyck-offset", offset)
            .header("x-pyck-size", size)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(chunk)
            .send()
            .await
            .map_err(|e| CliError::Unreachable(describe(&e)))?;
        photo_answer(resp).await
    }

    /// Links an uploaded photo to what it documents.
    pub async fn link(&mut self, sha256: &str, target: &Target) -> anyhow::Result<()> {
        let resp = self
            .http
            .post(format!("{}/attachments/{sha256}/links", self.base))
            .bearer_auth(&self.token)
            .json(target)
            .send()
            .await
            .map_err(|e| CliError::Unreachable(describe(&e)))?;
        if resp.status().is_success() {
            return Ok(());
        }
        Err(photo_refusal(resp).await)
    }

    /// Sends with retries. Transient failures (connection, timeout, 5xx,
    /// 429) are retried with exponential backoff and jitter; a push is safe to
    /// retry because the server settles each operation at most once.
    async fn send<V: Serialize, T: DeserializeOwned>(&mut self, body: V) -> anyhow::Result<T> {
        let body = serde_json::to_vec(&body)?;
        let request_id = uuid::Uuid::now_v7().to_string();
        let mut last = String::new();
        let mut asked = Duration::ZERO;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                // From the operating system's random source: devices that
                // failed together (a server restart) must not retry together.
                let jitter = Duration::from_millis(rand::random_range(0..100));
                let backoff = BACKOFF * 2u32.pow(attempt - 1) + jitter;
                tokio::time::sleep(backoff.max(asked.min(MAX_RETRY_AFTER))).await;
            }
            match self.attempt(&body, &request_id).await {
                Ok(Attempt::Done(bytes)) => return decode(&bytes),
                Ok(Attempt::Retry { why, after }) => (last, asked) = (why, after),
                Err(e) => return Err(e),
            }
        }
        Err(CliError::Unreachable(format!(
            "{} after {ATTEMPTS} attempts (request {request_id}): {last}",
            self.endpoint
        ))
        .into())
    }

    /// One try. Every try of one request carries the same `x-request-id`,
    /// which the server puts on each log line the request causes.
    async fn attempt(&mut self, body: &[u8], request_id: &str) -> anyhow::Result<Attempt> {
        self.bytes_sent += body.len() as u64;
        let sent = self
            .http
            .post(&self.endpoint)
            .bearer_auth(&self.token)
            .header("x-request-id", request_id)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/graphql-response+json")
            .body(body.to_vec())
            .send()
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) => return Ok(Attempt::retry(describe(&e))),
        };
        let status = resp.status();
        let retry_after = retry_after(&resp);
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => return Ok(Attempt::retry(describe(&e))),
        };
        self.bytes_received += bytes.len() as u64;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(CliError::Refused(Refusal::new(
                RefusalCode::Unauthenticated,
                "the server does not accept this terminal's token (unknown or revoked); ask an administrator",
            ))
            .into());
        }
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Ok(Attempt::Retry {
                why: format!("HTTP {status}"),
                after: retry_after,
            });
        }
        if status == reqwest::StatusCode::PAYLOAD_TOO_LARGE {
            return Err(anyhow::anyhow!(
                "the server refused a batch as too large (HTTP 413)"
            ));
        }
        Ok(Attempt::Done(bytes.to_vec()))
    }
}

/// An upload answer: the state, also on 409 (a chunk at the wrong offset).
async fn photo_answer(resp: reqwest::Response) -> anyhow::Result<UploadState> {
    let status = resp.status();
    if status.is_success() || status == reqwest::StatusCode::CONFLICT {
        return Ok(resp.json().await?);
    }
    Err(photo_refusal(resp).await)
}

async fn photo_refusal(resp: reqwest::Response) -> anyhow::Error {
    let status = resp.status();
    let why = resp
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| status.to_string());
    match status.as_u16() {
        401 => CliError::Refused(Refusal::new(RefusalCode::Unauthenticated, why)).into(),
        429 | 500..=599 => CliError::Unreachable(format!("HTTP {status}: {why}")).into(),
        _ => anyhow::anyhow!("the server refused a photo (HTTP {status}): {why}"),
    }
}

enum Attempt {
    Done(Vec<u8>),
    /// Worth another try, after at least `after` when the server said so.
    Retry {
        why: String,
        after: Duration,
    },
}

impl Attempt {
    fn retry(why: String) -> Self {
        Self::Retry {
            why,
            after: Duration::ZERO,
        }
    }
}

/// The server's `Retry-After` in whole seconds (the form it sends); zero
/// when absent or in the HTTP-date form.
fn retry_after(resp: &reqwest::Response) -> Duration {
    resp.headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_secs)
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> anyhow::Result<T> {
    let resp: Response<T> = serde_json::from_slice(bytes).map_err(|e| {
        anyhow::anyhow!("the server sent something that is not a GraphQL response: {e}")
    })?;
    if let Some(err) = resp.errors.as_ref().and_then(|e| e.first()) {
        let code = err
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .and_then(|c| c.as_str())
            .and_then(RefusalCode::parse);
        return match code {
            Some(code) => Err(CliError::Refused(Refusal::new(code, err.message.clone())).into()),
            None => Err(anyhow::anyhow!(
                "the server answered with an error: {}",
                err.message
            )),
        };
    }
    resp.data
        .ok_or_else(|| anyhow::anyhow!("the server's response has no data"))
}

fn describe(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}
