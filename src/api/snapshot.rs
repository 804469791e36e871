//! One snapshot per answer: a request that selects `_meta` beside data reads both in one
//! `REPEATABLE READ READ ONLY` transaction ([`crate::store::Snapshot`]), so `_meta.block` is
//! the block the data is at, even while the indexer commits between its statements.
//!
//! Such a request gets an [`ApiContext`] of its own as request data (async-graphql looks a
//! type up in the request's data before the schema's): the schema's, with a [`Reader`] over
//! the snapshot and loaders of its own, since the shared loaders read through the shared pool.
//! Every other request runs as before, on the schema's context; telling them apart costs a
//! scan of the query text for `_meta`, and a parse (of a cached document) only when it is there.
//!
//! A recovery conflict on a standby that cancels one of the snapshot's reads loses the
//! snapshot: the request then runs once more in a new one (nothing was sent yet), and a second
//! loss answers with `REPLICA_CONFLICT` on the fields it cost.
//!
//! [`Reader`]: crate::store::Reader

use std::sync::Arc;
use std::time::Duration;

use async_graphql::futures_util::StreamExt;
use async_graphql::futures_util::stream::FuturesOrdered;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{BatchRequest, BatchResponse, Executor, Request, Response, ServerError};

use super::codes::CodedSchema;
use super::error::ApiError;
use super::loaders;
use super::schema::{ApiContext, BoardApi};
use crate::store::SnapshotOutcome;

/// The field that says where the index stands.
const META: &str = "_meta";

/// How deep fragment spreads are followed looking for top-level fields (validation, which
/// runs later, refuses cycles; this only has to end).
const FRAGMENT_DEPTH: usize = 8;

/// Executes `request` on `schema`, each operation that selects `_meta` beside data in a
/// snapshot of its own; `context` is the schema's, `batch_wait` its loaders' gathering time.
pub(super) async fn execute_batch(
    schema: &CodedSchema,
    context: &ApiContext,
    batch_wait: Duration,
    request: BatchRequest,
) -> BatchResponse {
    if !request.iter().any(|request| request.query.contains(META)) {
        return schema.execute_batch(request).await;
    }
    match request {
        BatchRequest::Single(request) => {
            BatchResponse::Single(execute(schema, context, batch_wait, request).await)
        }
        BatchRequest::Batch(requests) => BatchResponse::Batch(
            requests
                .into_iter()
                .map(|request| execute(schema, context, batch_wait, request))
                .collect::<FuturesOrdered<_>>()
                .collect()
                .await,
        ),
    }
}

/// Executes one operation, in a snapshot if it selects `_meta` beside data.
async fn execute(
    schema: &CodedSchema,
    context: &ApiContext,
    batch_wait: Duration,
    mut request: Request,
) -> Response {
    if schema.parse(&mut request).is_err() || !selects_meta_with_data(&mut request) {
        // A query that does not parse is answered with the parse error by the schema.
        return schema.execute(request).await;
    }
    let again = copy_of(&mut request);
    // Every board is read through one pool, so one snapshot serves them all.
    let conflicts = context.boards[0].reader.pool().conflicts();
    match execute_in_snapshot(schema, context, batch_wait, request).await {
        Ok((response, SnapshotOutcome::Held)) => response,
        Ok((_, SnapshotOutcome::Lost)) => {
            conflicts.count_retry();
            tracing::info!("a recovery conflict ended a request's snapshot on the standby; running it again");
            match execute_in_snapshot(schema, context, batch_wait, again).await {
                Ok((response, SnapshotOutcome::Held)) => response,
                Ok((response, SnapshotOutcome::Lost)) => {
                    conflicts.count_give_up();
                    response
                }
                Err(response) => response,
            }
        }
        Err(response) => response,
    }
}

/// Runs `request` with a context whose reads share one new snapshot; `Err` with the answer
/// when no snapshot could be opened.
async fn execute_in_snapshot(
    schema: &CodedSchema,
    context: &ApiContext,
    batch_wait: Duration,
    request: Request,
) -> Result<(Response, SnapshotOutcome), Response> {
    let snapshot = match context.boards[0].reader.pool().snapshot().await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            let error = ApiError::from(error);
            let mut coded = ServerError::new(error.to_string(), None);
            coded.extensions.get_or_insert_with(Default::default).set("code", error.code());
            return Err(Response::from_errors(vec![coded]));
        }
    };
    let boards: Vec<BoardApi> = context
        .boards
        .iter()
        .map(|board| {
            let reader = board.reader.reading_through(snapshot.pool().clone());
            BoardApi {
                loaders: Arc::new(loaders::loaders(reader.clone(), batch_wait)),
                reader,
                live: board.live.clone(),
            }
        })
        .collect();
    let pinned = ApiContext { boards: boards.into(), ..context.clone() };
    let response = schema.execute(request.data(pinned)).await;
    Ok((response, snapshot.finish().await))
}

