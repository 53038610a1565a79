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

use app::billing::money::Money;
use app::billing::statement::{self, Line, LineKind, NewStatement, Totals};
use app::dates::CalendarDate;
use app::messaging::server::calendar;
use app::platform::db::{Dialect, Tx};
use app::platform::tokens::new_id;
use app::state::AppState;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;
/// Messages in a thread: patient, staff, patient, staff, patient.
const THREAD_LEN: u32 = 5;
/// Patients per transaction: a thousand patients' messages are 50,000 rows, whose entries land
/// all over indexes keyed by random ids; the fewer commits, the fewer times each index page is
/// written again.
const BATCH: usize = 1000;
/// SQLite's page cache for the loader's connections, in KiB (SQLite's default is 2 MiB): the
/// indexes that random ids spread every batch over stay in memory instead of being read back
/// from the file for each row (at most this much, as the database grows).
const SQLITE_CACHE_KIB: u32 = 1 << 20;
/// Values per INSERT statement (rows × columns) on PostgreSQL: few round trips, far below its
/// limit on parameters.
const VALUES_PER_STATEMENT: usize = 1000;
/// On SQLite: fewer, because sqlx finds each parameter's place by its name, which SQLite looks
/// up in a list as long as the statement's parameters (with a thousand values a statement, two
/// fifths of the loader's time went there). Still one trip to the connection's thread per
/// several rows.
const SQLITE_VALUES_PER_STATEMENT: usize = 150;
/// The share of threads with Dr. Lee; the others are with the nurse line.
const WITH_DOCTOR: f64 = 0.6;
/// The share of billing accounts on paper statements.
const PAPER: f64 = 0.15;
/// The share of patients with a statement in this month's run (for the others the newest is
/// older).
const IN_LATEST_RUN: f64 = 0.3;
/// Months back that statements are spread over (more when a patient has more statements).
const STATEMENT_MONTHS: u32 = 36;
/// Years back that lab results are spread over.
const RESULT_YEARS: i64 = 5;

/// The seeds of the generator's streams, one per part and per choice made before a part runs.
const SEED_PATIENTS: u64 = 0x5eed_2026;
const SEED_MESSAGES: u64 = 0x5eed_2026_0001;
const SEED_STATEMENTS: u64 = 0x5eed_2026_0002;
const SEED_RESULTS: u64 = 0x5eed_2026_0003;
const SEED_WHO: u64 = 0x5eed_2026_0004;
const SEED_OPEN: u64 = 0x5eed_2026_0005;
const SEED_BILLING: u64 = 0x5eed_2026_0006;
const SEED_QUEUE: u64 = 0x5eed_2026_0007;
const SEED_PRINTED: u64 = 0x5eed_2026_0008;

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

/// A small, fast, reproducible generator (SplitMix64): the data need not be random, only varied.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// In `lo..hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }
    /// In `lo..hi`, evenly.
    fn real(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
}

/// A draw that depends only on its seed and key (a patient, a thread), not on what was drawn
/// before: the choices made before a part runs (who a thread is with, paper or paperless) are
/// made again, the same, while it runs.
fn draw(seed: u64, key: u64) -> Rng {
    let mut r = Rng(seed ^ key.wrapping_mul(0xd1b5_4a32_d192_ed03));
    r.next();
    r
}

/// Exactly `want` of `of` items, each equally likely, chosen one by one in order (selection
/// sampling, Knuth's algorithm S): the open counts and the print queue hit their numbers.
struct Choose {
    want: u64,
    left: u64,
    rng: Rng,
}

impl Choose {
    fn new(want: u64, of: u64, seed: u64) -> Choose {
        Choose { want: want.min(of), left: of, rng: Rng(seed) }
    }
    /// Whether the next item is chosen; call once per item, in order.
    fn next(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        let chosen = self.rng.next() % self.left < self.want;
        self.left -= 1;
        if chosen {
            self.want -= 1;
        }
        chosen
    }
}

/// A value for a row.
enum V {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Fixed(&'static str),
    /// A text NULL (PostgreSQL is told the type of every parameter: an integer column takes
    /// `OptInt(None)`).
    Null,
}

fn t(s: &str) -> V {
    V::Text(s.to_string())
}

/// Rows of one table waiting to be inserted, many to a statement: one round trip (and, on
/// SQLite, one trip to the connection's thread) per statement, not per row.
struct Rows {
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
    fn new(head: &'static str, dialect: Dialect) -> Rows {
        let columns = head.split(" VALUES ").next().and_then(|h| h.split_once('(')).map(|(_, cols)| cols.split(',').count()).unwrap_or(1);
        let values = match dialect {
            Dialect::Sqlite => SQLITE_VALUES_PER_STATEMENT,
            Dialect::Postgres => VALUES_PER_STATEMENT,
        };
        let per_statement = (values / columns).max(1);
        Rows { head, columns, per_statement, full: insert_sql(head, columns, per_statement), values: Vec::new() }
    }

    fn push<const N: usize>(&mut self, row: [V; N]) {
        debug_assert_eq!(N, self.columns, "{}", self.head);
        self.values.extend(row);
    }

