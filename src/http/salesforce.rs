//! The Salesforce REST shape: `/services/data/vNN.N/actions/custom/apex/...` (invoke, list,
//! describe) and `/services/data/vNN.N/sobjects/{Object}/{Id}`.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::answer::Answer;
use super::error::{PlatformCode, PlatformError, SalesforceError};
use super::extract::{BasePath, Body, BodyError, Caller, parse_json, parse_object};
use super::idempotency::{self, ClaimedKey, Keyed};
use super::sobjects;
use crate::actions::call::CallInput;
use crate::actions::catalog::{self, Parameter};
use crate::actions::sms::SmsInput;
use crate::actions::user_status::{self, UserStatusInput};
use crate::actions::{
    self, ActionContext, ActionError, ActionName, ApiException, Dispatch, dispatch_all,
};
use crate::domain::SalesforceId;
use crate::state::AppState;

/// `{"inputs": [...]}`: each input is parsed on its own, so that the first bad one is known.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvokeRequest {
    inputs: Vec<Box<RawValue>>,
}

/// One input's result, in input order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvocationResult<'a, O> {
    action_name: &'a str,
    errors: Option<[InvocationError; 1]>,
    is_success: bool,
    output_values: Option<O>,
}

/// Salesforce's error element, exactly these three keys: the code is in the message.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvocationError {
    status_code: &'static str,
    message: String,
    fields: [(); 0],
}

impl<'a, O> InvocationResult<'a, O> {
    fn succeeded(action_name: &'a str, output: O) -> Self {
        Self {
            action_name,
            errors: None,
            is_success: true,
            output_values: Some(output),
        }
    }

    fn failed(action_name: &'a str, exception: &ApiException) -> Self {
        Self {
            action_name,
            errors: Some([InvocationError {
                status_code: "UNKNOWN_EXCEPTION",
                message: format!(
                    "An Apex error occurred: {}: {exception}",
                    super::error::EXCEPTION_TYPE
                ),
                fields: [],
            }]),
            is_success: false,
            output_values: None,
        }
    }
}

/// The first API version with Apex actions: v33.0.
const FIRST_VERSION: u32 = 33;

/// `vNN.N`, from v33.0 up; a lower or malformed version is 404, as on Salesforce.
fn check_version(version: &str) -> Result<(), SalesforceError> {
    let valid = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !minor.is_empty()
                && minor.bytes().all(|b| b.is_ascii_digit())
                && major.bytes().all(|b| b.is_ascii_digit())
                && major
                    .parse::<u32>()
                    .is_ok_and(|major| major >= FIRST_VERSION)
        });
    if valid {
        Ok(())
    } else {
        Err(PlatformError::not_found().into())
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(action = tracing::field::Empty, inputs = tracing::field::Empty))]
pub async fn invoke(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
    caller: Result<Caller, PlatformError>,
    body: Result<Body, BodyError>,
) -> Result<Response, SalesforceError> {
    let Path((version, action_name)) = path.map_err(|_| PlatformError::not_found())?;
    check_version(&version)?;
    let caller = caller?;
    let action = ActionName::parse(&action_name).ok_or_else(PlatformError::not_found)?;
    tracing::Span::current().record("action", action.as_str());
    let Body(body) = body.map_err(body_error)?;
    let request: InvokeRequest = parse_json(&body).map_err(body_error)?;
    let limit = state.limits().max_bulk_inputs;
    tracing::Span::current().record("inputs", request.inputs.len());
    if request.inputs.is_empty() || request.inputs.len() > limit {
        let message = format!(
            "inputs must hold between 1 and {limit} inputs; this request has {}",
            request.inputs.len()
        );
        return Err(PlatformError::new(PlatformCode::InvalidInput, message).into());
    }
    let route = format!("/services/data/actions/custom/apex/{action}");
    let claimed = idempotency::claim(
        &state,
        &headers,
        &route,
        &caller.org_name,
        caller.invoker,
        &body,
    );
    let key = match claimed.await? {
        Keyed::Run(key) => key,
        Keyed::Replay(answer) => return Ok(idempotency::replay(answer)),
    };
    let _admitted = state.admit_bulk_inputs(request.inputs.len()).await;
    let invocation = BulkInvocation {
        ctx: state.action_context(&caller.org_name, &caller.org, caller.invoker),
        key,
        name: &action_name,
        inputs: &request.inputs,
    };
    Ok(match action {
        ActionName::Sms => invocation.dispatch::<SmsInput>().await,
        ActionName::Call => invocation.dispatch::<CallInput>().await,
        ActionName::UserStatus => invocation.set_statuses().await,
    })
}

/// One bulk call, from its inputs to its answer, kept under its idempotency key.
struct BulkInvocation<'a> {
    ctx: ActionContext<'a>,
    key: Option<ClaimedKey>,
    /// The action's name as addressed, which every result repeats.
    name: &'a str,
    inputs: &'a [Box<RawValue>],
}

