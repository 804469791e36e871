//! API errors: each kind has a stable `extensions.code` a client can branch on; database
//! internals are logged here and never sent to clients.

use async_graphql::ErrorExtensions;

use crate::store::StoreError;

/// Why a request failed, as a client sees it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// An argument is malformed or out of range.
    #[error("{0}")]
    BadUserInput(String),
    /// The index has not reached the block named by `X-Min-Block` within the wait bound.
    #[error("the index has not reached block {wanted} yet (it is at {at}); retry shortly")]
    NotYetIndexed {
        /// The block asked for.
        wanted: u64,
        /// Where the index stands.
        at: String,
    },
    /// A statement ran past the statement timeout.
    #[error("the query took too long; narrow its filters or ask for fewer rows")]
    QueryTimeout,
    /// Anything else: logged with its cause, reported without it.
    #[error("internal error; the server log has the details")]
    Internal,
}

impl ApiError {
    /// The `extensions.code` clients see.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput(_) => "BAD_USER_INPUT",
            ApiError::NotYetIndexed { .. } => "NOT_YET_INDEXED",
            ApiError::QueryTimeout => "QUERY_TIMEOUT",
            ApiError::Internal => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if let StoreError::Database(sqlx::Error::Database(db)) = &error
            && db.code().as_deref() == Some("57014")
        {
            tracing::warn!(%error, "query cancelled by the statement timeout");
            return ApiError::QueryTimeout;
        }
        tracing::error!(%error, "database read failed");
        ApiError::Internal
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        let code = self.code();
        async_graphql::Error::new(self.to_string()).extend_with(|_, e| e.set("code", code))
    }
}

/// The GraphQL error for `error`, with its code (`?` alone would drop the code).
pub fn gql(error: ApiError) -> async_graphql::Error {
    error.extend()
}

/// The GraphQL error for a failed read.
pub fn read_failed(error: StoreError) -> async_graphql::Error {
    ApiError::from(error).extend()
}

/// Shorthand for a `BAD_USER_INPUT` error.
pub fn bad_input(message: impl Into<String>) -> async_graphql::Error {
    ApiError::BadUserInput(message.into()).extend()
}
