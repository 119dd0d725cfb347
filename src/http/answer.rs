//! An answer as it goes on the wire: its status and JSON body. Error responses are built
//! as one, and an idempotency key keeps one to replay.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::storage::StoredAnswer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    pub fn json(status: StatusCode, body: &impl Serialize) -> Self {
        // The answers are built from views and error objects, which always serialise.
        Self {
            status,
            body: serde_json::to_string(body).expect("answers serialise to JSON"),
        }
    }

    pub fn stored(&self) -> StoredAnswer {
        StoredAnswer {
            status: self.status.as_u16(),
            body: self.body.clone(),
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let content_type = [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )];
        (self.status, content_type, self.body).into_response()
    }
}