    /// Inserts every row pushed so far.
    async fn flush(&mut self, tx: &mut Tx) -> Result<(), sqlx::Error> {
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

/// Given names, and whether the person is a woman (the FHIR Patient's gender, and the HDL
/// cholesterol range).
const GIVEN: &[(&str, bool)] = &[
    ("Aaron", false),
    ("Abigail", true),
    ("Adam", false),
    ("Amara", true),
    ("Ana", true),
    ("Ben", false),
    ("Bianca", true),
    ("Carlos", false),
    ("Chloe", true),
    ("Daniel", false),
    ("Deepa", true),
    ("Elena", true),
    ("Emeka", false),
    ("Farah", true),
    ("George", false),
    ("Grace", true),
    ("Hana", true),
    ("Hugo", false),
    ("Imani", true),
    ("Isaac", false),
    ("Jae", false),
    ("Julia", true),
    ("Kofi", false),
    ("Laura", true),
    ("Liam", false),
    ("Maya", true),
    ("Mohammed", false),
    ("Nadia", true),
    ("Noah", false),
    ("Olga", true),
    ("Omar", false),
    ("Priya", true),
    ("Quinn", false),
    ("Rosa", true),
    ("Samuel", false),
    ("Sofia", true),
    ("Tariq", false),
    ("Uma", true),
    ("Victor", false),
    ("Wen", true),
    ("Yusuf", false),
    ("Zoe", true),
];
const FAMILY: &[&str] = &[
    "Adams",
    "Ahmed",
    "Baker",
    "Brown",
    "Chen",
    "Cohen",
    "Davis",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Gupta",
    "Hall",
    "Hernandez",
    "Ito",
    "Jackson",
    "Kim",
    "Kowalski",
    "Lopez",
    "Martin",
    "Mensah",
    "Miller",
    "Moore",
    "Murphy",
    "Nguyen",
    "O'Brien",
    "Okafor",
    "Patel",
    "Reyes",
    "Rossi",
    "Santos",
    "Schmidt",
    "Silva",
    "Singh",
    "Taylor",
    "Thompson",
    "Walker",
    "Wang",
    "Williams",
    "Yamamoto",
];
const STREETS: &[&str] = &[
    "Elm Street",
    "Oak Avenue",
    "Birch Lane",
    "Maple Court",
    "Cedar Road",
    "Willow Way",
    "River Road",
    "Hill Street",
    "Park Avenue",
    "Mill Lane",
    "Station Road",
    "Orchard Drive",
];
/// (topic, subject) of a conversation with the doctor or the nurse line.
const SUBJECTS: &[(&str, &str)] = &[
    ("medication", "Refill for my blood pressure medicine"),
    ("medication", "Side effects from the new prescription"),
    ("medication", "Can I take ibuprofen with my medication?"),
    ("test-results", "Question about my blood test results"),
    ("test-results", "Cholesterol results"),
    ("test-results", "When will my X-ray results be ready?"),
    ("appointment", "Do I need a follow-up visit?"),
    ("appointment", "Rescheduling my annual check-up"),
    ("general", "Cough that will not go away"),
    ("general", "Sore knee after running"),
    ("general", "Trouble sleeping"),
    ("general", "Vaccination before travelling"),
    ("general", "Dizziness in the morning"),
    ("other", "Form for my employer"),
    ("other", "Letter for my insurance"),
];
const PATIENT_SENTENCES: &[&str] = &[
    "I hope you are well.",
    "Since my last visit I have been feeling a bit better, but not completely.",
    "The symptoms are worse in the evening and sometimes keep me awake.",
    "I have been taking the tablets every morning as we discussed.",
    "I noticed a mild headache on most days this week.",
    "My pharmacy says the prescription has no refills left.",
    "Could you tell me whether this is something to worry about?",
    "I checked my blood pressure at home: it was around 135 over 85.",
    "Is it all right to keep exercising in the meantime?",
    "I can come in on a weekday morning if you need to see me.",
    "Thank you for getting back to me so quickly last time.",
    "I am not sure whether I should stop the medicine or carry on.",
    "My daughter is helping me write this message.",
    "Please let me know what you think.",
];
const STAFF_SENTENCES: &[&str] = &[
    "Thank you for your message.",
    "That is a common side effect and it usually settles within a couple of weeks.",
    "I have sent a new prescription to your pharmacy; it should be ready tomorrow.",
    "Your results are within the normal range, so no change is needed for now.",
    "Please keep a short diary of the symptoms until your next appointment.",
    "If the pain gets worse or you develop a fever, please call the clinic.",
    "You can keep exercising, but take it gently for the next few days.",
    "I would like to see you in the clinic; the front desk will call you to book a time.",
    "Please carry on with the current dose.",
    "Let us know if anything changes.",
    "Best wishes, and take care.",
];
/// What a visit is charged: (department, description, lowest and highest amount in cents).
const CHARGES: &[(&str, &str, i64, i64)] = &[
    ("Family Medicine", "Office visit, established patient", 12_000, 22_000),
    ("Family Medicine", "Office visit, established patient", 12_000, 22_000),
    ("Family Medicine", "Annual wellness visit", 15_000, 25_000),
    ("Laboratory", "Lipid panel", 3_000, 6_000),
    ("Laboratory", "Comprehensive metabolic panel", 3_500, 7_000),
    ("Laboratory", "Complete blood count", 2_000, 4_500),
    ("Laboratory", "Hemoglobin A1c", 2_500, 5_000),
    ("Laboratory", "Thyroid stimulating hormone", 3_000, 6_000),
    ("Radiology", "X-ray, chest, two views", 9_000, 15_000),
    ("Radiology", "Ultrasound, abdomen, complete", 25_000, 45_000),
    ("Cardiology", "Electrocardiogram, 12 leads", 5_000, 9_000),
    ("Physical Therapy", "Therapeutic exercise, 15 minutes", 4_000, 7_000),
    ("Urgent Care", "Urgent care visit", 15_000, 25_000),
];

fn body(rng: &mut Rng, sentences: &[&str], min: usize, max: usize) -> String {
    let n = rng.range(min as i64, max as i64 + 1) as usize;
    let mut parts: Vec<&str> = Vec::with_capacity(n);
    while parts.len() < n {
        let s = *rng.pick(sentences);
        if !parts.contains(&s) {
            parts.push(s);
        }
    }
    parts.join(" ")
}

/// A moment moved into local opening hours (8:00 to 18:00 on a weekday): when staff work.
fn office_hours(rng: &mut Rng, zone: &TimeZone, at: i64) -> i64 {
    let Ok(t) = Timestamp::from_millisecond(at) else { return at };
    let local = t.to_zoned(zone.clone());
    let mut day = local.date();
    let hour = local.hour();
    if hour >= 18 {
        day = day.tomorrow().unwrap_or(day);
    }
    let moved = !(8..18).contains(&hour);
    while matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
        day = day.tomorrow().unwrap_or(day);
    }
    if !moved && day == local.date() {
        return at;
    }
    let hour = rng.range(8, 12) as i8;
    let minute = rng.range(0, 60) as i8;
    day.at(hour, minute, 0, 0).to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(at)
}

/// A weekday morning (7:00 to 11:00) of the day of a moment, or of the Monday after: when the
/// laboratory draws blood.
fn lab_morning(rng: &mut Rng, zone: &TimeZone, at: i64) -> i64 {
    let Ok(t) = Timestamp::from_millisecond(at) else { return at };
    let mut day = t.to_zoned(zone.clone()).date();
    while matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
        day = day.tomorrow().unwrap_or(day);
    }
    let hour = rng.range(7, 11) as i8;
    let minute = rng.range(0, 60) as i8;
    day.at(hour, minute, 0, 0).to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(at)
}

/// A moment moved out of the night (patients write between 7:00 and 23:00).
fn waking_hours(rng: &mut Rng, zone: &TimeZone, at: i64) -> i64 {
    let Ok(t) = Timestamp::from_millisecond(at) else { return at };
    let local = t.to_zoned(zone.clone());
    if (7..23).contains(&local.hour()) {
        return at;
    }
    let day = if local.hour() >= 23 { local.date().tomorrow().unwrap_or(local.date()) } else { local.date() };
    let hour = rng.range(7, 10) as i8;
    let minute = rng.range(0, 60) as i8;
    day.at(hour, minute, 0, 0).to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(at)
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

const OPEN_FOR_PROVIDER: &str = "SELECT COUNT(*) AS n FROM messages WHERE assigned_provider_id = $1 AND handled_at IS NULL AND author_kind = 'patient'";
const OPEN_FOR_POOL: &str = "SELECT COUNT(*) AS n FROM messages WHERE assigned_pool_id = $1 AND handled_at IS NULL AND author_kind = 'patient'";
const PRINT_QUEUE: &str = "SELECT COUNT(*) AS n FROM statements WHERE delivery = 'paper' AND printed_at IS NULL";

const INSERT_PATIENTS: &str =
    "INSERT INTO patients (id, mrn, given_name, family_name, date_of_birth, email, statement_delivery, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const INSERT_USERS: &str = "INSERT INTO users (id, login, display_name, kind, email, password_hash, password_changed_at, created_at, patient_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const INSERT_TERMS: &str = "INSERT INTO terms_acceptances (user_id, terms_version_id, accepted_at) VALUES ($1, $2, $3)";
const INSERT_TEAM: &str = "INSERT INTO care_team (patient_id, provider_id, pool_id, added_at) VALUES ($1, $2, $3, $4)";
const INSERT_THREADS: &str = "INSERT INTO threads (id, patient_id, topic, subject, created_at, last_message_at) VALUES ($1, $2, $3, $4, $5, $6)";
const INSERT_MESSAGES: &str = "INSERT INTO messages (id, thread_id, author_id, author_kind, body, sent_at, to_provider_id, to_pool_id, \
     assigned_provider_id, assigned_pool_id, due_at, staff_opened_at, handled_at, handled_by, read_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
const INSERT_ACCOUNTS: &str =
    "INSERT INTO billing_accounts (id, number, patient_id, mailing_address, delivery, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const INSERT_DELIVERY_CHANGES: &str =
    "INSERT INTO delivery_changes (id, account_id, changed_at, changed_by, cause, from_delivery, to_delivery) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const INSERT_STATEMENTS: &str = "INSERT INTO statements (id, account_id, statement_date, period_start, period_end, due_date, previous_balance, \
     charges, payments, adjustments, amount_due, delivery, posted_at, posted_by, printed_at, printed_by, queue_position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
const INSERT_LINES: &str =
    "INSERT INTO statement_lines (statement_id, position, kind, line_date, department, description, amount) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const INSERT_RESOURCES: &str = "INSERT INTO record_resources (resource_type, resource_id, fhir_patient_id, content, loaded_at) VALUES ($1, $2, $3, $4, $5)";
const INSERT_IDENTIFIERS: &str = "INSERT INTO record_patient_identifiers (system, value, fhir_patient_id) VALUES ($1, $2, $3)";
const INSERT_LINKS: &str = "INSERT INTO record_links (patient_id, fhir_patient_id, how, linked_at) VALUES ($1, $2, $3, $4)";

/// A generated patient, as the later parts need them.
struct Person {
    n: u32,
    patient: String,
    user: String,
    given: &'static str,
    family: &'static str,
    female: bool,
    dob: String,
    created: i64,
}

impl Person {
    /// The FHIR Patient's id in the embedded record: the user ID.
    fn fhir_id(&self) -> String {
        format!("bench{:06}", self.n)
    }
}

/// Whether a patient's account is on paper, and whether they have a statement in this
/// month's run: drawn per patient, so they are known before the statements part runs.
fn billing_profile(n: u32) -> (bool, bool) {
    let mut r = draw(SEED_BILLING, u64::from(n));
    (r.chance(PAPER), r.chance(IN_LATEST_RUN))
}

/// Whether a thread is with Dr. Lee (else the nurse line).
fn with_doctor(n: u32, thread: u32) -> bool {
    draw(SEED_WHO, (u64::from(n) << 32) | u64::from(thread)).chance(WITH_DOCTOR)
}

/// The lengths of a patient's threads.
fn thread_lens(messages_per_patient: u32) -> impl Iterator<Item = u32> {
    let full = messages_per_patient / THREAD_LEN;
    let rest = messages_per_patient % THREAD_LEN;
    std::iter::repeat_n(THREAD_LEN, full as usize).chain((rest > 0).then_some(rest))
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
    let mut timings = Timings::default();

    // --- Patients ---
    let part = Instant::now();
    // The demo password, so that the benchmark can sign in as a generated patient.
    let password_hash: Option<String> =
        sqlx::query_scalar::<_, Option<String>>("SELECT password_hash FROM users WHERE login = 'alice'").fetch_optional(&state.db.pool).await?.flatten();
    let terms = app::terms::server::in_force(&state.db, now).await?;
    let mut rng = Rng(SEED_PATIENTS);
    let mut people: Vec<Person> = Vec::with_capacity(options.patients as usize);
    for n in 1..=options.patients {
        let &(given, female) = rng.pick(GIVEN);
        let family = *rng.pick(FAMILY);
        let dob = format!("{}-{:02}-{:02}", rng.range(1930, 2006), rng.range(1, 13), rng.range(1, 29));
        // Patients of the clinic for years: their statements go back three.
        let created = now - rng.range(3 * YEAR + 60 * DAY, 8 * YEAR);
        people.push(Person { n, patient: new_id(), user: new_id(), given, family, female, dob, created });
    }
    let mut patients = Rows::new(INSERT_PATIENTS, state.db.dialect);
    let mut users = Rows::new(INSERT_USERS, state.db.dialect);
    let mut acceptances = Rows::new(INSERT_TERMS, state.db.dialect);
    let mut team = Rows::new(INSERT_TEAM, state.db.dialect);
    for batch in people.chunks(BATCH) {
        let mut tx = begin(state).await?;
        for p in batch {
            let login = p.fhir_id();
            let email = format!("{login}@example.org");
            let delivery = if billing_profile(p.n).0 { "paper" } else { "paperless" };
            patients.push([
                t(&p.patient),
                V::Text(format!("BENCH{:06}", p.n)),
                V::Fixed(p.given),
                V::Fixed(p.family),
                t(&p.dob),
                t(&email),
                V::Fixed(delivery),
                V::Int(p.created),
            ]);
            users.push([
                t(&p.user),
                V::Text(login),
                V::Text(format!("{} {}", p.given, p.family)),
                V::Fixed("patient"),
                V::Text(email),
                V::OptText(password_hash.clone()),
                V::Int(now),
                V::Int(now),
                t(&p.patient),
            ]);
            if let Some(terms) = &terms {
                acceptances.push([t(&p.user), t(&terms.id), V::Int(p.created.max(terms.effective_at))]);
            }
            team.push([t(&p.patient), t(&drlee), V::Null, V::Int(p.created)]);
            for pool in [&nurse_line, &billing_pool] {
                team.push([t(&p.patient), V::Null, t(pool), V::Int(p.created)]);
            }
        }
        patients.flush(&mut tx).await?;
        users.flush(&mut tx).await?;
        acceptances.flush(&mut tx).await?;
        team.flush(&mut tx).await?;
        tx.commit().await?;
    }
    timings.patients = part.elapsed();
    progress(&format!("patients: {} in {:.2} s", options.patients, timings.patients.as_secs_f64()));

    // --- Messages ---
    let part = Instant::now();
    let cal = {
        let mut conn = state.db.pool.acquire().await?;
        calendar(&mut conn, &state.settings).await?
    };
    let reply_days = state.settings.messaging.reply_business_days;
    // Which threads stay open: of the threads that end with a patient's message, exactly as
    // many with Dr. Lee and with the nurse line as make the inboxes' totals.
    let (mut doctor_threads, mut pool_threads) = (0u64, 0u64);
    for n in 1..=options.patients {
        for (i, len) in thread_lens(options.messages_per_patient).enumerate() {
            if len % 2 == 1 {
                if with_doctor(n, i as u32) {
                    doctor_threads += 1;
                } else {
                    pool_threads += 1;
                }
            }
        }
    }
    let open_already = (count(state, OPEN_FOR_PROVIDER, Some(&drlee)).await?, count(state, OPEN_FOR_POOL, Some(&nurse_line)).await?);
    let mut open_doctor = Choose::new((i64::from(options.open_for_clinician) - open_already.0).max(0) as u64, doctor_threads, SEED_OPEN);
    let mut open_pool = Choose::new((i64::from(options.open_for_pool) - open_already.1).max(0) as u64, pool_threads, SEED_OPEN ^ 1);
    let year_ago = now - YEAR;
    let mut rng = Rng(SEED_MESSAGES);
    let (mut threads, mut messages) = (0u64, 0u64);
    let mut thread_rows = Rows::new(INSERT_THREADS, state.db.dialect);
    let mut message_rows = Rows::new(INSERT_MESSAGES, state.db.dialect);
    for batch in people.chunks(BATCH) {
        let mut tx = begin(state).await?;
        for p in batch {
            for (i, len) in thread_lens(options.messages_per_patient).enumerate() {
                let doctor = with_doctor(p.n, i as u32);
                let (to_provider, to_pool, staff) = if doctor { (Some(&drlee), None, &drlee) } else { (None, Some(&nurse_line), &nursekim) };
                let open = len % 2 == 1 && if doctor { open_doctor.next() } else { open_pool.next() };
                let (topic, subject) = *rng.pick(SUBJECTS);

                // The times, from the first message on; then the whole thread moved to end in
                // the past (an open one: in the last two weeks).
                let start = rng.range(year_ago, now);
                let mut at = waking_hours(&mut rng, &zone, start);
                let mut thread: Vec<Msg> = Vec::with_capacity(len as usize);
                for i in 0..len {
                    let from_patient = i % 2 == 0;
                    if i > 0 {
                        at = if from_patient {
                            let later = at + rng.range(2 * HOUR, 3 * DAY);
                            waking_hours(&mut rng, &zone, later)
                        } else {
                            let later = at + rng.range(HOUR, 30 * HOUR);
                            office_hours(&mut rng, &zone, later)
                        };
                    }
                    let body = if from_patient { body(&mut rng, PATIENT_SENTENCES, 2, 5) } else { body(&mut rng, STAFF_SENTENCES, 2, 4) };
                    thread.push(Msg { from_patient, body, sent_at: at, opened_at: None, handled_at: None, read_at: None });
                }
                let end = thread.last().map(|m| m.sent_at).unwrap_or(now);
                let latest = if open { now - rng.range(HOUR, 14 * DAY) } else { now - rng.range(3 * DAY, 10 * DAY) };
                if end > latest || open {
                    let shift = end - latest;
                    for m in &mut thread {
                        m.sent_at -= shift;
                    }
                }
                // Who did what after each message.
                for i in 0..thread.len() {
                    let next_at = thread.get(i + 1).map(|m| m.sent_at);
                    let m = &mut thread[i];
                    if m.from_patient {
                        match next_at {
                            // The staff reply handled it.
                            Some(reply) => {
                                m.opened_at = Some(m.sent_at + (reply - m.sent_at) / 2);
                                m.handled_at = Some(reply);
                            }
                            None if !open => {
                                let handled = (m.sent_at + rng.range(10 * MINUTE, 2 * DAY)).min(now - MINUTE);
                                m.opened_at = Some(handled - rng.range(MINUTE, 10 * MINUTE).min(handled - m.sent_at));
                                m.handled_at = Some(handled);
                            }
                            None => {
                                if rng.chance(0.5) {
                                    m.opened_at = Some((m.sent_at + rng.range(10 * MINUTE, DAY)).min(now - MINUTE));
                                }
                            }
                        }
                    } else {
                        m.read_at = Some(match next_at {
                            Some(next) => m.sent_at + (next - m.sent_at) / 3,
                            None => (m.sent_at + rng.range(HOUR, 2 * DAY)).min(now - MINUTE),
                        });
                    }
                }

                let thread_id = new_id();
                let first_at = thread.first().map(|m| m.sent_at).unwrap_or(now);
                let last_at = thread.last().map(|m| m.sent_at).unwrap_or(now);
                thread_rows.push([t(&thread_id), t(&p.patient), V::Fixed(topic), V::Fixed(subject), V::Int(first_at), V::Int(last_at)]);
                messages += thread.len() as u64;
                for m in thread {
                    if m.from_patient {
                        message_rows.push([
                            V::Text(new_id()),
                            t(&thread_id),
                            t(&p.user),
                            V::Fixed("patient"),
                            V::Text(m.body),
                            V::Int(m.sent_at),
                            V::OptText(to_provider.cloned()),
                            V::OptText(to_pool.cloned()),
                            V::OptText(to_provider.cloned()),
                            V::OptText(to_pool.cloned()),
                            V::Int(cal.due_at_ms(m.sent_at, reply_days)),
                            V::OptInt(m.opened_at),
                            V::OptInt(m.handled_at),
                            V::OptText(m.handled_at.map(|_| staff.clone())),
                            V::OptInt(None),
                        ]);
                    } else {
                        message_rows.push([
                            V::Text(new_id()),
                            t(&thread_id),
                            t(staff),
                            V::Fixed("staff"),
                            V::Text(m.body),
                            V::Int(m.sent_at),
                            V::Null,
                            V::Null,
                            V::Null,
                            V::Null,
                            V::OptInt(None),
                            V::OptInt(None),
                            V::OptInt(None),
                            V::Null,
                            V::OptInt(m.read_at),
                        ]);
                    }
                }
                threads += 1;
            }
        }
        thread_rows.flush(&mut tx).await?;
        message_rows.flush(&mut tx).await?;
        tx.commit().await?;
    }
    let open_for_drlee = count(state, OPEN_FOR_PROVIDER, Some(&drlee)).await?;
    let open_for_pools = count(state, OPEN_FOR_POOL, Some(&nurse_line)).await?;
    timings.messages = part.elapsed();
    progress(&format!(
        "messages: {threads} threads, {messages} messages ({open_for_drlee} open for drlee, {open_for_pools} for the nurse line) in {:.2} s",
        timings.messages.as_secs_f64()
    ));

    // --- Statements ---
    let part = Instant::now();
    let today = Timestamp::from_millisecond(now).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(zone.clone()).date();
    // This month's paper statements, of which the print queue's are chosen.
    let candidates =
        if options.statements_per_patient == 0 { 0 } else { (1..=options.patients).filter(|&n| billing_profile(n) == (true, true)).count() as u64 };
    let queued_already = count(state, PRINT_QUEUE, None).await?;
    let mut to_print = Choose::new((i64::from(options.print_queue) - queued_already).max(0) as u64, candidates, SEED_QUEUE);
    let mut queue_position: i64 = sqlx::query_scalar("SELECT last FROM print_queue_counter WHERE id = 1").fetch_one(&state.db.pool).await?;
    let mut rng = Rng(SEED_STATEMENTS);
    // When paper statements were printed: a stream of its own, since moving a time into office
    // hours draws a varying number of times and the amounts should not depend on it.
    let mut print_times = Rng(SEED_PRINTED);
    let (mut statements, mut statement_lines) = (0u64, 0u64);
    let mut accounts = Rows::new(INSERT_ACCOUNTS, state.db.dialect);
    let mut changes = Rows::new(INSERT_DELIVERY_CHANGES, state.db.dialect);
    let mut statement_rows = Rows::new(INSERT_STATEMENTS, state.db.dialect);
    let mut line_rows = Rows::new(INSERT_LINES, state.db.dialect);
    if options.statements_per_patient > 0 {
        for batch in people.chunks(BATCH) {
            let mut tx = begin(state).await?;
            for p in batch {
                let (paper, latest) = billing_profile(p.n);
                let delivery = if paper { "paper" } else { "paperless" };
                let history = statement_history(&mut rng, options.statements_per_patient, latest, today)?;
                let account = new_id();
                let first_period = history.first().map(|(s, _)| local_ms(&zone, s.period_start, 0)).unwrap_or(p.created);
                let opened = p.created.min(first_period - DAY);
                let address = format!("{} {}\nRiverside, ST 00000", rng.range(1, 999), rng.pick(STREETS));
                accounts.push([
                    t(&account),
                    V::Text(format!("GB{:08}", p.n)),
                    t(&p.patient),
                    V::Text(address),
                    V::Fixed(delivery),
                    V::Int(opened),
                    t(&billing_staff),
                ]);
                changes.push([V::Text(new_id()), t(&account), V::Int(opened), t(&billing_staff), V::Fixed("opened"), V::Null, V::Fixed(delivery)]);
                let newest = history.len().saturating_sub(1);
                for (i, (s, totals)) in history.into_iter().enumerate() {
                    let id = new_id();
                    // The statement run posts overnight; a mailing house prints paper ones
                    // within a couple of days, except those still in the print queue.
                    let posted = (local_ms(&zone, s.statement_date, 6) + rng.range(0, 2 * HOUR)).min(now - MINUTE);
                    let queued = paper && latest && i == newest && to_print.next();
                    let printed = (paper && !queued).then(|| {
                        let at = posted + print_times.range(2 * HOUR, 2 * DAY);
                        office_hours(&mut print_times, &zone, at).min(now - MINUTE)
                    });
                    queue_position += 1;
                    statement_rows.push([
                        t(&id),
                        t(&account),
                        V::Text(s.statement_date.to_string()),
                        V::Text(s.period_start.to_string()),
                        V::Text(s.period_end.to_string()),
                        V::Text(s.due_date.to_string()),
                        V::Int(totals.previous_balance.cents()),
                        V::Int(totals.charges.cents()),
                        V::Int(totals.payments.cents()),
                        V::Int(totals.adjustments.cents()),
                        V::Int(totals.amount_due.cents()),
                        V::Fixed(delivery),
                        V::Int(posted),
                        t(&billing_staff),
                        V::OptInt(printed),
                        V::OptText(printed.map(|_| billing_staff.clone())),
                        V::Int(queue_position),
                    ]);
                    statement_lines += s.lines.len() as u64;
                    for (position, line) in s.lines.into_iter().enumerate() {
                        line_rows.push([
                            t(&id),
                            V::Int(position as i64),
                            V::Fixed(line.kind.as_str()),
                            V::Text(line.date.to_string()),
                            V::Text(line.department),
                            V::Text(line.description),
                            V::Int(line.amount.cents()),
                        ]);
                    }
                    statements += 1;
                }
            }
            accounts.flush(&mut tx).await?;
            changes.flush(&mut tx).await?;
            statement_rows.flush(&mut tx).await?;
            line_rows.flush(&mut tx).await?;
            // The print queue's counter moves with the places given, as posting does.
            sqlx::query("UPDATE print_queue_counter SET last = $1 WHERE id = 1").bind(queue_position).execute(&mut *tx).await?;
            tx.commit().await?;
        }
    }
    let print_queue = count(state, PRINT_QUEUE, None).await?;
    timings.statements = part.elapsed();
    progress(&format!(
        "statements: {statements} statements, {statement_lines} lines ({print_queue} in the print queue) in {:.2} s",
        timings.statements.as_secs_f64()
    ));

    // --- Results ---
    let part = Instant::now();
    let mut rng = Rng(SEED_RESULTS);
    let (mut reports, mut results) = (0u64, 0u64);
    let mut resources = Rows::new(INSERT_RESOURCES, state.db.dialect);
    let mut identifiers = Rows::new(INSERT_IDENTIFIERS, state.db.dialect);
    let mut links = Rows::new(INSERT_LINKS, state.db.dialect);
    let mrn_system = state.settings.record.mrn_system.clone();
    if options.results_per_patient > 0 {
        for batch in people.chunks(BATCH) {
            let mut tx = begin(state).await?;
            for p in batch {
                let fhir_id = p.fhir_id();
                let record = lab_record(&mut rng, p, options.results_per_patient, &mrn_system, &zone, now);
                reports += record.reports;
                results += record.results;
                for (kind, id, json) in record.resources {
                    let about = V::Text(fhir_id.clone());
                    resources.push([V::Fixed(kind), V::Text(id), about, V::Text(json), V::Int(now)]);
                }
                identifiers.push([t(&mrn_system), V::Text(format!("BENCH{:06}", p.n)), t(&fhir_id)]);
                links.push([t(&p.patient), V::Text(fhir_id), V::Fixed("record-number"), V::Int(now)]);
            }
            resources.flush(&mut tx).await?;
            identifiers.flush(&mut tx).await?;
            links.flush(&mut tx).await?;
            tx.commit().await?;
        }
    }
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

/// One message before it is stored.
struct Msg {
    from_patient: bool,
    body: String,
    sent_at: i64,
    opened_at: Option<i64>,
    handled_at: Option<i64>,
    read_at: Option<i64>,
}

fn calendar_date(d: Date) -> CalendarDate {
    CalendarDate::new(i32::from(d.year()), d.month() as u32, d.day() as u32).expect("a date jiff made")
}

/// `hour`:00 local time on a day, in milliseconds.
fn local_ms(zone: &TimeZone, day: CalendarDate, hour: i8) -> i64 {
    Date::new(day.year as i16, day.month as i8, day.day as i8)
        .ok()
        .and_then(|d| d.at(hour, 0, 0, 0).to_zoned(zone.clone()).ok())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}

/// The first day of the month `back` months before `today`'s.
fn month_start(today: Date, back: u32) -> Date {
    let months = i32::from(today.year()) * 12 + i32::from(today.month()) - 1 - back as i32;
    Date::new(months.div_euclid(12) as i16, (months.rem_euclid(12) + 1) as i8, 1).unwrap_or(today)
}

/// A patient's statements, oldest first, each with its totals (checked by the billing rules):
/// `count` monthly statements over the last three years (longer when there are more), this
/// month's run among them when `latest`. Each pays the last balance (mostly in full, sometimes
/// in part or not at all) and charges a visit or two, usually with an insurance adjustment.
fn statement_history(rng: &mut Rng, count: u32, latest: bool, today: Date) -> Result<Vec<(NewStatement, Totals)>, statement::StatementError> {
    // Months back (1: last month's period, in this month's run), newest first.
    let window = STATEMENT_MONTHS.max(count + 1);
    let mut backs: Vec<u32> = Vec::with_capacity(count as usize);
    let mut want = count;
    if latest && want > 0 {
        backs.push(1);
        want -= 1;
    }
    let mut left = window - 1;
    for back in 2..=window {
        if want > 0 && (rng.next() % u64::from(left)) < u64::from(want) {
            backs.push(back);
            want -= 1;
        }
        left -= 1;
    }
    let mut history = Vec::with_capacity(backs.len());
    let mut previous = Money::ZERO;
    for &back in backs.iter().rev() {
        let start = month_start(today, back);
        let next = month_start(today, back - 1);
        let day = |rng: &mut Rng, from: i64, to: i64| calendar_date(Date::new(start.year(), start.month(), rng.range(from, to) as i8).unwrap_or(start));
        let mut lines: Vec<Line> = Vec::new();
        if previous.cents() > 0 {
            let paid = match rng.range(0, 10) {
                0 => 0,
                1 => (previous.cents() / 2 / 500 * 500).max(500).min(previous.cents()),
                _ => previous.cents(),
            };
            if paid > 0 {
                lines.push(Line {
                    kind: LineKind::Payment,
                    date: day(rng, 1, 15),
                    department: "Family Medicine".into(),
                    description: "Payment, thank you".into(),
                    amount: Money(-paid),
                });
            }
        }
        let mut charged = 0;
        for _ in 0..rng.range(1, 4) {
            let &(department, description, lo, hi) = rng.pick(CHARGES);
            let amount = rng.range(lo, hi) / 5 * 5;
            charged += amount;
            lines.push(Line {
                kind: LineKind::Charge,
                date: day(rng, 1, 20),
                department: department.into(),
                description: description.into(),
                amount: Money(amount),
            });
        }
        if rng.chance(0.7) {
            let adjustment = (charged * rng.range(30, 61) / 100).max(1);
            lines.push(Line {
                kind: LineKind::Adjustment,
                date: day(rng, 20, 29),
                department: "Family Medicine".into(),
                description: "Insurance contractual adjustment".into(),
                amount: Money(-adjustment),
            });
        }
        lines.sort_by_key(|l| l.date);
        let expected = Money(previous.cents() + lines.iter().map(|l| l.amount.cents()).sum::<i64>());
        let new = NewStatement {
            statement_date: calendar_date(next),
            period_start: calendar_date(start),
            period_end: calendar_date(next.yesterday().unwrap_or(next)),
            due_date: calendar_date(Date::new(next.year(), next.month(), 25).unwrap_or(next)),
            lines,
            expected_amount_due: expected,
        };
        let totals = statement::check(&new, previous)?;
        previous = totals.amount_due;
        history.push((new, totals));
    }
    Ok(history)
}

/// A lab test: its LOINC code and names, its UCUM unit, its reference range (either end may be
/// open; a woman's lower limit where it differs), and the decimals it is reported with.
struct Test {
    loinc: &'static str,
    display: &'static str,
    text: &'static str,
    unit: &'static str,
    ucum: &'static str,
    low: Option<f64>,
    high: Option<f64>,
    low_female: Option<f64>,
    decimals: i32,
}

const fn test(loinc: &'static str, display: &'static str, text: &'static str, unit: &'static str, low: Option<f64>, high: Option<f64>, decimals: i32) -> Test {
    Test { loinc, display, text, unit, ucum: unit, low, high, low_female: None, decimals }
}

/// A panel as the laboratory reports it (a DiagnosticReport), and how often it is ordered.
struct Panel {
    loinc: &'static str,
    display: &'static str,
    text: &'static str,
    tests: &'static [Test],
    weight: u32,
}

const SODIUM: Test = test("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "Sodium", "mmol/L", Some(136.0), Some(145.0), 0);
const POTASSIUM: Test = test("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "Potassium", "mmol/L", Some(3.5), Some(5.1), 1);
const CHLORIDE: Test = test("2075-0", "Chloride [Moles/volume] in Serum or Plasma", "Chloride", "mmol/L", Some(98.0), Some(107.0), 0);
const CO2: Test =
    test("2028-9", "Carbon dioxide, total [Moles/volume] in Serum or Plasma", "Carbon dioxide (bicarbonate)", "mmol/L", Some(22.0), Some(29.0), 0);
const BUN: Test = test("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma", "Urea nitrogen (BUN)", "mg/dL", Some(7.0), Some(25.0), 0);
const CREATININE: Test = test("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "Creatinine", "mg/dL", Some(0.5), Some(1.05), 2);
const EGFR: Test = Test {
    loinc: "98979-8",
    display: "Glomerular filtration rate [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)/1.73 sq M",
    text: "eGFR (CKD-EPI 2021)",
    unit: "mL/min/{1.73_m2}",
    ucum: "mL/min/{1.73_m2}",
    low: Some(60.0),
    high: None,
    low_female: None,
    decimals: 0,
};
const GLUCOSE: Test = test("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "Glucose", "mg/dL", Some(70.0), Some(99.0), 0);
const CALCIUM: Test = test("17861-6", "Calcium [Mass/volume] in Serum or Plasma", "Calcium", "mg/dL", Some(8.6), Some(10.3), 1);
const A1C: Test = test("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "Hemoglobin A1c", "%", Some(4.0), Some(5.6), 1);
const TSH: Test = Test {
    loinc: "3016-3",
    display: "Thyrotropin [Units/volume] in Serum or Plasma",
    text: "TSH",
    unit: "mIU/L",
    ucum: "m[IU]/L",
    low: Some(0.45),
    high: Some(4.5),
    low_female: None,
    decimals: 2,
};
const ACR: Test = test("9318-7", "Albumin/Creatinine [Mass Ratio] in Urine", "Albumin/creatinine ratio, urine", "mg/g", None, Some(30.0), 0);

const PANELS: &[Panel] = &[
    Panel {
        loinc: "24321-2",
        display: "Basic metabolic 2000 panel - Serum or Plasma",
        text: "Basic metabolic panel",
        tests: &[SODIUM, POTASSIUM, CHLORIDE, CO2, BUN, CREATININE, EGFR, GLUCOSE, CALCIUM],
        weight: 3,
    },
    Panel {
        loinc: "58410-2",
        display: "CBC panel - Blood by Automated count",
        text: "Complete blood count (CBC)",
        tests: &[
            test("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "White blood cells", "10*3/uL", Some(3.8), Some(10.8), 1),
            test("789-8", "Erythrocytes [#/volume] in Blood by Automated count", "Red blood cells", "10*6/uL", Some(3.8), Some(5.1), 2),
            test("718-7", "Hemoglobin [Mass/volume] in Blood", "Hemoglobin", "g/dL", Some(12.0), Some(15.5), 1),
            test("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count", "Hematocrit", "%", Some(35.0), Some(45.0), 1),
            test("777-3", "Platelets [#/volume] in Blood by Automated count", "Platelets", "10*3/uL", Some(140.0), Some(400.0), 0),
        ],
        weight: 3,
    },
    Panel {
        loinc: "24331-1",
        display: "Lipid 1996 panel - Serum or Plasma",
        text: "Lipid panel",
        tests: &[
            test("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "Total cholesterol", "mg/dL", None, Some(200.0), 0),
            Test {
                loinc: "2085-9",
                display: "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
                text: "HDL cholesterol",
                unit: "mg/dL",
                ucum: "mg/dL",
                low: Some(40.0),
                high: None,
                low_female: Some(50.0),
                decimals: 0,
            },
            test(
                "13457-7",
                "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
                "LDL cholesterol (calculated)",
                "mg/dL",
                None,
                Some(100.0),
                0,
            ),
            test("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "Triglycerides", "mg/dL", None, Some(150.0), 0),
        ],
        weight: 3,
    },
    Panel { loinc: "4548-4", display: A1C.display, text: A1C.text, tests: &[A1C], weight: 3 },
    Panel { loinc: "3016-3", display: TSH.display, text: TSH.text, tests: &[TSH], weight: 1 },
    Panel { loinc: "9318-7", display: ACR.display, text: ACR.text, tests: &[ACR], weight: 1 },
];

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const INTERPRETATION: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

/// A patient's embedded record: (resource type, id, JSON), and how many reports and results.
struct LabRecord {
    resources: Vec<(&'static str, String, String)>,
    reports: u64,
    results: u64,
}

/// A number as the laboratory reports it: an integer when it has no decimals.
fn reported(value: f64, decimals: i32) -> Json {
    if decimals <= 0 {
        json!(value.round() as i64)
    } else {
        let scale = 10f64.powi(decimals);
        json!((value * scale).round() / scale)
    }
}

/// Where a person's level of a test usually sits: mostly inside the range, for about one
/// person in eight above or below it (where the range has that end).
fn baseline(rng: &mut Rng, low: Option<f64>, high: Option<f64>) -> f64 {
    let abnormal = rng.chance(0.12);
    match (low, high) {
        (Some(l), Some(h)) => {
            let span = h - l;
            if abnormal {
                if rng.chance(0.5) {
                    h + span * rng.real(0.05, 0.5)
                } else {
                    (l - span * rng.real(0.05, 0.4)).max(l * 0.3)
                }
            } else {
                rng.real(l + span * 0.1, h - span * 0.1)
            }
        }
        (None, Some(h)) => {
            if abnormal {
                h * rng.real(1.05, 1.6)
            } else {
                h * rng.real(0.45, 0.95)
            }
        }
        (Some(l), None) => {
            if abnormal {
                l * rng.real(0.55, 0.95)
            } else {
                l * rng.real(1.05, 1.8)
            }
        }
        (None, None) => 1.0,
    }
}

fn lab_record(rng: &mut Rng, p: &Person, count: u32, mrn_system: &str, zone: &TimeZone, now: i64) -> LabRecord {
    let fhir_id = p.fhir_id();
    let subject = json!({ "reference": format!("Patient/{fhir_id}") });
    let mut resources = Vec::with_capacity(count as usize + count as usize / 3 + 1);
    let patient = json!({
        "resourceType": "Patient",
        "id": fhir_id,
        "meta": {
            "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"],
            "security": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HTEST", "display": "test health data" }]
        },
        "identifier": [{
            "use": "usual",
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR", "display": "Medical record number" }], "text": "MRN" },
            "system": mrn_system,
            "value": format!("BENCH{:06}", p.n)
        }],
        "active": true,
        "name": [{ "use": "official", "family": p.family, "given": [p.given] }],
        "telecom": [{ "system": "email", "value": format!("{fhir_id}@example.org") }],
        "gender": if p.female { "female" } else { "male" },
        "birthDate": p.dob,
        "generalPractitioner": [{ "reference": "Practitioner/dr-morgan-lee", "display": "Dr. Morgan Lee" }],
        "managingOrganization": { "reference": "Organization/riverside-clinic", "display": "Riverside Community Clinic" }
    });
    resources.push(("Patient", fhir_id.clone(), patient.to_string()));

    // Which panels, to make exactly `count` results: any panel that still fits.
    let mut panels: Vec<&Panel> = Vec::new();
    let mut left = count as usize;
    while left > 0 {
        let fitting: Vec<&Panel> = PANELS.iter().filter(|panel| panel.tests.len() <= left).collect();
        let total: u32 = fitting.iter().map(|panel| panel.weight).sum();
        let mut pick = (rng.next() % u64::from(total)) as u32;
        let panel = fitting.iter().find(|panel| {
            if pick < panel.weight {
                return true;
            }
            pick -= panel.weight;
            false
        });
        let panel = panel.copied().unwrap_or(&PANELS[PANELS.len() - 1]);
        left -= panel.tests.len();
        panels.push(panel);
    }
    // When: collected on weekday mornings over the last five years (none today: the
    // laboratory has not resulted them yet), resulted hours later.
    let mut collected: Vec<i64> = panels
        .iter()
        .map(|_| {
            let day = now - rng.range(DAY, RESULT_YEARS * YEAR);
            let at = lab_morning(rng, zone, day);
            // A weekend moved to a Monday that has not come yet: the week before.
            if at > now - 8 * HOUR {
                at - 7 * DAY
            } else {
                at
            }
        })
        .collect();
    collected.sort_unstable();
    let mut levels: HashMap<&'static str, f64> = HashMap::new();
    let time = |ms: i64| Timestamp::from_millisecond(ms).map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()).unwrap_or_default();
    let mut results = 0;
    for (k, (panel, at)) in panels.iter().zip(collected).enumerate() {
        let effective = time(at);
        let issued = time((at + rng.range(2 * HOUR, 8 * HOUR)).min(now - MINUTE));
        let report_id = format!("{fhir_id}-dr-{:02}", k + 1);
        let mut members = Vec::with_capacity(panel.tests.len());
        for test in panel.tests {
            let low = if p.female { test.low_female.or(test.low) } else { test.low };
            let level = *levels.entry(test.loinc).or_insert_with(|| baseline(rng, low, test.high));
            let value = reported(level * rng.real(0.94, 1.06), test.decimals);
            let v = value.as_f64().unwrap_or(level);
            let (flag, flag_text) = if test.high.is_some_and(|h| v > h) {
                ("H", "High")
            } else if low.is_some_and(|l| v < l) {
                ("L", "Low")
            } else {
                ("N", "Normal")
            };
            let quantity = |value: Json| json!({ "value": value, "unit": test.unit, "system": UCUM, "code": test.ucum });
            let mut range = serde_json::Map::new();
            if let Some(l) = low {
                range.insert("low".into(), quantity(reported(l, test.decimals)));
            }
            if let Some(h) = test.high {
                range.insert("high".into(), quantity(reported(h, test.decimals)));
            }
            let id = format!("{fhir_id}-obs-{:02}-{}", k + 1, test.loinc);
            let observation = json!({
                "resourceType": "Observation",
                "id": id,
                "meta": { "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"] },
                "status": "final",
                "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory", "display": "Laboratory" }] }],
                "code": { "coding": [{ "system": LOINC, "code": test.loinc, "display": test.display }], "text": test.text },
                "subject": subject,
                "effectiveDateTime": effective,
                "issued": issued,
                "valueQuantity": quantity(value),
                "interpretation": [{ "coding": [{ "system": INTERPRETATION, "code": flag, "display": flag_text }] }],
                "referenceRange": [range]
            });
            members.push(json!({ "reference": format!("Observation/{id}"), "display": test.text }));
            resources.push(("Observation", id, observation.to_string()));
            results += 1;
        }
        let report = json!({
            "resourceType": "DiagnosticReport",
            "id": report_id,
            "meta": { "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-lab"] },
            "status": "final",
            "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory" }] }],
            "code": { "coding": [{ "system": LOINC, "code": panel.loinc, "display": panel.display }], "text": panel.text },
            "subject": subject,
            "effectiveDateTime": effective,
            "issued": issued,
            "performer": [
                { "reference": "Practitioner/dr-morgan-lee", "display": "Dr. Morgan Lee" },
                { "reference": "Organization/riverside-clinic-lab", "display": "Riverside Community Clinic Laboratory" }
            ],
            "resultsInterpreter": [{ "reference": "Practitioner/dr-priya-shah", "display": "Dr. Priya Shah, MD" }],
            "result": members
        });
        resources.push(("DiagnosticReport", report_id, report.to_string()));
    }
    LabRecord { resources, reports: panels.len() as u64, results }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::record::convert::{ItemKey, PatientRecord};
    use app::record::fhir;

    fn person(n: u32, female: bool) -> Person {
        Person { n, patient: new_id(), user: new_id(), given: "Ana", family: "Silva", female, dob: "1960-04-02".into(), created: 0 }
    }

    const NOW: i64 = 1_796_000_000_000; // 2026-11-30

    #[test]
    fn choosing_hits_the_number_exactly() {
        for (want, of) in [(0, 10), (3, 10), (10, 10), (12, 10), (300, 12_000), (2_000, 8_000)] {
            let mut c = Choose::new(want, of, 7);
            let chosen = (0..of).filter(|_| c.next()).count() as u64;
            assert_eq!(chosen, want.min(of), "{want} of {of}");
        }
    }

    #[test]
    fn insert_statements_have_a_placeholder_per_value() {
        assert_eq!(insert_sql(INSERT_TERMS, 3, 2), "INSERT INTO terms_acceptances (user_id, terms_version_id, accepted_at) VALUES ($1, $2, $3), ($4, $5, $6)");
        let rows = Rows::new(INSERT_MESSAGES, Dialect::Postgres);
        assert_eq!(rows.columns, 15);
        assert_eq!(rows.per_statement, VALUES_PER_STATEMENT / 15);
        assert_eq!(Rows::new(INSERT_STATEMENTS, Dialect::Sqlite).columns, 17);
        assert_eq!(Rows::new(INSERT_STATEMENTS, Dialect::Sqlite).per_statement, SQLITE_VALUES_PER_STATEMENT / 17);
    }

    #[test]
    fn threads_are_of_five_and_the_rest() {
        assert_eq!(thread_lens(50).collect::<Vec<_>>(), vec![5; 10]);
        assert_eq!(thread_lens(7).collect::<Vec<_>>(), vec![5, 2]);
        assert_eq!(thread_lens(0).count(), 0);
    }

    #[test]
    fn statements_follow_the_billing_rules_and_carry_the_balance() {
        let today = Date::new(2026, 11, 30).unwrap();
        let mut rng = Rng(1);
        for (count, latest) in [(10, true), (10, false), (1, true), (40, true), (0, false)] {
            let history = statement_history(&mut rng, count, latest, today).unwrap();
            assert_eq!(history.len(), count as usize);
            let mut previous = Money::ZERO;
            let mut last_date = None;
            for (s, totals) in &history {
                assert_eq!(totals.previous_balance, previous);
                assert!(totals.amount_due.cents() >= 0);
                assert!(last_date.is_none_or(|d| d < s.statement_date), "in date order, one a month");
                last_date = Some(s.statement_date);
                previous = totals.amount_due;
            }
            if count > 0 {
                let newest = &history[history.len() - 1].0;
                assert_eq!(newest.statement_date == CalendarDate::new(2026, 11, 1).unwrap(), latest);
            }
        }
    }

    #[test]
    fn results_read_as_the_portal_reads_them() {
        let zone = TimeZone::get("America/New_York").unwrap();
        let mut rng = Rng(SEED_RESULTS);
        let p = person(42, true);
        let record = lab_record(&mut rng, &p, 20, "urn:oid:2.16.840.1.113883.3.9999.1", &zone, NOW);
        assert_eq!(record.results, 20);
        assert_eq!(record.resources.len() as u64, 1 + record.reports + record.results);
        for (kind, id, text) in &record.resources {
            let resource = fhir::parse(text).unwrap_or_else(|e| panic!("{kind}/{id}: {e}"));
            assert_eq!(resource.missing(), None, "{kind}/{id}");
            assert!(fhir::is_resource_id(id), "{id}");
        }
        let texts = record.resources.iter().map(|(_, _, text)| text.clone()).collect();
        let read = PatientRecord::build("bench000042", texts, None, &ItemKey::new([7; 32]), &zone, NOW);
        let results = read.test_results();
        assert_eq!(results.panels.len() as u64, record.reports);
        assert_eq!(results.all().len(), 20);
        assert!(results.all().iter().all(|r| r.range.is_some()), "every result has its range");
        assert!(!read.trend_choices().is_empty());

        // Over many patients, some results are flagged, most not.
        let (mut flagged, mut all) = (0, 0);
        for n in 1..=200 {
            let record = lab_record(&mut rng, &person(n, n % 2 == 0), 20, "urn:x", &zone, NOW);
            for (_, _, text) in &record.resources {
                if text.contains("\"resourceType\":\"Observation\"") {
                    all += 1;
                    if !text.contains("\"code\":\"N\"") {
                        flagged += 1;
                    }
                }
            }
        }
        assert_eq!(all, 4_000);
        assert!((200..1_600).contains(&flagged), "{flagged} of {all} flagged");
    }
}
