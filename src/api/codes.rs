//! Every GraphQL error leaves with a stable `extensions.code`.
//!
//! This wraps the schema as the executor both transports use, rather than being a schema
//! extension: with any extension installed, async-graphql routes every field of every response
//! through the extension chain (two registry lookups and a boxed future per field), which cost
//! the API about a tenth of its CPU for nothing, since the codes only need the finished
//! response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    Data, ErrorExtensionValues, Executor, Request, Response, ServerError, ValidationResult, Value,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::error::ApiError;
use super::schema::ApiSchema;

/// The text async-graphql gives the error of a query over the complexity limit (its only
/// signal of it; `code_errors`' test checks the library still says this).
const TOO_COMPLEX: &str = "Query is too complex.";

/// How many distinct query texts keep their parsed documents: frontends send a handful of
/// queries over and over (variables change, the text does not).
const PARSED_QUERIES: usize = 256;

/// Longer query texts are parsed every time, so the cache stays small (256 × 8 KiB at most,
/// with their documents) whatever clients send.
const CACHED_QUERY_BYTES: usize = 8 * 1024;

/// The schema, executing requests and coding their errors.
#[derive(Clone)]
pub struct CodedSchema {
    schema: ApiSchema,
    /// The same schema without a complexity limit, validating only, to tell a refused query
    /// its cost (asked only for queries over the limit, so the usual path pays nothing).
    pricing: ApiSchema,
    /// The complexity limit, for the refusal's message.
    max_complexity: usize,
    /// Parsed documents by query text; cleared when full (a cache, not a store).
    parsed: Arc<Mutex<HashMap<String, ExecutableDocument>>>,
}

/// The subscriptions one WebSocket connection may still open: its connection data carries
/// it, and each subscription holds a permit until it ends.
#[derive(Clone)]
pub struct SubscriptionSlots {
    /// One permit per subscription the connection may still open.
    pub free: Arc<Semaphore>,
    /// How many it may hold at once.
    pub limit: usize,
}

impl CodedSchema {
    /// Wraps `schema`; `pricing` is the same schema built with [`Pricing`] and no complexity
    /// limit.
    pub fn new(schema: ApiSchema, pricing: ApiSchema, max_complexity: usize) -> CodedSchema {
        CodedSchema { schema, pricing, max_complexity, parsed: Arc::default() }
    }

    /// What `request` costs, by validating it against the pricing schema.
    async fn price(&self, request: Request) -> Option<usize> {
        let response = self.pricing.execute(request).await;
        response.errors.iter().find_map(|error| match error.extensions.as_ref()?.get(PRICE)? {
            Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
            _ => None,
        })
    }

    /// Parses the request's query here (the schema reuses the document) so that syntax errors
    /// are told apart, taking a known query's document from the cache: copying it is several
    /// times cheaper than parsing again.
    pub(super) fn parse(&self, request: &mut Request) -> Result<(), Box<Response>> {
        let known = self.parsed.lock().ok().and_then(|parsed| parsed.get(&request.query).cloned());
        if let Some(document) = known {
            request.set_parsed_query(document);
            return Ok(());
        }
        let cacheable = request.query.len() <= CACHED_QUERY_BYTES;
        match request.parsed_query() {
            Ok(_) if !cacheable => Ok(()),
            Ok(document) => {
                let document = document.clone();
                if let Ok(mut parsed) = self.parsed.lock() {
                    if parsed.len() >= PARSED_QUERIES {
                        parsed.clear();
                    }
                    parsed.insert(request.query.clone(), document);
                }
                Ok(())
            }
            Err(error) => {
                Err(Box::new(Response::from_errors(vec![with_code(error, "GRAPHQL_PARSE_FAILED")])))
            }
        }
    }
}

