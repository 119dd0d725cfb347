//! Integration tests: each drives a real server over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod call;
mod contract;
mod docs;
mod events;
mod inbound;
mod inspection;
mod lifecycle;
mod long_poll;
mod observe;
mod org;
mod orgs;
mod page;
mod process;
mod progression;
pub(crate) mod resilience;
mod robustness;
mod salesforce_rest;
mod sms;
mod storage_contract;
mod twilio;
mod user_status;
