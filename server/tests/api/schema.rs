//! The two migration trees (`app/migrations/sqlite`, `app/migrations/postgres`) must build the
//! same database: one code base runs on both, so a table, column or index that exists on one
//! only is a query that fails on the other, in production (issue 17). Types are not compared
//! (SQLite's `INTEGER` is PostgreSQL's `BIGINT`, `TEXT` is `TEXT`); names are.

use crate::support::{postgres_admin_url, Backend, TestPortal};
use sqlx::Row;
use std::collections::BTreeSet;

/// `table.column` for every column, `index table.name` for every index created by a migration
/// (not those a primary key or UNIQUE constraint makes on its own), `table` for every table.
async fn shape(portal: &TestPortal, backend: Backend) -> BTreeSet<String> {
    let pool = &portal.state.db.pool;
    let mut shape = BTreeSet::new();
    let (columns, indexes) = match backend {
        Backend::Sqlite => (
            "SELECT m.name AS t, c.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) c \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
            "SELECT tbl_name AS t, name AS i FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        ),
        Backend::Postgres => (
            "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
            "SELECT tablename::text AS t, indexname::text AS i FROM pg_indexes WHERE schemaname = current_schema() \
             AND indexname NOT IN (SELECT conname::text FROM pg_constraint)",
        ),
    };
    for row in sqlx::query(columns).fetch_all(pool).await.unwrap() {
        let (t, c): (String, String) = (row.try_get("t").unwrap(), row.try_get("c").unwrap());
        shape.insert(t.clone());
        shape.insert(format!("{t}.{c}"));
    }
    for row in sqlx::query(indexes).fetch_all(pool).await.unwrap() {
        let (t, i): (String, String) = (row.try_get("t").unwrap(), row.try_get("i").unwrap());
        shape.insert(format!("index {t}.{i}"));
    }
    shape
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_trees_build_the_same_tables_columns_and_indexes() {
    if postgres_admin_url().is_none() {
        return;
    }
    let sqlite = TestPortal::start(Backend::Sqlite).await;
    let postgres = TestPortal::start(Backend::Postgres).await;
    let (s, p) = (shape(&sqlite, Backend::Sqlite).await, shape(&postgres, Backend::Postgres).await);
    assert!(s.contains("users.login") && s.contains("outbox.failed_at"), "the query reads the schema: {s:?}");
    let only_sqlite: Vec<_> = s.difference(&p).collect();
    let only_postgres: Vec<_> = p.difference(&s).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "only in the SQLite migrations: {only_sqlite:?}\nonly in the PostgreSQL migrations: {only_postgres:?}"
    );
    sqlite.stop().await;
    postgres.stop().await;
}
