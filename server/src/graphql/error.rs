//! The one error type of the API. Clients get a stable code and a message
//! they can act on; database and internal text stays in the server's log.

use async_graphql::ErrorExtensions;
use pyck_vocab::refusal::RefusalCode;

use crate::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required: send `Authorization: Bearer <device token>`")]
    Unauthenticated,
    #[error("{message}")]
    Refused { code: RefusalCode, message: String },
    #[error("{0}")]
    BadRequest(String),
    #[error("internal server error; the server log has the details")]
    Internal,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => RefusalCode::Unauthenticated.as_str(),
            ApiError::Refused { code, .. } => code.as_str(),
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Internal => "internal",
        }
    }
}

/// The one mapping of storage failures to what a client sees: a write's
/// refusal (a name taken, a decision's "no") is the
/// client's to correct and keeps its message; anything else is the
/// server's, logged here and answered as `internal`.
impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::UnknownToken(_) => ApiError::Unauthenticated,
            StorageError::AlreadyExists(_)
            | StorageError::Invalid(_)
            | StorageError::InvalidImport(_) => ApiError::BadRequest(e.to_string()),
            other => {
                tracing::error!(error = %other, "storage failure");
                ApiError::Internal
            }
        }
    }
}

impl ErrorExtensions for ApiError {
    /// The GraphQL error, with the stable code in `extensions.code`.
    fn extend(&self) -> async_graphql::Error {
        let code = self.code();
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| ext.set("code", code))
    }
}

/// Maps a storage failure to the GraphQL error a client may see.
pub fn storage_error(e: StorageError) -> async_graphql::Error {
    ApiError::from(e).extend()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_words_and_failures_keep_theirs_in_the_log() {
        let taken = ApiError::from(StorageError::AlreadyExists("order SO-1".into()));
        assert_eq!(
            (taken.code(), taken.to_string().as_str()),
            ("bad_request", "order SO-1 already exists")
        );
        let failed = ApiError::from(StorageError::Corrupt(
            "an unknown OrderStatus \"lost\"".into(),
        ));
        assert_eq!(failed.code(), "internal");
        assert!(!failed.to_string().contains("lost"), "{failed}");
        let token = ApiError::from(StorageError::UnknownToken("x".into()));
        assert_eq!(token.code(), "unauthenticated");
    }
}
