//! Integration tests: each drives a real server over HTTP, on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod inspection;
mod lifecycle;
mod org;
mod salesforce_rest;
mod sms;
mod storage_contract;
