//! Building the application from its configuration, and serving it until shutdown.

use std::collections::BTreeSet;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::broadcast;

use crate::config::{Config, Provider, Secret};
use crate::domain::{OrgName, Timestamp};
use crate::events;
use crate::http;
use crate::lifecycle::Lifecycle;
use crate::metrics::Metrics;
use crate::org::{InvalidOrg, Org, OrgDocument, OrgFormat, Served};
use crate::records::EventKind;
use crate::server::{self, ServeOptions};
use crate::state::{Admin, AppState, Limits, Providers};
use crate::storage::{self, Storage, StorageError, StorageOptions, redact_url};
use crate::voip::twilio::TwilioSettings;
use crate::voip::{Simulated, Twilio, VoipProvider};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database {url}: {source}")]
    Storage { url: String, source: StorageError },
    #[error("cannot read org file {}: {source}", path.display())]
    OrgFile { path: PathBuf, source: io::Error },
    #[error("org file {}: {source}", path.display())]
    InvalidOrgFile { path: PathBuf, source: InvalidOrg },
    #[error("the data of the org {name} stored in the database no longer validates: {source}")]
    InvalidStoredOrg { name: OrgName, source: InvalidOrg },
    #[error("cannot read the admin token file {}: {source}", path.display())]
    AdminTokenFile { path: PathBuf, source: io::Error },
    #[error(
        "the org has API keys, and {addr} is reachable beyond this machine without an admin \
         token: anyone could replace the keys. Set FASTCALL_ADMIN_TOKEN_FILE or \
         FASTCALL_ADMIN_TOKEN (or --admin-token-file), listen on 127.0.0.1, or pass \
         --allow-open-admin if that is really meant"
    )]
    OpenAdmin { addr: SocketAddr },
    #[error("--provider twilio needs {0}")]
    TwilioSetting(String),
    #[error(transparent)]
    Twilio(#[from] crate::voip::twilio::SetupError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
}

/// The admin token, from the flag or variable or from its file, and whether its absence
/// must keep API keys out.
fn admin(config: &Config) -> Result<Admin, StartupError> {
    let token = match &config.admin_token_file {
        Some(path) => {
            Some(
                Secret::read_from(path).map_err(|source| StartupError::AdminTokenFile {
                    path: path.clone(),
                    source,
                })?,
            )
        }
        None => config.admin_token.clone(),
    };
    let keys_need_token =
        token.is_none() && !config.addr.ip().is_loopback() && !config.allow_open_admin;
    Ok(Admin {
        token,
        keys_need_token,
    })
}

/// The Twilio provider, when the settings choose it.
fn twilio(config: &Config) -> Result<Option<Arc<Twilio>>, StartupError> {
    match config.provider {
        Provider::Simulated => Ok(None),
        Provider::Twilio => {
            let needs = |what: &str| StartupError::TwilioSetting(what.to_owned());
            let account_sid = config
                .twilio_account_sid
                .clone()
                .filter(|sid| !sid.is_empty() && sid.bytes().all(|b| b.is_ascii_alphanumeric()))
                .ok_or_else(|| {
                    needs("TWILIO_ACCOUNT_SID (--twilio-account-sid): the account's SID, AC...")
                })?;
            let auth_token = config
                .twilio_auth_token
                .clone()
                .ok_or_else(|| needs("TWILIO_AUTH_TOKEN (--twilio-auth-token)"))?;
            let public_url = config
                .public_url
                .clone()
                .filter(|url| {
                    matches!(url.scheme(), "http" | "https")
                        && url.query().is_none()
                        && url.fragment().is_none()
                })
                .ok_or_else(|| {
                    needs(
                        "FASTCALL_PUBLIC_URL (--public-url): the http(s) base URL where Twilio \
                         reaches the emulator, without a query",
                    )
                })?;
            let settings = TwilioSettings {
                account_sid,
                auth_token,
                api_url: config.twilio_api_url.clone(),
                public_url,
                timeout: Duration::from_millis(config.twilio_timeout_ms.max(1)),
            };
            Ok(Some(Arc::new(Twilio::new(settings)?)))
        }
    }
}

