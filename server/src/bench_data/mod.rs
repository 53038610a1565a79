//! The benchmark's data set (`server bench-data`): many patients of the demo clinic, each with a
//! year of conversations with Dr. Lee or the nurse line, a few years of billing statements and
//! lab results in the embedded medical record, so that `scripts/bench` can measure the staff
//! inbox, a patient's Messages page, Billing Summary, the print queue and Test Results at a
//! realistic size (issue 16: 100,000 patients). Runs after `server demo`.
//!
//! It loads in four parts, one after the other, each timed: patients, messages, statements,
//! results.
//!
//! - **Patients**: each has a record (MRN `BENCH000001` …), a patient account (user ID
//!   `bench000001` …) with the demo password (the hash is copied from the demo patient `alice`),
//!   the terms in force accepted, and Dr. Lee and the demo pools on their care team.
//! - **Messages** come in threads of five, patient and staff in turn (patient, staff, patient,
//!   staff, patient), spread over the last year; each patient message's due date is worked out
//!   with the clinic's business calendar (`BusinessCalendar`, holidays included), as when it is
//!   sent. Six threads in ten are with Dr. Lee, the others with the nurse line (answered by Kim
//!   Alvarez); nothing is routed, nothing has attachments. Staff replies handle the patient
//!   messages before them, and the last patient message of a thread is handled too, except in
//!   the threads chosen to stay open: exactly as many as make Dr. Lee's open patient messages
//!   `--open-for-clinician` and the nurse line's `--open-for-pool` in all (the demo's open
//!   conversations count), whatever the number of patients, or every eligible thread when there
//!   are too few. An open thread is a recent one: it ends in the last two weeks.
//! - **Statements**: each patient is the guarantor of one billing account (`GB00000001` …),
//!   paperless or (about 15 %) paper, with `--statements-per-patient` monthly statements
//!   over the last three years as the billing feature stores them: checked by
//!   `statement::check`, the previous balance carried over, charges at several departments,
//!   insurance adjustments, payments of the last balance (some partial, some missing, so some
//!   accounts owe), a place in the print queue (`print_queue_counter`), and paper ones marked
//!   printed, except `--print-queue` of this month's paper statements (the demo's count), which
//!   wait in the print queue. No notices: they were sent long ago.
//! - **Results**: each patient's embedded medical record holds a FHIR Patient (the MRN as its
//!   identifier under the configured record-number system) and `--results-per-patient` lab
//!   results (Observations with LOINC codes, UCUM values, reference ranges and High/Low/Normal
//!   interpretations; each patient keeps their own level of each test, so some are always High
//!   or Low and trends look like one person's) grouped under DiagnosticReports (metabolic panel,
//!   CBC, lipids, HbA1c, TSH, urine albumin) over the last five years, stored in
//!   `record_resources` and `record_patient_identifiers` as `embedded::import` stores them; the
//!   patient is linked to that Patient in `record_links` as a record-number match would.
//!
//! The data are made up from a fixed seed, one stream per part: the same arguments give the
//! same names, amounts, values and open counts, and changing one part's argument leaves the
//! other parts as they were (the ids differ; the times are relative to now, and moving a time
//! into office hours draws from the generator, so the messages' words and times vary a little
//! from run to run; which threads stay open and which statements wait to be printed do not).
//! No audit entries are written: nobody did anything. Rows are inserted in transactions of a
//! thousand patients per part, many rows to a statement with the same few statements over and
//! over (sqlx prepares each once per connection), with a large SQLite page cache.
//!
//! Files: each part in `patients.rs`, `messages.rs`, `statements.rs`, `results.rs`; what they draw on in `names.rs`, `panels.rs`, `random.rs`, `times.rs`, `rows.rs`.

mod messages;
mod names;
mod panels;
mod patients;
mod random;
mod results;
mod rows;
mod statements;
mod times;

use app::billing::statement;
use app::platform::db::{Dialect, Tx};
use app::state::AppState;
use jiff::tz::TimeZone;
use std::time::{Duration, Instant};

