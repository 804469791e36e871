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
    /// The indexer has not registered the board yet (`serve` started before `index`).
    #[error("the board is not indexed yet: the indexer has not registered it; retry shortly")]
    BoardNotIndexed,
    /// A statement ran past the statement timeout, or the request past its deadline.
    #[error("the query took too long; narrow its filters or ask for fewer rows")]
    QueryTimeout,
    /// The query could return more than the limit allows: its cost (see the cost model in
    /// docs/adr/0011-api-limits.md) is over `--max-complexity`.
    #[error(
        "the query costs {cost}, over the limit of {limit}: a list costs its page size (first/last, \
         default 20) times its fields, so ask for smaller pages, fewer nested lists or fewer aliases"
    )]
    QueryTooComplex {
        /// What the query costs.
        cost: usize,
        /// The limit.
        limit: usize,
    },
    /// A JSON batch holds more operations than `--max-batch-size`.
    #[error("a batch holds at most {limit} operations; this one has {got}")]
    BatchTooLarge {
        /// The limit.
        limit: usize,
        /// Operations in the batch.
        got: usize,
    },
    /// The answer would be larger than `--max-response-bytes`.
    #[error("the answer is larger than {limit} bytes; ask for fewer rows or fields")]
    ResponseTooLarge {
        /// The limit.
        limit: usize,
    },
    /// A WebSocket connection asked for more subscriptions than `--max-subscriptions`.
    #[error("a connection holds at most {limit} subscriptions; complete one first")]
    TooManySubscriptions {
        /// The limit.
        limit: usize,
    },
    /// A subscription fell behind the events pushed to it (its client reads too slowly) and
    /// was closed.
    #[error(
        "this subscription fell {missed} events behind and was closed; resubscribe and reconcile \
         with the activity query"
    )]
    SubscriptionLagged {
        /// Events it missed.
        missed: u64,
    },
    /// A database replica (a hot standby) cancelled the read to apply the primary's changes (a
    /// recovery conflict), and running it once more did not get past it: asking again shortly
    /// usually succeeds.
    #[error(
        "the database replica cancelled this read to apply the primary's latest changes (a recovery \
         conflict); retry shortly"
    )]
    ReplicaConflict,
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
            ApiError::BoardNotIndexed => "NOT_YET_INDEXED",
            ApiError::QueryTimeout => "QUERY_TIMEOUT",
            ApiError::QueryTooComplex { .. } => "QUERY_TOO_COMPLEX",
            ApiError::BatchTooLarge { .. } => "BATCH_TOO_LARGE",
            ApiError::ResponseTooLarge { .. } => "RESPONSE_TOO_LARGE",
            ApiError::TooManySubscriptions { .. } => "TOO_MANY_SUBSCRIPTIONS",
            ApiError::SubscriptionLagged { .. } => "SUBSCRIPTION_LAGGED",
            ApiError::ReplicaConflict => "REPLICA_CONFLICT",
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
        if error.is_recovery_conflict() {
            tracing::warn!(%error, "a read cancelled by a recovery conflict on the standby, past its one retry");
            return ApiError::ReplicaConflict;
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
