//! The benchmark's data set (`server bench-data`): many patients of the demo clinic, each with a
//! year of conversations with Dr. Lee or the nurse line, so that `scripts/bench` can measure the
//! staff inbox and a patient's Messages page at a realistic size. Runs after `server demo`.
//!
//! Each generated patient has a record (MRN `BENCH000001` …), a patient account (user ID
//! `bench000001` …) with the demo password (the hash is copied from the demo patient `alice`),
//! the terms in force accepted, and Dr. Lee and the demo pools on their care team. Their
//! messages come in threads of five, patient and staff in turn (patient, staff, patient, staff,
//! patient), spread over the last year; each patient message's due date is worked out with the
//! clinic's business calendar (`BusinessCalendar`, holidays included), as when it is sent. Staff
//! replies handle the patient messages before them, and the last patient message of a thread is
//! marked handled, except in about one thread in twenty, recent ones: about 2 % of the patients'
//! messages stay open. Six threads in ten are with Dr. Lee, the others with the nurse line
//! (answered by Kim Alvarez); nothing is routed, nothing has attachments.
//!
//! The data are made up from a fixed seed: the same arguments give the same names and about the
//! same shape (the ids differ; the times are relative to now, and moving a time into office
//! hours draws from the generator, so the open counts vary by a few percent from run to run).
//! No audit entries are written: nobody did anything. Rows are inserted in transactions of a hundred patients, with the same few
//! statements over and over (sqlx prepares each once per connection).

use app::messaging::server::calendar;
use app::platform::tokens::new_id;
use app::state::AppState;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::time::{Duration, Instant};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// Messages in a thread: patient, staff, patient, staff, patient.
const THREAD_LEN: u32 = 5;
/// Patients per transaction.
const BATCH: u32 = 100;
/// The share of threads whose last patient message is left open.
const OPEN_THREADS: f64 = 0.05;
/// The share of threads with Dr. Lee; the others are with the nurse line.
const WITH_DOCTOR: f64 = 0.6;