/// Patients per transaction: a thousand patients' messages are 50,000 rows, whose entries land
/// all over indexes keyed by random ids; the fewer commits, the fewer times each index page is
/// written again.
const BATCH: usize = 1000;
/// SQLite's page cache for the loader's connections, in KiB (SQLite's default is 2 MiB): the
/// indexes that random ids spread every batch over stay in memory instead of being read back
/// from the file for each row (at most this much, as the database grows).
const SQLITE_CACHE_KIB: u32 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum BenchDataError {
    #[error("{0}")]
    Missing(String),
    #[error("the benchmark data set is already loaded (patient BENCH000001 exists): load it into a fresh database")]
    AlreadyLoaded,
    #[error("a generated statement breaks the billing rules: {0}")]
    Statement(#[from] statement::StatementError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What to load.
#[derive(Clone, Debug)]
pub struct Options {
    pub patients: u32,
    pub messages_per_patient: u32,
    pub statements_per_patient: u32,
    pub results_per_patient: u32,
    /// Dr. Lee's open patient messages in all, after loading.
    pub open_for_clinician: u32,
    /// The nurse line's open patient messages in all, after loading.
    pub open_for_pool: u32,
    /// Paper statements waiting to be printed in all, after loading.
    pub print_queue: u32,
}

/// How long each part took.
#[derive(Clone, Copy, Debug, Default)]
pub struct Timings {
    pub patients: Duration,
    pub messages: Duration,
    pub statements: Duration,
    pub results: Duration,
}

/// What was loaded, and how long it took.
pub struct Loaded {
    pub patients: u32,
    pub threads: u64,
    pub messages: u64,
    /// Counted after loading, the demo's included.
    pub open_for_drlee: i64,
    pub open_for_pools: i64,
    pub statements: u64,
    pub statement_lines: u64,
    /// Counted after loading, the demo's included.
    pub print_queue: i64,
    pub reports: u64,
    pub results: u64,
    pub timings: Timings,
    pub elapsed: Duration,
}

/// What every part needs: the database and settings, when the load started, the clinic's time
/// zone, and the demo's staff and pools the data are about.
struct Clinic<'a> {
    state: &'a AppState,
    now: i64,
    zone: TimeZone,
    drlee: String,
    nursekim: String,
    billing_staff: String,
    nurse_line: String,
    billing_pool: String,
}

/// A write transaction of the loader.
async fn begin(state: &AppState) -> Result<Tx, sqlx::Error> {
    let mut tx = state.db.begin_write().await?;
    if state.db.dialect == Dialect::Sqlite {
        sqlx::query(&format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}")).execute(&mut *tx).await?;
    }
    Ok(tx)
}

async fn user_id(state: &AppState, login: &str) -> Result<String, BenchDataError> {
    sqlx::query_scalar::<_, String>("SELECT id FROM users WHERE login = $1")
        .bind(login)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| BenchDataError::Missing(format!("no user {login}: run `server demo` first")))
}

async fn pool_id(state: &AppState, name: &str) -> Result<String, BenchDataError> {
    sqlx::query_scalar::<_, String>("SELECT id FROM care_pools WHERE name = $1")
        .bind(name)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(|| BenchDataError::Missing(format!("no pool \"{name}\": run `server demo` first")))
}

async fn count(state: &AppState, sql: &'static str, id: Option<&str>) -> Result<i64, sqlx::Error> {
    let mut q = sqlx::query_scalar::<_, i64>(sql);
    if let Some(id) = id {
        q = q.bind(id.to_string());
    }
    q.fetch_one(&state.db.pool).await
}

/// Loads the data set; `progress` is told of each part when it is done.
pub async fn load(state: &AppState, options: &Options, mut progress: impl FnMut(&str)) -> Result<Loaded, BenchDataError> {
    let started = Instant::now();
    let now = state.clock.now_ms();
    let drlee = user_id(state, "drlee").await?;
    let nursekim = user_id(state, "nursekim").await?;
    let billing_staff = user_id(state, "billing").await?;
    let nurse_line = pool_id(state, "Nurse line").await?;
    let billing_pool = pool_id(state, "Billing questions").await?;
    if sqlx::query("SELECT id FROM patients WHERE mrn = 'BENCH000001'").fetch_optional(&state.db.pool).await?.is_some() {
        return Err(BenchDataError::AlreadyLoaded);
    }
    let zone = state.settings.messaging.time_zone.clone();
    let clinic = Clinic { state, now, zone, drlee, nursekim, billing_staff, nurse_line, billing_pool };
    let mut timings = Timings::default();

    // --- Patients ---
    let part = Instant::now();
    let people = patients::load(&clinic, options).await?;
    timings.patients = part.elapsed();
    progress(&format!("patients: {} in {:.2} s", options.patients, timings.patients.as_secs_f64()));

    // --- Messages ---
    let part = Instant::now();
    let messages::Counts { threads, messages, open_for_drlee, open_for_pools } = messages::load(&clinic, options, &people).await?;
    timings.messages = part.elapsed();
    progress(&format!(
        "messages: {threads} threads, {messages} messages ({open_for_drlee} open for drlee, {open_for_pools} for the nurse line) in {:.2} s",
        timings.messages.as_secs_f64()
    ));

    // --- Statements ---
    let part = Instant::now();
    let statements::Counts { statements, statement_lines, print_queue } = statements::load(&clinic, options, &people).await?;
    timings.statements = part.elapsed();
    progress(&format!(
        "statements: {statements} statements, {statement_lines} lines ({print_queue} in the print queue) in {:.2} s",
        timings.statements.as_secs_f64()
    ));

    // --- Results ---
    let part = Instant::now();
    let results::Counts { reports, results } = results::load(&clinic, options, &people).await?;
    timings.results = part.elapsed();
    progress(&format!("results: {results} results in {reports} reports in {:.2} s", timings.results.as_secs_f64()));

    Ok(Loaded {
        patients: options.patients,
        threads,
        messages,
        open_for_drlee,
        open_for_pools,
        statements,
        statement_lines,
        print_queue,
        reports,
        results,
        timings,
        elapsed: started.elapsed(),
    })
}