/// A built application: the database is open and migrated, the org loaded, the port bound.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    serve_options: ServeOptions,
    event_retention: Duration,
}

impl Application {
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let metrics = Arc::new(Metrics::new());
        let options = StorageOptions {
            max_connections: config.db_max_connections,
            acquire_timeout: Duration::from_millis(config.db_acquire_timeout_ms),
            metrics: metrics.clone(),
        };
        let twilio = twilio(config)?;
        let voip: Arc<dyn VoipProvider> = match &twilio {
            Some(twilio) => twilio.clone(),
            None => Arc::new(Simulated {
                latency: Duration::from_millis(config.provider_latency_ms),
            }),
        };
        let step_delay = Duration::from_millis(config.step_delay_ms);
        let lifecycle = Arc::new(Lifecycle::new(
            config.progression,
            step_delay,
            voip.clone(),
            metrics.clone(),
        ));
        let storage = storage::connect(
            &config.database_url,
            &options,
            lifecycle.clone(),
            events::payload,
        )
        .await
        .map_err(|source| StartupError::Storage {
            url: redact_url(&config.database_url),
            source,
        })?;
        let orgs = served_orgs(
            storage.as_ref(),
            config.org.as_deref(),
            &config.database_url,
        )
        .await?;
        let limits = Limits {
            max_body_bytes: config.max_body_bytes,
            max_bulk_inputs: config.max_bulk_inputs,
            event_keep_alive: Duration::from_secs(config.event_keep_alive_secs.max(1)),
            idempotency_ttl: Duration::from_secs(config.idempotency_ttl_secs),
            request_timeout: Duration::from_secs(config.request_timeout_secs.max(1)),
            body_read_timeout: Duration::from_secs(config.body_read_timeout_secs.max(1)),
            max_concurrent_requests: config.max_concurrent_requests.max(1),
            provider_concurrency: config.provider_concurrency.max(1),
        };
        let admin = admin(config)?;
        if admin.keys_need_token && orgs.any_api_keys() {
            return Err(StartupError::OpenAdmin { addr: config.addr });
        }
        let provider = Providers { voip, twilio };
        let state = AppState::new(storage, provider, lifecycle, metrics, orgs, limits, admin);
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.addr,
                    source,
                })?;
        Ok(Self {
            listener,
            state,
            serve_options: ServeOptions {
                header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
                shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
            },
            event_retention: Duration::from_secs(config.event_retention_secs),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then stops accepting, ends event streams and
    /// gives in-flight requests the grace period to finish.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let background = [
            tokio::spawn(follow_org_replacements(self.state.clone())),
            tokio::spawn(prune(self.state.clone(), self.event_retention)),
            tokio::spawn(self.state.run_lifecycle()),
        ];
        let state = self.state.clone();
        let app = http::app(self.state);
        let stop = async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            // Ends event streams and long polls, which would otherwise hold their connections.
            state.begin_stopping();
        };
        server::serve(self.listener, app, stop, self.serve_options).await;
        // Waits until each task has let go of the state, so that the storage is dropped (a
        // SQLite file is free again) by the time this returns.
        for task in background {
            task.abort();
            let _ = task.await;
        }
    }
}

