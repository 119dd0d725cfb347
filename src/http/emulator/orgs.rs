//! The orgs a server holds side by side (SPEC 11): `GET /orgs` lists them with what they
//! hold, `DELETE /orgs/{name}` removes one with everything it holds. An org is created or
//! replaced by `PUT /orgs/{name}/_emulator/org`, and reset under its own prefix.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;

use crate::domain::{OrgName, Timestamp};
use crate::http::error::{PlatformCode, PlatformError};
use crate::http::extract::no_such_org;
use crate::state::AppState;
use crate::storage::OrgSummary;
use crate::views::Items;

/// One org of `GET /orgs`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgItem {
    name: String,
    /// Counts its replacements: 1 when created.
    version: i64,
    updated_date: Timestamp,
    counts: Counts,
}

/// How many records an org holds, by kind.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Counts {
    messages: i64,
    calls: i64,
    tasks: i64,
    status_log: i64,
    voip_errors: i64,
    opt_outs: i64,
}

impl From<OrgSummary> for OrgItem {
    fn from(org: OrgSummary) -> Self {
        Self {
            name: org.name.to_string(),
            version: org.version,
            updated_date: org.updated_at,
            counts: Counts {
                messages: org.messages,
                calls: org.calls,
                tasks: org.tasks,
                status_log: org.status_changes,
                voip_errors: org.voip_errors,
                opt_outs: org.opt_outs,
            },
        }
    }
}

/// `GET /orgs`: every org, by name.
pub async fn list(State(state): State<AppState>) -> Result<Json<Items<OrgItem>>, PlatformError> {
    let orgs = state.storage().list_orgs().await?;
    Ok(Json(Items {
        items: orgs.into_iter().map(OrgItem::from).collect(),
    }))
}

#[derive(Serialize)]
pub struct Deleted {
    name: String,
    deleted: bool,
}

/// `DELETE /orgs/{name}`: the org and everything it holds. `default` stays: reset it instead.
pub async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<Deleted>, PlatformError> {
    let name = OrgName::parse(&raw).map_err(|e| {
        PlatformError::new(
            PlatformCode::InvalidOrgName,
            format!("`{raw}` is not an org name: it {e}"),
        )
    })?;
    if name.is_default() {
        return Err(PlatformError::new(
            PlatformCode::DefaultOrg,
            "The org default is the one the root routes serve and cannot be deleted: \
             POST /_emulator/reset?org=true empties it",
        ));
    }
    if !state.delete_org(&name).await? {
        return Err(no_such_org(&name));
    }
    Ok(Json(Deleted {
        name: name.to_string(),
        deleted: true,
    }))
}
