//! The direct action routes: `POST /actions/{Action}` with one input object, answering the
//! output map or an APIException.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{ExceptionResponse, PlatformError};
use super::extract::{Body, BodyError, Caller, parse_object};
use crate::actions::{ActionError, ActionName, ApiException, call, sms, user_status};
use crate::state::AppState;

#[tracing::instrument(skip_all, fields(action = tracing::field::Empty))]
pub async fn invoke(
    State(state): State<AppState>,
    action: Result<Path<String>, PathRejection>,
    caller: Result<Caller, PlatformError>,
    body: Result<Body, BodyError>,
) -> Response {
    let caller = match caller {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let Some(action) = action.ok().and_then(|Path(name)| ActionName::parse(&name)) else {
        return PlatformError::not_found().into_response();
    };
    tracing::Span::current().record("action", action.as_str());
    let body = match body {
        Ok(Body(bytes)) => bytes,
        Err(error) => return body_exception(&error).into_response(),
    };
    let ctx = state.action_context(&caller.org, caller.invoker);
    match action {
        ActionName::Sms => {
            respond(parse_object(&body), async |input| {
                sms::send(&ctx, &input).await
            })
            .await
        }
        ActionName::Call => {
            respond(parse_object(&body), async |input| {
                call::place(&ctx, &input).await
            })
            .await
        }
        ActionName::UserStatus => {
            respond(parse_object(&body), async |input| {
                user_status::set(&ctx, &input).await
            })
            .await
        }
    }
}

/// Runs an action on its parsed input: the output map, or the error in the direct shape.
async fn respond<I: DeserializeOwned, O: Serialize>(
    input: Result<I, BodyError>,
    run: impl AsyncFnOnce(I) -> Result<O, ActionError>,
) -> Response {
    match input {
        Ok(input) => run(input).await.map(Json).into_response(),
        Err(error) => body_exception(&error).into_response(),
    }
}

/// A body problem, as the APIException (104) a direct caller expects.
fn body_exception(error: &BodyError) -> ExceptionResponse {
    ExceptionResponse {
        status: error.status(),
        exception: ApiException::invalid(error.message()),
    }
}
