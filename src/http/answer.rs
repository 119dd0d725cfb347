//! An answer as it goes on the wire: its status and JSON body. Error responses are built
//! as one, and an idempotency key keeps one to replay.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::observe::AnswerCode;
use crate::storage::StoredAnswer;
use crate::views::json::{self, WriteJson};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    /// The error code it carries, for the metrics and the log (`observe`).
    pub code: Option<&'static str>,
}

impl Answer {
    pub fn json(status: StatusCode, body: &impl Serialize) -> Self {
        // The answers are built from views and error objects, which always serialise.
        Self {
            status,
            body: crate::views::to_json(body),
            code: None,
        }
    }

    /// An answer made on every request (an action's output map), written by the views' own
    /// JSON writer: the same text as [`Answer::json`], for fewer instructions.
    pub fn view(status: StatusCode, view: &impl WriteJson) -> Self {
        Self {
            status,
            body: json::to_string(view),
            code: None,
        }
    }

    /// The answer, carrying the error code `code`.
    pub fn failing(self, code: &'static str) -> Self {
        Self {
            code: Some(code),
            ..self
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
        let mut response = (self.status, content_type, self.body).into_response();
        if let Some(code) = self.code {
            response.extensions_mut().insert(AnswerCode(code));
        }
        response
    }
}
