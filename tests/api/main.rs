//! Integration tests: each drives a real server over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod call;
mod events;
mod inspection;
mod lifecycle;
mod org;
mod salesforce_rest;
mod sms;
mod storage_contract;
mod user_status;
