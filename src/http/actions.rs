//! The direct action routes: `POST /actions/{Action}` with one input object, answering the
//! output map or an APIException.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::answer::Answer;
use super::error::{ExceptionResponse, PlatformCode, PlatformError};
use super::extract::{Body, BodyError, Caller, parse_object};
use super::idempotency::{self, ClaimedKey, Keyed};
use crate::actions::call::CallInput;
use crate::actions::sms::SmsInput;
use crate::actions::user_status::{self, UserStatusInput};
use crate::actions::{self, ActionContext, ActionError, ActionName, ApiException, Dispatch};
use crate::state::AppState;
use crate::views::json::WriteJson;

#[tracing::instrument(level = "debug", skip_all, fields(action = tracing::field::Empty))]
pub async fn invoke(
    State(state): State<AppState>,
    action: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
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
        Err(error) => return ExceptionResponse::from(error).into_response(),
    };
    let invocation = DirectInvocation {
        state: &state,
        ctx: state.action_context(&caller.org_name, &caller.org, caller.invoker),
        headers: &headers,
        route: action.direct_route(),
        body: &body,
    };
    match action {
        ActionName::Sms => invocation.dispatch::<SmsInput>().await,
        ActionName::Call => invocation.dispatch::<CallInput>().await,
        ActionName::UserStatus => invocation.set_status().await,
    }
}

/// One direct call, from its body to its answer, kept under its idempotency key.
struct DirectInvocation<'a> {
    state: &'a AppState,
    ctx: ActionContext<'a>,
    headers: &'a HeaderMap,
    route: &'static str,
    body: &'a [u8],
}

impl DirectInvocation<'_> {
    /// The input, or the answer to a body that is not one; then the key's say.
    async fn begin<I: DeserializeOwned>(&self) -> Result<(I, Option<ClaimedKey>), Response> {
        let input = parse_object(self.body)
            .map_err(|error| ExceptionResponse::from(error).into_response())?;
        let keyed = idempotency::claim(
            self.state,
            self.headers,
            self.route,
            self.ctx.org_name,
            self.ctx.invoker,
            self.body,
        )
        .await
        .map_err(key_refusal)?;
        match keyed {
            Keyed::Run(key) => Ok((input, key)),
            Keyed::Replay(answer) => Err(idempotency::replay(answer)),
        }
    }

    /// Messages and calls: the action stores the records, with the answer under the key.
    async fn dispatch<I: Dispatch + DeserializeOwned>(self) -> Response
    where
        I::Output: WriteJson,
    {
        let (input, key) = match self.begin::<I>().await {
            Ok(begun) => begun,
            Err(response) => return response,
        };
        let dispatched = match actions::dispatch(&self.ctx, &input).await {
            Ok(dispatched) => dispatched,
            // Refused before the hand-off: there is nothing to store but the answer.
            Err(ActionError::Api(exception)) => {
                return keep(key, exception_answer(exception)).await;
            }
            Err(ActionError::Storage(error)) => {
                idempotency::release(key).await;
                return PlatformError::from(error).into_response();
            }
        };
        let answer = match &dispatched.outcome {
            Ok(output) => Answer::view(StatusCode::OK, output),
            Err(exception) => exception_answer(exception.clone()),
        };
        let key = key.map(|key| key.answering(&answer));
        match actions::store(&self.ctx, dispatched.batch, key).await {
            Ok(()) => answer.into_response(),
            Err(error) => PlatformError::from(error).into_response(),
        }
    }

    /// User statuses: the change commits, then the answer is kept.
    async fn set_status(self) -> Response {
        let (input, key) = match self.begin::<UserStatusInput>().await {
            Ok(begun) => begun,
            Err(response) => return response,
        };
        let answer = match user_status::set(&self.ctx, input).await {
            Ok(output) => Answer::view(StatusCode::OK, &output),
            Err(ActionError::Api(exception)) => exception_answer(exception),
            Err(ActionError::Storage(error)) => {
                idempotency::release(key).await;
                return PlatformError::from(error).into_response();
            }
        };
        keep(key, answer).await
    }
}

/// Keeps an answer under the key (when there is one) and gives it.
async fn keep(key: Option<ClaimedKey>, answer: Answer) -> Response {
    idempotency::keep(key, &answer).await;
    answer.into_response()
}

fn exception_answer(exception: ApiException) -> Answer {
    ExceptionResponse::from(exception).answer()
}

/// A refused idempotency key. A malformed key is the caller's to fix, so a direct caller
/// gets it as every other 400, an APIException (104); a key in use or reused keeps its own
/// status (409, 422) in the platform shape.
fn key_refusal(error: PlatformError) -> Response {
    match error.code {
        PlatformCode::InvalidIdempotencyKey => {
            ExceptionResponse::from(ApiException::invalid(error.message)).into_response()
        }
        _ => error.into_response(),
    }
}
