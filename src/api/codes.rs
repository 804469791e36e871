//! Every GraphQL error leaves with a stable `extensions.code`.
//!
//! This wraps the schema as the executor both transports use, rather than being a schema
//! extension: with any extension installed, async-graphql routes every field of every response
//! through the extension chain (two registry lookups and a boxed future per field), which cost
//! the API about a tenth of its CPU for nothing, since the codes only need the finished
//! response.

use std::sync::Arc;

use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::{Data, ErrorExtensionValues, Executor, Request, Response, ServerError};

use super::schema::ApiSchema;

/// The schema, executing requests and coding their errors.
#[derive(Clone)]
pub struct CodedSchema(pub ApiSchema);

impl Executor for CodedSchema {
    async fn execute(&self, mut request: Request) -> Response {
        // Parsed here (the schema reuses the document) so that syntax errors are told apart.
        if let Err(error) = request.parsed_query() {
            return Response::from_errors(vec![with_code(error, "GRAPHQL_PARSE_FAILED")]);
        }
        code_errors(self.0.execute(request).await)
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(error) = request.parsed_query() {
            let response = Response::from_errors(vec![with_code(error, "GRAPHQL_PARSE_FAILED")]);
            return stream::once(async move { response }).boxed();
        }
        Executor::execute_stream(&self.0, request, session_data).map(code_errors).boxed()
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
