use std::process::ExitCode;

use clap::Parser;

use fastcall_emulator::config::Config;
use fastcall_emulator::domain::OrgName;
use fastcall_emulator::startup::Application;
use fastcall_emulator::{healthcheck, ready, telemetry};

/// mimalloc rather than the system's allocator: a request allocates some 150 times, and
/// glibc's malloc and free were a sixth of its instructions (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if config.healthcheck {
        let up = healthcheck::check(config.addr).await;
        return if up {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    telemetry::init(&config.log, config.log_format);
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(error) => {
            tracing::error!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let addr = app.local_addr();
    let default = app.state().org(&OrgName::default_org());
    if !addr.ip().is_loopback() && !default.as_ref().is_some_and(|org| org.has_api_keys()) {
        tracing::warn!(%addr, "listening beyond this machine without API keys: anyone who can reach it can send");
    }
    if let Some(default) = default {
        tracing::info!("{}", ready::ready_message(addr, &default));
    }
    app.run_until(shutdown_signal()).await;
    ExitCode::SUCCESS
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
