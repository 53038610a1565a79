//! `server backup --to FILE`: a consistent copy of the SQLite database, made while the portal
//! runs. `VACUUM INTO` reads the database inside one read transaction (so the copy is one
//! moment's state even while other servers' requests write; WAL lets them go on meanwhile) and
//! writes a compact, self-contained file that opens as a portal database as it is. Copying the
//! file with `cp` instead could catch it between the database file and its WAL.
//!
//! PostgreSQL has its own tools for this (pg_dump, base backups and WAL archiving for
//! point-in-time recovery): see docs/operations.md.

use app::platform::db::{Db, Dialect};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the database is PostgreSQL: back it up with pg_dump (see docs/operations.md)")]
    NotSqlite,
    #[error("{0} exists already; choose a new file name")]
    Exists(String),
    #[error("the folder of {0} does not exist")]
    NoFolder(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("could not read the copy: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes the snapshot to `to` (which must not exist) and returns its size in bytes.
pub async fn sqlite_snapshot(db: &Db, to: &Path) -> Result<u64, BackupError> {
    if db.dialect != Dialect::Sqlite {
        return Err(BackupError::NotSqlite);
    }
    let shown = to.display().to_string();
    // Checked here because VACUUM INTO's own refusal names no file.
    if to.exists() {
        return Err(BackupError::Exists(shown));
    }
    let folder = to.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(BackupError::NoFolder(shown));
    }
    // The copy holds health information: it is made here first, empty and readable by the
    // portal's user only (0600), and VACUUM INTO writes into it (it accepts an empty file and
    // keeps its permissions). `create_new` also refuses a file that appeared meanwhile.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(to) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(BackupError::Exists(shown)),
        Err(e) => return Err(e.into()),
    }
    if let Err(e) = sqlx::query("VACUUM INTO $1").bind(to.to_string_lossy().into_owned()).execute(&db.pool).await {
        let _ = std::fs::remove_file(to);
        return Err(e.into());
    }
    Ok(std::fs::metadata(to)?.len())
}