impl Executor for CodedSchema {
    async fn execute(&self, mut request: Request) -> Response {
        if let Err(response) = self.parse(&mut request) {
            return *response;
        }
        // Kept to price the query if it is refused (its text is small: bodies are bounded).
        // A cached query's document is in the cache; a long one's is copied now, because
        // parsing it again would double the time its refusal takes.
        let copy = (request.query.clone(), request.operation_name.clone(), request.variables.clone());
        let document = (request.query.len() > CACHED_QUERY_BYTES)
            .then(|| request.parsed_query().ok().cloned())
            .flatten();
        let response = self.schema.execute(request).await;
        if response.errors.iter().any(|e| e.path.is_empty() && e.message == TOO_COMPLEX) {
            let (query, operation, variables) = copy;
            let mut copy = Request::new(query).variables(variables);
            copy.operation_name = operation;
            match document {
                Some(document) => copy.set_parsed_query(document),
                None => {
                    let _cached = self.parse(&mut copy);
                }
            }
            let cost = self.price(copy).await.unwrap_or(self.max_complexity.saturating_add(1));
            let error = ApiError::QueryTooComplex { cost, limit: self.max_complexity };
            let mut error = with_code(ServerError::new(error.to_string(), None), error.code());
            let extensions = error.extensions.get_or_insert_with(ErrorExtensionValues::default);
            extensions.set("cost", cost);
            extensions.set("limit", self.max_complexity);
            return Response::from_errors(vec![error]);
        }
        code_errors(response)
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(response) = self.parse(&mut request) {
            return stream::once(async move { *response }).boxed();
        }
        let permit = match subscription_slot(session_data.as_deref()) {
            Ok(permit) => permit,
            Err(error) => {
                let error = with_code(ServerError::new(error.to_string(), None), error.code());
                return stream::once(async move { Response::from_errors(vec![error]) }).boxed();
            }
        };
        Executor::execute_stream(&self.schema, request, session_data)
            .map(move |response| {
                // The permit is released when the subscription's stream is dropped.
                let _slot = &permit;
                code_errors(response)
            })
            .boxed()
    }
}

/// Takes one of the connection's subscription slots, if it has a bound (WebSocket
/// connections do).
fn subscription_slot(session: Option<&Data>) -> Result<Option<OwnedSemaphorePermit>, ApiError> {
    let slots = session
        .and_then(|data| data.get(&std::any::TypeId::of::<SubscriptionSlots>()))
        .and_then(|slots| slots.downcast_ref::<SubscriptionSlots>());
    let Some(slots) = slots else { return Ok(None) };
    let limit = slots.limit;
    slots.free.clone().try_acquire_owned().map(Some).map_err(|_| ApiError::TooManySubscriptions { limit })
}

/// The extension key under which [`Pricing`] reports a query's cost.
const PRICE: &str = "price";

/// Installed on the pricing schema only: validates a request, then stops it with its cost.
pub struct Pricing;

impl ExtensionFactory for Pricing {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Pricing)
    }
}

#[async_trait::async_trait]
impl Extension for Pricing {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let validated = next.run(ctx).await?;
        let mut error = ServerError::new("priced, not run", None);
        error.extensions.get_or_insert_with(ErrorExtensionValues::default).set(PRICE, validated.complexity);
        Err(vec![error])
    }
}

/// Codes a finished response's errors: those without a path were raised before execution
/// (validation and limits); those with one were raised resolving a field, and every error our
/// resolvers raise carries its own code, so one without is an argument that did not parse.
fn code_errors(mut response: Response) -> Response {
    response.errors = std::mem::take(&mut response.errors)
        .into_iter()
        .map(|error| {
            let code = if !error.path.is_empty() {
                "BAD_USER_INPUT"
            } else if error.message == TOO_COMPLEX {
                "QUERY_TOO_COMPLEX"
            } else if error.message == "Query is nested too deep."
                || error.message.starts_with("The recursion depth of the query")
            {
                "QUERY_TOO_DEEP"
            } else {
                "GRAPHQL_VALIDATION_FAILED"
            };
            with_code(error, code)
        })
        .collect();
    response
}

/// Sets `extensions.code` unless the error already has one.
fn with_code(mut error: ServerError, code: &str) -> ServerError {
    let has_code = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if !has_code {
        error.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", code);
    }
    error
}

#[cfg(test)]
mod tests {
    use async_graphql::{Pos, Value};

    use super::*;

    fn code_of(error: &ServerError) -> Option<String> {
        match error.extensions.as_ref()?.get("code")? {
            Value::String(code) => Some(code.clone()),
            _ => None,
        }
    }

    #[test]
    fn errors_are_coded_by_where_they_were_raised_and_own_codes_stay() {
        let mut resolving = ServerError::new("Failed to parse \"Address\"", Some(Pos { line: 1, column: 3 }));
        resolving.path = vec![async_graphql::PathSegment::Field("job".into())];
        let mut coded = ServerError::new("timeout", None);
        coded.extensions.get_or_insert_with(ErrorExtensionValues::default).set("code", "QUERY_TIMEOUT");
        let response = Response::from_errors(vec![
            resolving,
            ServerError::new("Query is too complex.", None),
            ServerError::new("Query is nested too deep.", None),
            ServerError::new("Unknown field \"nonsense\" on type \"Job\".", None),
            coded,
        ]);
        let codes: Vec<Option<String>> = code_errors(response).errors.iter().map(code_of).collect();
        let expected = [
            "BAD_USER_INPUT",
            "QUERY_TOO_COMPLEX",
            "QUERY_TOO_DEEP",
            "GRAPHQL_VALIDATION_FAILED",
            "QUERY_TIMEOUT",
        ];
        assert_eq!(codes, expected.map(|c| Some(c.to_owned())).to_vec());
    }
}