impl BulkInvocation<'_> {
    /// Messages and calls: every input is checked, then all go to the provider, then the
    /// action stores all their records, and the answer under the key, in one transaction.
    /// A check failure leaves nothing to store but the answer.
    async fn dispatch<I: Dispatch + DeserializeOwned>(self) -> Response
    where
        I::Output: Serialize,
    {
        let dispatched = match dispatch_all::<I>(&self.ctx, parse_inputs(self.inputs)).await {
            Ok(dispatched) => dispatched,
            Err(ActionError::Api(exception)) => {
                let answer = self.answer::<I::Output>(Err(exception));
                idempotency::keep(self.key, &answer).await;
                return answer.into_response();
            }
            Err(ActionError::Storage(error)) => {
                idempotency::release(self.key).await;
                return SalesforceError::from(error).into_response();
            }
        };
        let answer = self.answer(dispatched.outcome);
        let key = self.key.map(|key| key.answering(&answer));
        match actions::store(&self.ctx, dispatched.batch, key).await {
            Ok(()) => answer.into_response(),
            Err(error) => SalesforceError::from(error).into_response(),
        }
    }

    /// Status changes: all stored in one transaction, then the answer is kept.
    async fn set_statuses(self) -> Response {
        let inputs = parse_inputs::<UserStatusInput>(self.inputs);
        let outcome = match user_status::set_all(&self.ctx, inputs).await {
            Ok(outputs) => Ok(outputs),
            Err(ActionError::Api(exception)) => Err(exception),
            Err(ActionError::Storage(error)) => {
                idempotency::release(self.key).await;
                return SalesforceError::from(error).into_response();
            }
        };
        let answer = self.answer(outcome);
        idempotency::keep(self.key, &answer).await;
        answer.into_response()
    }

    /// One result per input, in input order: 200 with each input's output when all
    /// succeeded; else 400, every input failing with the one error that failed the
    /// invocation, as Salesforce answers an Apex exception.
    fn answer<O: Serialize>(&self, outcome: Result<Vec<O>, ApiException>) -> Answer {
        match outcome {
            Ok(outputs) => {
                let results: Vec<_> = outputs
                    .into_iter()
                    .map(|output| InvocationResult::succeeded(self.name, output))
                    .collect();
                Answer::json(StatusCode::OK, &results)
            }
            Err(exception) => {
                let failed = InvocationResult::<()>::failed(self.name, &exception);
                Answer::json(StatusCode::BAD_REQUEST, &vec![&failed; self.inputs.len()])
                    .failing(exception.code.as_str())
            }
        }
    }
}

/// Parses each input on its own, so that the first bad one (104) can be told apart.
fn parse_inputs<T: DeserializeOwned>(inputs: &[Box<RawValue>]) -> Vec<Result<T, ApiException>> {
    inputs
        .iter()
        .map(|raw| {
            parse_object(raw.get().as_bytes()).map_err(|e| ApiException::invalid(e.message()))
        })
        .collect()
}

/// A body that could not be had or parsed, in the array envelope.
fn body_error(error: BodyError) -> SalesforceError {
    PlatformError::from(error).into()
}

#[derive(Serialize)]
pub struct ActionList {
    actions: Vec<ActionSummary>,
}

#[derive(Serialize)]
pub struct ActionSummary {
    label: &'static str,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    /// The action's describe URL.
    url: String,
}

pub async fn list(
    Path(version): Path<String>,
    BasePath(base): BasePath,
    caller: Result<Caller, PlatformError>,
) -> Result<Json<ActionList>, SalesforceError> {
    check_version(&version)?;
    caller?;
    let actions = ActionName::ALL
        .into_iter()
        .map(|name| ActionSummary {
            label: catalog::spec(name).label,
            url: format!(
                "{base}/services/data/{version}/actions/custom/apex/{}",
                name.namespaced()
            ),
            name: name.namespaced(),
            kind: "APEX",
        })
        .collect();
    Ok(Json(ActionList { actions }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionDescription {
    description: &'static str,
    inputs: Vec<ParameterDescription>,
    label: &'static str,
    name: String,
    outputs: Vec<ParameterDescription>,
    standard: bool,
    target_entity_name: Option<()>,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParameterDescription {
    byte_length: u32,
    description: &'static str,
    label: &'static str,
    max_occurs: u32,
    name: &'static str,
    picklist_values: Option<()>,
    required: bool,
    sobject_type: Option<()>,
    #[serde(rename = "type")]
    kind: &'static str,
}

impl From<&Parameter> for ParameterDescription {
    fn from(p: &Parameter) -> Self {
        Self {
            byte_length: 0,
            description: p.description,
            label: p.label,
            max_occurs: 1,
            name: p.name,
            picklist_values: None,
            required: p.required,
            sobject_type: None,
            kind: p.kind.as_str(),
        }
    }
}

pub async fn describe(
    path: Result<Path<(String, String)>, PathRejection>,
    caller: Result<Caller, PlatformError>,
) -> Result<Json<ActionDescription>, SalesforceError> {
    let Path((version, action_name)) = path.map_err(|_| PlatformError::not_found())?;
    check_version(&version)?;
    caller?;
    let action = ActionName::parse(&action_name).ok_or_else(PlatformError::not_found)?;
    let spec = catalog::spec(action);
    Ok(Json(ActionDescription {
        description: spec.description,
        inputs: spec.inputs.iter().map(Into::into).collect(),
        label: spec.label,
        name: action.namespaced(),
        outputs: spec.outputs.iter().map(Into::into).collect(),
        standard: false,
        target_entity_name: None,
        kind: "APEX",
    }))
}

/// A record the emulator created, or one of the org's records, in Salesforce's shape.
pub async fn sobject(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    BasePath(base): BasePath,
    caller: Result<Caller, PlatformError>,
) -> Result<Response, SalesforceError> {
    let Path((version, object, raw_id)) = path.map_err(|_| PlatformError::not_found())?;
    check_version(&version)?;
    let caller = caller?;
    let id = SalesforceId::parse(&raw_id).map_err(|_| PlatformError::not_found())?;
    let found = sobjects::sobject(
        state.storage(),
        &caller.org_name,
        &caller.org,
        &format!("{base}/services/data/{version}"),
        &object,
        id,
    )
    .await?;
    found
        .map(|json| json.into_response())
        .ok_or_else(|| PlatformError::not_found().into())
}