#[derive(Debug, thiserror::Error)]
pub enum BenchDataError {
    #[error("{0}")]
    Missing(String),
    #[error("the benchmark data set is already loaded (patient BENCH000001 exists): load it into a fresh database")]
    AlreadyLoaded,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What was loaded, and how long it took.
pub struct Loaded {
    pub patients: u32,
    pub threads: u64,
    pub messages: u64,
    pub open_for_drlee: i64,
    pub open_for_pools: i64,
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
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
}

const GIVEN: &[&str] = &[
    "Aaron", "Abigail", "Adam", "Amara", "Ana", "Ben", "Bianca", "Carlos", "Chloe", "Daniel", "Deepa", "Elena", "Emeka", "Farah", "George", "Grace", "Hana",
    "Hugo", "Imani", "Isaac", "Jae", "Julia", "Kofi", "Laura", "Liam", "Maya", "Mohammed", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rosa", "Samuel",
    "Sofia", "Tariq", "Uma", "Victor", "Wen", "Yusuf", "Zoe",
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

const INSERT_PATIENT: &str =
    "INSERT INTO patients (id, mrn, given_name, family_name, date_of_birth, email, statement_delivery, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'paperless', $7)";
const INSERT_USER: &str = "INSERT INTO users (id, login, display_name, kind, email, password_hash, password_changed_at, created_at, patient_id) \
     VALUES ($1, $2, $3, 'patient', $4, $5, $6, $6, $7)";
const INSERT_TERMS: &str = "INSERT INTO terms_acceptances (user_id, terms_version_id, accepted_at) VALUES ($1, $2, $3)";
const INSERT_TEAM_PROVIDER: &str = "INSERT INTO care_team (patient_id, provider_id, added_at) VALUES ($1, $2, $3)";
const INSERT_TEAM_POOL: &str = "INSERT INTO care_team (patient_id, pool_id, added_at) VALUES ($1, $2, $3)";
const INSERT_THREAD: &str = "INSERT INTO threads (id, patient_id, topic, subject, created_at, last_message_at) VALUES ($1, $2, $3, $4, $5, $6)";
const INSERT_PATIENT_MESSAGE: &str = "INSERT INTO messages (id, thread_id, author_id, author_kind, body, sent_at, to_provider_id, to_pool_id, \
     assigned_provider_id, assigned_pool_id, due_at, staff_opened_at, handled_at, handled_by) \
     VALUES ($1, $2, $3, 'patient', $4, $5, $6, $7, $6, $7, $8, $9, $10, $11)";
const INSERT_STAFF_MESSAGE: &str =
    "INSERT INTO messages (id, thread_id, author_id, author_kind, body, sent_at, read_at) VALUES ($1, $2, $3, 'staff', $4, $5, $6)";

/// One message before it is stored.
struct Msg {
    from_patient: bool,
    body: String,
    sent_at: i64,
    opened_at: Option<i64>,
    handled_at: Option<i64>,
    read_at: Option<i64>,
}

/// Loads `patients` patients with `messages_per_patient` messages each.
pub async fn load(state: &AppState, patients: u32, messages_per_patient: u32) -> Result<Loaded, BenchDataError> {
    let started = Instant::now();
    let now = state.clock.now_ms();
    let year_ago = now - 365 * DAY;
    let drlee = user_id(state, "drlee").await?;
    let nursekim = user_id(state, "nursekim").await?;
    let nurse_line = pool_id(state, "Nurse line").await?;
    let billing = pool_id(state, "Billing questions").await?;
    if sqlx::query("SELECT id FROM patients WHERE mrn = 'BENCH000001'").fetch_optional(&state.db.pool).await?.is_some() {
        return Err(BenchDataError::AlreadyLoaded);
    }
    // The demo password, so that the benchmark can sign in as a generated patient.
    let password_hash: Option<String> =
        sqlx::query_scalar::<_, Option<String>>("SELECT password_hash FROM users WHERE login = 'alice'").fetch_optional(&state.db.pool).await?.flatten();
    let terms = app::terms::server::in_force(&state.db, now).await?;
    let cal = {
        let mut conn = state.db.pool.acquire().await?;
        calendar(&mut conn, &state.settings).await?
    };
    let zone = state.settings.messaging.time_zone.clone();
    let reply_days = state.settings.messaging.reply_business_days;

    let mut rng = Rng(0x5eed_2026);
    let (mut threads, mut messages) = (0u64, 0u64);
    let mut first = 1;
    while first <= patients {
        let last = (first + BATCH - 1).min(patients);
        let mut tx = state.db.begin_write().await?;
        for n in first..=last {
            let patient = new_id();
            let user = new_id();
            let given = *rng.pick(GIVEN);
            let family = *rng.pick(FAMILY);
            let login = format!("bench{n:06}");
            let email = format!("{login}@example.org");
            let dob = format!("{}-{:02}-{:02}", rng.range(1930, 2006), rng.range(1, 13), rng.range(1, 29));
            let created = year_ago - rng.range(DAY, 400 * DAY);
            sqlx::query(INSERT_PATIENT)
                .bind(&patient)
                .bind(format!("BENCH{n:06}"))
                .bind(given)
                .bind(family)
                .bind(&dob)
                .bind(&email)
                .bind(created)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_USER)
                .bind(&user)
                .bind(&login)
                .bind(format!("{given} {family}"))
                .bind(&email)
                .bind(password_hash.as_deref())
                .bind(now)
                .bind(&patient)
                .execute(&mut *tx)
                .await?;
            if let Some(t) = &terms {
                sqlx::query(INSERT_TERMS).bind(&user).bind(&t.id).bind(created).execute(&mut *tx).await?;
            }
            sqlx::query(INSERT_TEAM_PROVIDER).bind(&patient).bind(&drlee).bind(created).execute(&mut *tx).await?;
            for pool in [&nurse_line, &billing] {
                sqlx::query(INSERT_TEAM_POOL).bind(&patient).bind(pool).bind(created).execute(&mut *tx).await?;
            }

            let mut left = messages_per_patient;
            while left > 0 {
                let len = left.min(THREAD_LEN);
                left -= len;
                let with_doctor = rng.chance(WITH_DOCTOR);
                let (to_provider, to_pool, staff) =
                    if with_doctor { (Some(drlee.as_str()), None, &drlee) } else { (None, Some(nurse_line.as_str()), &nursekim) };
                let open = rng.chance(OPEN_THREADS);
                let (topic, subject) = *rng.pick(SUBJECTS);

                // The times, from the first message on; then the whole thread moved to end in
                // the past (an open one: in the last two weeks).
                let start = rng.range(year_ago, now);
                let mut t = waking_hours(&mut rng, &zone, start);
                let mut thread: Vec<Msg> = Vec::with_capacity(len as usize);
                for i in 0..len {
                    let from_patient = i % 2 == 0;
                    if i > 0 {
                        t = if from_patient {
                            let at = t + rng.range(2 * HOUR, 3 * DAY);
                            waking_hours(&mut rng, &zone, at)
                        } else {
                            let at = t + rng.range(HOUR, 30 * HOUR);
                            office_hours(&mut rng, &zone, at)
                        };
                    }
                    let body = if from_patient { body(&mut rng, PATIENT_SENTENCES, 2, 5) } else { body(&mut rng, STAFF_SENTENCES, 2, 4) };
                    thread.push(Msg { from_patient, body, sent_at: t, opened_at: None, handled_at: None, read_at: None });
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
                sqlx::query(INSERT_THREAD).bind(&thread_id).bind(&patient).bind(topic).bind(subject).bind(first_at).bind(last_at).execute(&mut *tx).await?;
                for m in &thread {
                    if m.from_patient {
                        sqlx::query(INSERT_PATIENT_MESSAGE)
                            .bind(new_id())
                            .bind(&thread_id)
                            .bind(&user)
                            .bind(&m.body)
                            .bind(m.sent_at)
                            .bind(to_provider)
                            .bind(to_pool)
                            .bind(cal.due_at_ms(m.sent_at, reply_days))
                            .bind(m.opened_at)
                            .bind(m.handled_at)
                            .bind(m.handled_at.map(|_| staff.as_str()))
                            .execute(&mut *tx)
                            .await?;
                    } else {
                        sqlx::query(INSERT_STAFF_MESSAGE)
                            .bind(new_id())
                            .bind(&thread_id)
                            .bind(staff)
                            .bind(&m.body)
                            .bind(m.sent_at)
                            .bind(m.read_at)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                threads += 1;
                messages += thread.len() as u64;
            }
        }
        tx.commit().await?;
        first = last + 1;
    }

    let open = |sql: &'static str, id: String| {
        let pool = &state.db.pool;
        async move { sqlx::query_scalar::<_, i64>(sql).bind(id).fetch_one(pool).await }
    };
    let open_for_drlee =
        open("SELECT COUNT(*) AS n FROM messages WHERE assigned_provider_id = $1 AND handled_at IS NULL AND author_kind = 'patient'", drlee).await?;
    let open_for_pools =
        open("SELECT COUNT(*) AS n FROM messages WHERE assigned_pool_id = $1 AND handled_at IS NULL AND author_kind = 'patient'", nurse_line).await?;
    Ok(Loaded { patients, threads, messages, open_for_drlee, open_for_pools, elapsed: started.elapsed() })
}
