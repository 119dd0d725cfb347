//! A full disk: the database lives on a small tmpfs that the test fills with 1 KB messages.
//! Every write that cannot be stored is a retryable 503, every acknowledged one is kept
//! (across a restart too), `/readyz` says so while writes fail, and once space is freed the
//! next write commits. SQLite's file sits on the tmpfs; PostgreSQL's tables sit in a
//! tablespace on one. Mounting needs root: CI runs as root, and elsewhere the test says it
//! is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;

use super::{Api, SMS_PATH};
use crate::helpers::*;

/// A tmpfs mounted on a directory of its own, unmounted when dropped.
struct SmallDisk {
    dir: TempDir,
}

impl SmallDisk {
    /// A tmpfs of `megabytes`, or `None` (said) where this user cannot mount one, unless
    /// under CI, which must run the test.
    fn mount(test: &str, megabytes: u32) -> Option<Self> {
        // Under /var/tmp rather than /tmp: PostgreSQL's service may see a private /tmp.
        let dir = tempfile::Builder::new()
            .prefix("fastcall-full-")
            .tempdir_in("/var/tmp")
            .expect("a directory to mount on");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m,mode=0777")])
            .arg("tmpfs")
            .arg(dir.path())
            .status()
            .is_ok_and(|status| status.success());
        if mounted {
            return Some(Self { dir });
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: CI must be able to mount a tmpfs (run as root)"
        );
        eprintln!("skipped {test}: mounting a tmpfs needs root");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Frees space: the same tmpfs, grown.
    fn grow(&self, megabytes: u32) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={megabytes}m")])
            .arg(self.path())
            .status()
            .expect("mount runs");
        assert!(status.success(), "remount to {megabytes} MB");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// Sends 1 KB messages until the disk is full; the ids of those acknowledged.
async fn fill(api: &Api) -> Vec<String> {
    let body = "x".repeat(1000);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for _ in 0..20_000 {
        let (status, answer) = api
            .post(
                SMS_PATH,
                &json!({"toPhone": "+14155550123", "bodyText": body}),
            )
            .await;
        match status {
            StatusCode::OK => acknowledged.push(answer["id"].as_str().expect("an id").to_owned()),
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(answer["errorCode"], "SERVICE_UNAVAILABLE", "{answer}");
                refused += 1;
                // A few more, to see that refusals stay refusals and leave nothing half-done.
                if refused == 5 {
                    return acknowledged;
                }
            }
            other => panic!("a full disk answered {other}: {answer}"),
        }
    }
    panic!(
        "the disk never filled: {} messages stored",
        acknowledged.len()
    );
}

/// Every acknowledged message can be read back.
async fn assert_kept(api: &Api, acknowledged: &[String], when: &str) {
    for id in acknowledged {
        let (status, _) = api.get(&format!("/_emulator/messages/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{when}: acknowledged {id} is gone");
    }
}

/// Fills the disk under a server of `db`, frees space, restarts: nothing acknowledged
/// is lost, and the service says what it can do throughout.
async fn full_disk_story(db: &TestDb, disk: &SmallDisk) {
    let app = TestApp::start(db, |_| {}).await;
    let api = Api::of(&app);
    let acknowledged = fill(&api).await;
    assert!(!acknowledged.is_empty(), "some messages fit");

    let (status, ready) = api.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{ready}");
    assert_eq!(ready["reason"], "database cannot store writes", "{ready}");
    // Reads still work while writes fail.
    assert_kept(&api, &acknowledged, "while the disk is full").await;
    // A customer's STOP is refused alike, or, if so small a write still fits, stored whole:
    // the message, the provider's reply and the opt-out.
    let stop = json!({"from": "+14155550124", "to": "+14155550100", "body": "STOP"});
    let (status, answer) = api.post("/_emulator/inbound", &stop).await;
    let stop_stored = match status {
        StatusCode::CREATED => true,
        StatusCode::SERVICE_UNAVAILABLE => false,
        other => panic!("a full disk answered a STOP {other}: {answer}"),
    };

    disk.grow(64);
    let (status, ready) = api.get("/readyz").await;
    assert_eq!(status, StatusCode::OK, "after space was freed: {ready}");
    let (status, answer) = api
        .post(
            SMS_PATH,
            &json!({"toPhone": "+14155550123", "bodyText": "after"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let mut acknowledged = acknowledged;
    acknowledged.push(answer["id"].as_str().expect("an id").to_owned());
    assert_kept(&api, &acknowledged, "after space was freed").await;
    app.stop().await;

    let app = TestApp::start(db, |_| {}).await;
    let api = Api::of(&app);
    assert_kept(&api, &acknowledged, "after a restart").await;
    let opt_outs = api.items("/_emulator/opt-outs").await;
    assert_eq!(opt_outs.len(), usize::from(stop_stored), "{opt_outs:?}");
    app.stop().await;
    assert_eq!(
        stored_messages(db).await,
        acknowledged.len() + if stop_stored { 2 } else { 0 },
        "only acknowledged messages are stored"
    );
}

/// How many messages the database holds, counted by the database itself.
async fn stored_messages(db: &TestDb) -> usize {
    use sqlx::Connection;
    const COUNT: &str = "SELECT COUNT(*) FROM sms_messages";
    let (count,): (i64,) = if db.url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&db.url)
            .await
            .expect("SQLite");
        sqlx::query_as(COUNT).fetch_one(&mut conn).await
    } else {
        let mut conn = sqlx::PgConnection::connect(&db.url)
            .await
            .expect("PostgreSQL");
        sqlx::query_as(COUNT).fetch_one(&mut conn).await
    }
    .expect("a count");
    usize::try_from(count).expect("a count fits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_full_disk_loses_no_acknowledged_write_and_recovers_once_space_is_freed() {
    let Some(disk) = SmallDisk::mount("sqlite full disk", 3) else {
        return;
    };
    let mut db = TestDb::new(Backend::Sqlite).await;
    db.url = format!("sqlite:{}", disk.path().join("full.db").display());
    full_disk_story(&db, &disk).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_full_disk_loses_no_acknowledged_write_and_recovers_once_space_is_freed() {
    if !postgres_available("postgres full disk") {
        return;
    }
    let Some(disk) = SmallDisk::mount("postgres full disk", 4) else {
        return;
    };
    let db = postgres_on(&disk).await;
    full_disk_story(&db, &disk).await;
}

/// A PostgreSQL database whose tables live in a directory on `disk`.
async fn postgres_on(disk: &SmallDisk) -> TestDb {
    let data: PathBuf = disk.path().join("pgdata");
    std::fs::create_dir(&data).expect("a tablespace directory");
    let chowned = Command::new("chown")
        .arg("postgres:postgres")
        .arg(&data)
        .status()
        .is_ok_and(|status| status.success());
    assert!(chowned, "the tablespace directory is given to postgres");
    TestDb::postgres(Some(&data)).await
}