/// A second request like `request` (parsed already), to run again if the first loses its
/// snapshot: an executed request is consumed.
fn copy_of(request: &mut Request) -> Request {
    let mut copy = Request::new(request.query.clone()).variables(request.variables.clone());
    copy.operation_name = request.operation_name.clone();
    copy.extensions = request.extensions.clone();
    copy.introspection_mode = request.introspection_mode;
    if let Ok(document) = request.parsed_query() {
        copy.set_parsed_query(document.clone());
    }
    copy
}

/// Whether the operation `request` runs is a query selecting `_meta` and something else that
/// reads data (`__typename` and introspection read none).
fn selects_meta_with_data(request: &mut Request) -> bool {
    let operation_name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else { return false };
    let Some(operation) = operation(document, operation_name.as_deref()) else { return false };
    if operation.ty != OperationType::Query {
        return false;
    }
    let mut fields = Vec::new();
    top_level_fields(document, &operation.selection_set.node, FRAGMENT_DEPTH, &mut fields);
    fields.contains(&META) && fields.iter().any(|field| *field != META && !field.starts_with("__"))
}

/// The operation a request names (or its only one).
fn operation<'d>(document: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.iter().find(|(n, _)| n.as_str() == name).map(|(_, operation)| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The names of the fields `selection` selects at its own level, through fragments.
fn top_level_fields<'d>(
    document: &'d ExecutableDocument,
    selection: &'d SelectionSet,
    depth: usize,
    fields: &mut Vec<&'d str>,
) {
    for item in &selection.items {
        match &item.node {
            Selection::Field(field) => fields.push(field.node.name.node.as_str()),
            Selection::InlineFragment(fragment) if depth > 0 => {
                top_level_fields(document, &fragment.node.selection_set.node, depth - 1, fields);
            }
            Selection::FragmentSpread(spread) if depth > 0 => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    top_level_fields(document, &fragment.node.selection_set.node, depth - 1, fields);
                }
            }
            Selection::InlineFragment(_) | Selection::FragmentSpread(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned(query: &str, operation: Option<&str>) -> bool {
        let mut request = Request::new(query);
        request.operation_name = operation.map(str::to_owned);
        selects_meta_with_data(&mut request)
    }

    #[test]
    fn only_a_query_reading_meta_and_data_gets_a_snapshot() {
        assert!(pinned("{ _meta { block { number } } jobs { nodes { id } } }", None));
        assert!(pinned("{ m: _meta { block { number } } job(id: \"1\") { id } }", None));
        assert!(pinned(
            "query Q { ...F } fragment F on Query { _meta { block { number } } jobs { totalCount } }",
            None
        ));
        assert!(pinned("{ ... on Query { _meta { block { number } } } activity { nodes { kind } } }", None));
        assert!(pinned(
            "query A { jobs { totalCount } } query B { _meta { head } jobs { totalCount } }",
            Some("B")
        ));

        assert!(!pinned("{ _meta { block { number } } }", None));
        assert!(!pinned("{ _meta { block { number } } __typename }", None));
        assert!(!pinned("{ jobs { nodes { id } } }", None));
        assert!(!pinned(
            "query A { jobs { totalCount } } query B { _meta { head } jobs { totalCount } }",
            Some("A")
        ));
        assert!(!pinned(
            "query A { _meta { head } jobs { totalCount } } query B { jobs { totalCount } }",
            None
        ));
        assert!(!pinned("subscription { _meta { block { number } } }", None));
        assert!(!pinned("{ _meta { ", None));
    }

    #[test]
    fn a_copy_runs_the_same_operation() {
        let mut request = Request::new("query A { jobs { totalCount } } query B { _meta { head } }");
        request.operation_name = Some("B".into());
        let copy = copy_of(&mut request);
        assert_eq!(
            (copy.query.as_str(), copy.operation_name.as_deref()),
            (request.query.as_str(), Some("B"))
        );
    }
}
