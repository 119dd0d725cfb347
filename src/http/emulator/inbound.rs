//! `POST /_emulator/inbound`: a customer texts one of the org's numbers (SPEC 10).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::actions::inbound::{self, InboundError, InboundInput};
use crate::http::error::{PlatformCode, PlatformError};
use crate::http::extract::{Body, BodyError, Scoped, parse_object};
use crate::state::AppState;
use crate::views::MessageItem;

/// What the message did: the inbound message, the keyword it was, and the provider's reply.
#[derive(Serialize)]
struct ReceivedItem<'a> {
    message: MessageItem<'a>,
    /// `OptOut`, `OptIn` or `Help`, when the whole body was such a keyword.
    keyword: Option<&'static str>,
    reply: Option<MessageItem<'a>>,
}

/// Stores the customer's message, with what it did: 201 once stored.
pub async fn receive(
    State(state): State<AppState>,
    Scoped { name, org }: Scoped,
    body: Result<Body, BodyError>,
) -> Result<Response, PlatformError> {
    let Body(bytes) = body?;
    let input: InboundInput = parse_object(&bytes)?;
    let ctx = state.action_context(&name, &org, None);
    let received = inbound::receive(&ctx, &input, None)
        .await
        .map_err(|error| match error {
            InboundError::Invalid(message) => {
                PlatformError::new(PlatformCode::InvalidField, message)
            }
            InboundError::Storage(error) => PlatformError::from(error),
        })?;
    let item = ReceivedItem {
        message: MessageItem::from(&received.message),
        keyword: received.keyword.map(|k| k.as_str()),
        reply: received.reply.as_ref().map(MessageItem::from),
    };
    Ok((StatusCode::CREATED, Json(item)).into_response())
}
