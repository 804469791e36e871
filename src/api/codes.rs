//! Every GraphQL error leaves with a stable `extensions.code`.
//!
//! This wraps the schema as the executor both transports use, rather than being a schema
//! extension: with any extension installed, async-graphql routes every field of every response
//! through the extension chain (two registry lookups and a boxed future per field), which cost
//! the API about a tenth of its CPU for nothing, since the codes only need the finished
//! response.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Data, ErrorExtensionValues, Executor, Request, Response, ServerError};

use super::schema::ApiSchema;

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
    /// Parsed documents by query text; cleared when full (a cache, not a store).
    parsed: Arc<Mutex<HashMap<String, ExecutableDocument>>>,
}

impl CodedSchema {
    /// Wraps `schema`.
    pub fn new(schema: ApiSchema) -> CodedSchema {
        CodedSchema { schema, parsed: Arc::default() }
    }

    /// Parses the request's query here (the schema reuses the document) so that syntax errors
    /// are told apart, taking a known query's document from the cache: copying it is several
    /// times cheaper than parsing again.
    fn parse(&self, request: &mut Request) -> Result<(), Box<Response>> {
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
        code_errors(self.schema.execute(request).await)
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(response) = self.parse(&mut request) {
            return stream::once(async move { *response }).boxed();
        }
        Executor::execute_stream(&self.schema, request, session_data).map(code_errors).boxed()
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
            } else if error.message == "Query is too complex." {
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
