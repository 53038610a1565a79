//! The one query layer. Queries are written once, with `$1` placeholders, which both SQLite and
//! PostgreSQL accept; what differs between the two lives here (connection set-up, migrations,
//! write transactions).

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn of_url(url: &str) -> Option<Dialect> {
        if url.starts_with("sqlite:") {
            Some(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Dialect::Postgres)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub dialect: Dialect,
    joined: Arc<JoinedWrites>,
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Connects to the database the URL names. A SQLite file is created when missing.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url).ok_or_else(|| sqlx::Error::Configuration("database URL must start with sqlite: or postgres:".into()))?;
        let mut url = url.to_string();
        if dialect == Dialect::Sqlite && !url.contains("mode=") {
            url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            // A SQLite connection is a file handle that cannot go stale; pinging it before every
            // query would cost every page a round trip to the connection's thread.
            .test_before_acquire(dialect == Dialect::Postgres)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL lets readers run beside the writer; FULL syncs each commit so a
                        // recorded message or audit entry survives a power cut.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Db { pool, dialect, joined: Arc::default() })
    }

    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.dialect {
            Dialect::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await,
            Dialect::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await,
        }
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for other writers
    /// instead of failing when it upgrades its lock.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
    }

    /// Runs `work` in a write transaction shared with the other requests waiting to write this
    /// way (group commit), and returns once that transaction is committed. For small writes that
    /// stand alone and come with reads, like the audit entry of every record view: one
    /// transaction per page made 64 readers queue for SQLite's one writer (whose busy handler
    /// sleeps up to 100 ms between tries) and for the audit chain's head row on PostgreSQL, and
    /// paid one fsync each. One batch is written at a time; those that arrive meanwhile form the
    /// next. When a batch fails, each of its writes is tried again alone, so one request's failed
    /// write never fails another's. `work` may run twice for that reason (the first try rolled
    /// back).
    pub async fn write_joined<F>(&self, work: F) -> Result<(), sqlx::Error>
    where
        F: for<'t> Fn(&'t mut Tx) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 't>> + Send + Sync + 'static,
    {
        let (answer, mut answered) = oneshot::channel();
        self.joined.waiting.lock().unwrap_or_else(|e| e.into_inner()).push(Waiting { work: Box::new(work), answer });
        loop {
            tokio::select! {
                biased;
                result = &mut answered => return result.unwrap_or(Err(sqlx::Error::WorkerCrashed)),
                turn = self.joined.turn.clone().lock_owned() => {
                    let batch: Vec<Waiting> = {
                        let mut waiting = self.joined.waiting.lock().unwrap_or_else(|e| e.into_inner());
                        let n = waiting.len().min(MAX_JOINED);
                        waiting.drain(..n).collect()
                    };
                    if !batch.is_empty() {
                        // Spawned, so that a request that goes away mid-batch (the browser
                        // closed) does not roll back the writes of the others.
                        let db = self.clone();
                        tokio::spawn(async move {
                            db.write_batch(batch).await;
                            drop(turn);
                        });
                    }
                }
            }
        }
    }

    async fn write_batch(&self, batch: Vec<Waiting>) {
        let together = async {
            let mut tx = self.begin_write().await?;
            for waiting in &batch {
                (waiting.work)(&mut tx).await?;
            }
            tx.commit().await
        }
        .await;
        match together {
            Ok(()) => batch.into_iter().for_each(|w| drop(w.answer.send(Ok(())))),
            Err(e) if batch.len() == 1 => {
                let _ = batch.into_iter().next().map(|w| w.answer.send(Err(e)));
            }
            Err(_) => {
                for waiting in batch {
                    let alone = async {
                        let mut tx = self.begin_write().await?;
                        (waiting.work)(&mut tx).await?;
                        tx.commit().await
                    }
                    .await;
                    let _ = waiting.answer.send(alone);
                }
            }
        }
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// The most writes joined into one transaction: enough for every connection of a busy server,
/// few enough that a batch stays a few milliseconds.
const MAX_JOINED: usize = 256;

type JoinedWork = Box<dyn for<'t> Fn(&'t mut Tx) -> Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 't>> + Send + Sync>;

struct Waiting {
    work: JoinedWork,
    answer: oneshot::Sender<Result<(), sqlx::Error>>,
}

/// The writes waiting for the next joined transaction, and the turn to write one.
#[derive(Default)]
struct JoinedWrites {
    waiting: Mutex<Vec<Waiting>>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for JoinedWrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinedWrites")
    }
}

/// Locks one row of `table` (by its `id`) until the transaction ends, so that two requests
/// acting on the same record (a double click, two staff members) run one after the other, and
/// says whether the row exists. On PostgreSQL `SELECT … FOR UPDATE` takes the row lock; on
/// SQLite the write transaction already holds the whole database, so the row is only read.
/// (It was `UPDATE … SET id = id` on both: SQLite then checked every table that refers to the
/// row for its key, e.g. all 5 million messages for a user, 1 s a sign-in at 20,000 patients;
/// issue 16.) `table` is always a literal from the calling code.
pub async fn lock_row(tx: &mut Tx, table: &'static str, id: &str) -> Result<bool, sqlx::Error> {
    let lock = if tx.backend_name() == "PostgreSQL" { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT id FROM {table} WHERE id = $1{lock}");
    Ok(sqlx::query(&sql).bind(id).fetch_optional(&mut **tx).await?.is_some())
}