/// Reloads an org when any instance (this one included) created, replaced or deleted it.
async fn follow_org_replacements(state: AppState) {
    let mut events = state.storage().subscribe();
    loop {
        let changed: Vec<OrgName> = match events.recv().await {
            Ok(event) if matches!(event.kind, EventKind::OrgReplaced | EventKind::OrgDeleted) => {
                vec![event.org.clone()]
            }
            Ok(_) => continue,
            // Missed events may have held changes: every org is read again.
            Err(broadcast::error::RecvError::Lagged(_)) => {
                match state.storage().load_orgs().await {
                    // Those stored now, and those served that may be gone.
                    Ok(stored) => {
                        let mut names: BTreeSet<OrgName> = state.orgs().names().cloned().collect();
                        names.extend(stored.into_iter().map(|(name, _)| name));
                        names.into_iter().collect()
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot read the orgs after missing their changes");
                        continue;
                    }
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        for name in changed {
            if let Err(error) = state.reload_org(&name).await {
                tracing::warn!(%error, %name, "cannot reload a changed org");
            }
        }
    }
}

/// Once a minute, forgets events older than their retention and idempotency keys older
/// than theirs.
async fn prune(state: AppState, event_retention: Duration) {
    let ago = |period: Duration| {
        Timestamp::from_millis(Timestamp::now().millis() - period.as_millis() as i64)
    };
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(error) = state.storage().prune_events(ago(event_retention)).await {
            tracing::warn!(%error, "cannot prune old events");
        }
        if let Err(error) = state
            .storage()
            .prune_keys(ago(state.limits().idempotency_ttl))
            .await
        {
            tracing::warn!(%error, "cannot prune old idempotency keys");
        }
    }
}

/// The orgs to serve: `default` (see [`default_org`]) and every other org stored.
async fn served_orgs(
    storage: &dyn Storage,
    file: Option<&Path>,
    url: &str,
) -> Result<Served, StartupError> {
    let default = default_org(storage, file, url).await?;
    let stored = storage
        .load_orgs()
        .await
        .map_err(|source| StartupError::Storage {
            url: redact_url(url),
            source,
        })?;
    let mut served = Served::default();
    for (name, document) in stored.into_iter().filter(|(name, _)| !name.is_default()) {
        let org = Org::new(document).map_err(|source| StartupError::InvalidStoredOrg {
            name: name.clone(),
            source,
        })?;
        served = served.with(name.clone(), Arc::new(org)).map_err(|taken| {
            StartupError::InvalidStoredOrg {
                name,
                source: taken.into(),
            }
        })?;
    }
    served
        .with(OrgName::default_org(), Arc::new(default))
        .map_err(|taken| StartupError::InvalidStoredOrg {
            name: OrgName::default_org(),
            source: taken.into(),
        })
}

/// The org `default`: the `--org` file (stored, replacing what was there), else the stored
/// org, else the demo org (stored, so later edits and restarts keep it).
async fn default_org(
    storage: &dyn Storage,
    file: Option<&Path>,
    url: &str,
) -> Result<Org, StartupError> {
    let storage_error = |source| StartupError::Storage {
        url: redact_url(url),
        source,
    };
    // The org named `default`: the one the root routes serve.
    let default = OrgName::default_org();
    if let Some(path) = file {
        let org = read_org_file(path)?;
        storage
            .save_org(&default, org.document())
            .await
            .map_err(storage_error)?;
        tracing::info!(path = %path.display(), "loaded org file");
        return Ok(org);
    }
    match storage.load_org(&default).await.map_err(storage_error)? {
        Some(document) => Org::new(document).map_err(|source| StartupError::InvalidStoredOrg {
            name: default,
            source,
        }),
        None => {
            let org = Org::demo();
            storage
                .save_org(&default, org.document())
                .await
                .map_err(storage_error)?;
            tracing::info!("no org data stored yet: loaded the built-in demo org");
            Ok(org)
        }
    }
}

/// Reads an org file: JSON when it ends in `.json`, YAML otherwise.
pub fn read_org_file(path: &Path) -> Result<Org, StartupError> {
    let bytes = std::fs::read(path).map_err(|source| StartupError::OrgFile {
        path: path.to_owned(),
        source,
    })?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let format = if is_json {
        OrgFormat::Json
    } else {
        OrgFormat::Yaml
    };
    OrgDocument::parse(&bytes, format)
        .and_then(Org::new)
        .map_err(|source| StartupError::InvalidOrgFile {
            path: path.to_owned(),
            source,
        })
}
