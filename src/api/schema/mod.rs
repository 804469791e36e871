//! The GraphQL schema of `../shared/docs/api-spec.md`: queries, subscriptions and their types.
//!
//! Resolvers stay thin: they validate arguments into the store's filter and page types, read
//! through [`Reader`] (top-level lists) or the batching [`Loaders`] (anything per row), and
//! wrap rows in output types.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::futures_util::{Stream, StreamExt};
use async_graphql::{
    ComplexObject, Context, EmptyMutation, Enum, ID, InputObject, InputType, Object, Result, Schema,
    SimpleObject, Subscription,
};
use chrono::{DurationRound, TimeDelta, Utc};
use tokio::sync::broadcast::error::RecvError;

use super::cursor;
use super::error::{ApiError, bad_input, gql, read_failed};
use super::live::{Live, LiveEvent};
use super::loaders::{
    ApplicantAddress, ApplicationCount, ApplicationId, ApplicationListArgs, ApplicationsOf, EmployerAddress,
    EmployerJobCount, EmployerJobs, HistoryOf, JobId, JobListArgs, Loaders, ReadLoader, RevisionsOf,
};
use super::scalars::{Address, BigInt, Bytes32, DateTime};
use crate::store::{
    self, ActivityRow, ApplicantRow, ApplicationParent, ApplicationRow, ApplicationScope, EmployerRow,
    IndexStatus, JobRow, Page, PageRequest, PostingRow, Reader, RevisionRow, Scope, SortKey, StatusChangeRow,
};

/// The executable schema.
pub type ApiSchema = Schema<QueryRoot, EmptyMutation, SubscriptionRoot>;

/// Page-size limits.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Rows when neither `first` nor `last` is given.
    pub default: usize,
    /// The largest `first` or `last` accepted.
    pub max: usize,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self { default: 20, max: 1000 }
    }
}

/// One board the API serves: its direct reads, batched reads and live hub.
#[derive(Clone)]
pub struct BoardApi {
    /// Direct reads (top-level lists, counts, status).
    pub reader: Reader,
    /// Batched reads.
    pub loaders: Arc<Loaders>,
    /// The live hub, for subscriptions and `X-Min-Block`.
    pub live: Live,
}

impl BoardApi {
    /// The board's chain id.
    pub fn chain_id(&self) -> u64 {
        self.reader.board().chain_id
    }
}

/// What every resolver reads through: the boards served (at least one, at most one per chain)
/// and the API's limits.
#[derive(Clone)]
pub struct ApiContext {
    /// The boards served, in the order the operator listed them; an object's [`BoardIx`]
    /// indexes this list.
    pub boards: Arc<[BoardApi]>,
    /// Page-size limits.
    pub pages: PageLimits,
    /// `--stall-after`: how `_meta.synced` judges a silent or stuck indexer.
    pub stall_after: std::time::Duration,
    /// `--public-rpc-url`: endpoints a wallet may add for the first board's chain (`_meta`).
    pub public_rpc_urls: Arc<[String]>,
}

pub(super) fn api<'a>(ctx: &Context<'a>) -> &'a ApiContext {
    // The schema is only ever built by `build_schema`, which registers the context.
    ctx.data_unchecked::<ApiContext>()
}

/// Builds the schema with its depth and complexity limits.
pub fn build_schema(context: Option<ApiContext>, max_depth: usize, max_complexity: usize) -> ApiSchema {
    let mut builder = Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot)
        .limit_depth(max_depth)
        .limit_complexity(max_complexity)
        .limit_recursive_depth(64)
        .limit_directives(8);
    if let Some(context) = context {
        builder = builder.data(context);
    }
    builder.finish()
}

/// The schema that prices queries: no complexity or depth limit, and the [`Pricing`]
/// extension, which stops every request after validation with its cost.
///
/// [`Pricing`]: super::codes::Pricing
pub fn build_pricing_schema() -> ApiSchema {
    Schema::build(QueryRoot, EmptyMutation, SubscriptionRoot)
        .extension(super::codes::Pricing)
        .limit_recursive_depth(64)
        .limit_directives(8)
        .finish()
}

mod boards;
mod connections;
mod cost;
mod enums;
mod events;
mod inputs;
mod objects;
mod parties;
mod roots;
mod subscriptions;

pub use boards::*;
pub use connections::*;
pub use enums::*;
pub use events::*;
pub use inputs::*;
pub use objects::*;
pub use parties::*;
pub use roots::*;
pub use subscriptions::*;

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_schema;
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

    /// Every type, field, argument and enum value of the SDL has a description: GraphiQL's
    /// docs are all a frontend developer sees of the API.
    #[test]
    fn every_type_field_and_argument_is_described() {
        let sdl = super::super::sdl();
        let document = parse_schema(&sdl).expect("the SDL parses");
        let mut missing = Vec::new();
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else { continue };
            let ty = &ty.node;
            let name = ty.name.node.as_str();
            if ty.description.is_none() {
                missing.push(name.to_owned());
            }
            match &ty.kind {
                TypeKind::Object(object) => {
                    for field in &object.fields {
                        let field = &field.node;
                        if field.description.is_none() {
                            missing.push(format!("{name}.{}", field.name.node));
                        }
                        for argument in &field.arguments {
                            if argument.node.description.is_none() {
                                missing
                                    .push(format!("{name}.{}({})", field.name.node, argument.node.name.node));
                            }
                        }
                    }
                }
                TypeKind::InputObject(input) => {
                    for field in &input.fields {
                        if field.node.description.is_none() {
                            missing.push(format!("{name}.{}", field.node.name.node));
                        }
                    }
                }
                TypeKind::Enum(values) => {
                    for value in &values.values {
                        if value.node.description.is_none() {
                            missing.push(format!("{name}.{}", value.node.value.node));
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(missing.is_empty(), "undescribed in the SDL: {missing:?}");
    }
}
