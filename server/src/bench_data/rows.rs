//! Rows written many to a statement, and the statements they are written with.

use app::platform::db::{Dialect, Tx};

/// Values per INSERT statement (rows × columns) on PostgreSQL: few round trips, far below its
/// limit on parameters.
const VALUES_PER_STATEMENT: usize = 1000;
/// On SQLite: fewer, because sqlx finds each parameter's place by its name, which SQLite looks
/// up in a list as long as the statement's parameters (with a thousand values a statement, two
/// fifths of the loader's time went there). Still one trip to the connection's thread per
/// several rows.
const SQLITE_VALUES_PER_STATEMENT: usize = 150;

/// A value for a row.
pub(super) enum V {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Fixed(&'static str),
    /// A text NULL (PostgreSQL is told the type of every parameter: an integer column takes
    /// `OptInt(None)`).
    Null,
}

pub(super) fn t(s: &str) -> V {
    V::Text(s.to_string())
}

/// Rows of one table waiting to be inserted, many to a statement: one round trip (and, on
/// SQLite, one trip to the connection's thread) per statement, not per row.
pub(super) struct Rows {
    head: &'static str,
    columns: usize,
    per_statement: usize,
    full: String,
    values: Vec<V>,
}

fn insert_sql(head: &str, columns: usize, rows: usize) -> String {
    // The statement as written has one row of values (so the queries test prepares it); the
    // rows are written here.
    let head = head.split(" VALUES ").next().unwrap_or(head);
    let mut sql = String::with_capacity(head.len() + rows * columns * 6 + 8);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..columns {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(r * columns + c + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

impl Rows {
    /// `head` is `INSERT INTO table (columns…) VALUES (…)`, one row.
    pub(super) fn new(head: &'static str, dialect: Dialect) -> Rows {
        let columns = head.split(" VALUES ").next().and_then(|h| h.split_once('(')).map(|(_, cols)| cols.split(',').count()).unwrap_or(1);
        let values = match dialect {
            Dialect::Sqlite => SQLITE_VALUES_PER_STATEMENT,
            Dialect::Postgres => VALUES_PER_STATEMENT,
        };
        let per_statement = (values / columns).max(1);
        Rows { head, columns, per_statement, full: insert_sql(head, columns, per_statement), values: Vec::new() }
    }

    pub(super) fn push<const N: usize>(&mut self, row: [V; N]) {
        debug_assert_eq!(N, self.columns, "{}", self.head);
        self.values.extend(row);
    }

    /// Inserts every row pushed so far.
    pub(super) async fn flush(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
        // Taken whole and read from the front: draining a statement's worth at a time would
        // move everything behind it each time.
        let mut left = self.values.len() / self.columns;
        let mut values = std::mem::take(&mut self.values).into_iter();
        while left > 0 {
            let rows = left.min(self.per_statement);
            left -= rows;
            let partial;
            let sql = if rows == self.per_statement {
                self.full.as_str()
            } else {
                partial = insert_sql(self.head, self.columns, rows);
                partial.as_str()
            };
            let mut q = sqlx::query(sql);
            for v in values.by_ref().take(rows * self.columns) {
                q = match v {
                    V::Int(i) => q.bind(i),
                    V::OptInt(i) => q.bind(i),
                    V::Text(s) => q.bind(s),
                    V::OptText(s) => q.bind(s),
                    V::Fixed(s) => q.bind(s),
                    V::Null => q.bind(Option::<String>::None),
                };
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

pub(super) const INSERT_PATIENTS: &str =
    "INSERT INTO patients (id, mrn, given_name, family_name, date_of_birth, email, statement_delivery, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
pub(super) const INSERT_USERS: &str = "INSERT INTO users (id, login, display_name, kind, email, password_hash, password_changed_at, created_at, patient_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub(super) const INSERT_TERMS: &str = "INSERT INTO terms_acceptances (user_id, terms_version_id, accepted_at) VALUES ($1, $2, $3)";
pub(super) const INSERT_TEAM: &str = "INSERT INTO care_team (patient_id, provider_id, pool_id, added_at) VALUES ($1, $2, $3, $4)";
pub(super) const INSERT_THREADS: &str = "INSERT INTO threads (id, patient_id, topic, subject, created_at, last_message_at) VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const INSERT_MESSAGES: &str = "INSERT INTO messages (id, thread_id, author_id, author_kind, body, sent_at, to_provider_id, to_pool_id, \
     assigned_provider_id, assigned_pool_id, due_at, staff_opened_at, handled_at, handled_by, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
pub(super) const INSERT_ACCOUNTS: &str =
    "INSERT INTO billing_accounts (id, number, patient_id, mailing_address, delivery, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(super) const INSERT_DELIVERY_CHANGES: &str =
    "INSERT INTO delivery_changes (id, account_id, changed_at, changed_by, cause, from_delivery, to_delivery) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(super) const INSERT_STATEMENTS: &str = "INSERT INTO statements (id, account_id, statement_date, period_start, period_end, due_date, previous_balance, \
     charges, payments, adjustments, amount_due, delivery, posted_at, posted_by, printed_at, printed_by, queue_position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
pub(super) const INSERT_LINES: &str =
    "INSERT INTO statement_lines (statement_id, position, kind, line_date, department, description, amount) VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(super) const INSERT_RESOURCES: &str =
    "INSERT INTO record_resources (resource_type, resource_id, fhir_patient_id, content, loaded_at) VALUES ($1, $2, $3, $4, $5)";
pub(super) const INSERT_IDENTIFIERS: &str = "INSERT INTO record_patient_identifiers (system, value, fhir_patient_id) VALUES ($1, $2, $3)";
pub(super) const INSERT_LINKS: &str = "INSERT INTO record_links (patient_id, fhir_patient_id, how, linked_at) VALUES ($1, $2, $3, $4)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_statements_have_a_placeholder_per_value() {
        // A real table's statement: the queries test prepares every SQL literal, these too.
        assert_eq!(
            insert_sql(INSERT_LINKS, 4, 2),
            "INSERT INTO record_links (patient_id, fhir_patient_id, how, linked_at) VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)"
        );
        let rows = Rows::new(INSERT_MESSAGES, Dialect::Postgres);
        assert_eq!(rows.columns, 15);
        assert_eq!(rows.per_statement, VALUES_PER_STATEMENT / 15);
        assert_eq!(Rows::new(INSERT_STATEMENTS, Dialect::Sqlite).columns, 17);
        assert_eq!(Rows::new(INSERT_STATEMENTS, Dialect::Sqlite).per_statement, SQLITE_VALUES_PER_STATEMENT / 17);
    }
}
