//! fastcall-emulator: a stateful local emulator of the Fastcall Subscriber API.
//!
//! `main.rs` parses the configuration and calls [`startup::Application`]; tests build the
//! same application on port 0 with their own database.

pub mod actions;
pub mod config;
pub mod domain;
pub mod events;
pub mod healthcheck;
pub mod http;
pub mod lifecycle;
pub mod metrics;
pub mod org;
pub mod ready;
pub mod records;
pub mod server;
pub mod startup;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod views;
pub mod voip;
