//! The demo clinic: a few staff of each role, patients with portal accounts, patients who have
//! not enrolled yet (for the enrolment queue to match against), all portal accounts with one
//! documented password. Loading it again changes nothing.

use app::account::server::{create_account, find_by_login, CreateAccountError, NewAccount};
use app::patients::server as patients;
use app::state::AppState;
use app::types::{AccountKind, StaffRole};

pub const DEMO_PASSWORD: &str = "demo-portal-2026";

pub struct DemoAccount {
    pub login: &'static str,
    pub name: &'static str,
    pub kind: AccountKind,
    pub email: &'static str,
}

/// A patient record: (record number, first name, last name, birth date, e-mail, user ID if
/// enrolled).
pub type DemoPatient = (&'static str, &'static str, &'static str, &'static str, &'static str, Option<&'static str>);

/// The demo clinic's patient records.
pub const PATIENTS: &[DemoPatient] = &[
    ("MRN100001", "Alice", "Johnson", "1948-03-12", "alice.johnson@example.org", Some("alice")),
    ("MRN100002", "Robert", "Smith", "1961-07-30", "robert.smith@example.org", Some("robert")),
    ("MRN100003", "Carol", "Nguyen", "1985-11-02", "carol.nguyen@example.org", Some("carol")),
    ("MRN100004", "Dora", "Martinez", "1952-06-18", "dora.martinez@example.org", None),
    ("MRN100005", "Ewan", "Brooks", "1979-01-25", "", None),
];

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount { login: "alice", name: "Alice Johnson", kind: AccountKind::Patient, email: "alice.johnson@example.org" },
    DemoAccount { login: "robert", name: "Robert Smith", kind: AccountKind::Patient, email: "robert.smith@example.org" },
    DemoAccount { login: "carol", name: "Carol Nguyen", kind: AccountKind::Patient, email: "carol.nguyen@example.org" },
    DemoAccount { login: "frontdesk", name: "Frances Okafor", kind: AccountKind::Staff(StaffRole::FrontDesk), email: "frances.okafor@clinic.example.org" },
    DemoAccount { login: "drlee", name: "Dr. Morgan Lee", kind: AccountKind::Staff(StaffRole::Clinician), email: "morgan.lee@clinic.example.org" },
    DemoAccount { login: "nursekim", name: "Kim Alvarez, RN", kind: AccountKind::Staff(StaffRole::Clinician), email: "kim.alvarez@clinic.example.org" },
    DemoAccount { login: "billing", name: "Sam Patel", kind: AccountKind::Staff(StaffRole::Billing), email: "sam.patel@clinic.example.org" },
    DemoAccount { login: "admin", name: "Alex Rivera", kind: AccountKind::Staff(StaffRole::Administrator), email: "alex.rivera@clinic.example.org" },
    DemoAccount { login: "auditor", name: "Jordan Blake", kind: AccountKind::Staff(StaffRole::Auditor), email: "jordan.blake@clinic.example.org" },
];

/// Why the demo clinic was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(
        "the demo clinic is not loaded in production (PORTAL_MODE=production): its accounts share one \
         published password"
    )]
    Production,
    #[error(
        "this database holds {patients} patient record(s) and is not the demo clinic's: the demo is loaded only \
         into an empty database (its accounts share one published password). Point PORTAL_DATABASE_URL at another \
         database to try the demo"
    )]
    NotTheDemoDatabase { patients: i64 },
    #[error(transparent)]
    Load(#[from] CreateAccountError),
}

impl From<sqlx::Error> for DemoError {
    fn from(e: sqlx::Error) -> Self {
        DemoError::Load(CreateAccountError::Db(e))
    }
}

/// Creates whichever demo records and accounts are missing; returns how many accounts it
/// created. Demo patients have accepted the terms in force and are on paperless billing, as if
/// they had enrolled.
///
/// Only into the demo clinic's own database (issue 14, point 15): the demo's accounts, staff
/// among them, share a password printed in the README, so loading them beside real patients
/// would open those patients' records to anyone. A database is the demo's when it had no
/// patients the first time the demo was loaded (it is marked then); never in production mode.
pub async fn load(state: &AppState) -> Result<usize, DemoError> {
    let now = state.clock.now_ms();
    if state.settings.production {
        return Err(DemoError::Production);
    }
    {
        // Read and marked in one write transaction: the check and the mark see the same
        // database.
        let mut tx = state.db.begin_write().await?;
        let marked: Option<i64> = sqlx::query_scalar("SELECT loaded_at FROM demo_clinic").fetch_optional(&mut *tx).await?;
        if marked.is_none() {
            let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&mut *tx).await?;
            if patients > 0 {
                return Err(DemoError::NotTheDemoDatabase { patients });
            }
            sqlx::query("INSERT INTO demo_clinic (loaded_at) VALUES ($1)").bind(now).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    for (mrn, given, family, dob, email, _) in PATIENTS {
        if patients::find_by_mrn(&state.db, mrn).await?.is_some() {
            continue;
        }
        let mut tx = state.db.begin_write().await?;
        let new = patients::NewPatient {
            given_name: given,
            family_name: family,
            date_of_birth: dob,
            email: Some(email).filter(|e| !e.is_empty()).copied(),
            phone: None,
            mrn: Some(mrn),
        };
        patients::create(&mut tx, new, None, None, now).await?;
        tx.commit().await?;
    }
    let mut created = 0;
    for a in ACCOUNTS {
        if find_by_login(&state.db, a.login).await?.is_some() {
            continue;
        }
        let patient_id = match PATIENTS.iter().find(|p| p.5 == Some(a.login)) {
            Some((mrn, ..)) => patients::find_by_mrn(&state.db, mrn).await?,
            None => None,
        };
        let new = NewAccount {
            login: a.login.into(),
            display_name: a.name.into(),
            kind: a.kind,
            email: Some(a.email.into()),
            patient_id: patient_id.clone(),
            password: DEMO_PASSWORD.into(),
        };
        let user = create_account(&state.db, &state.passwords, new, None, now).await?;
        if let Some(patient) = patient_id {
            let mut tx = state.db.begin_write().await?;
            sqlx::query("UPDATE patients SET statement_delivery = 'paperless' WHERE id = $1").bind(patient.as_str()).execute(&mut *tx).await?;
            if let Some(terms) = app::terms::server::in_force_on(&mut tx, now).await? {
                app::terms::server::accept(&mut tx, &user, &terms, None, now).await?;
            }
            tx.commit().await?;
        }
        created += 1;
    }
    care_teams(state, now).await?;
    app::questionnaires::server::load_samples(&state.db, None, now).await.map_err(|e| match e {
        app::questionnaires::server::QuestionnaireError::Db(e) => CreateAccountError::from(e),
        _ => CreateAccountError::Invalid("a shipped sample form does not import"),
    })?;
    billing(state, now).await.map_err(|e| match e {
        app::billing::server::BillingError::Db(e) => CreateAccountError::from(e),
        _ => CreateAccountError::Invalid("the demo clinic's statements break the billing rules"),
    })?;
    medical_record(state, now).await.map_err(|e| match e {
        app::record::embedded::ImportError::Db(e) => CreateAccountError::from(e),
        _ => CreateAccountError::Invalid("the demo clinic's medical record does not import"),
    })?;
    Ok(created)
}

/// The demo patients' medical record (synthetic; `app/src/record/demo/`), imported into the
/// embedded source once, whatever source the server reads from (a remote source ignores it).
/// Alice, Robert and Carol are matched to their FHIR Patients by record number on first look.
async fn medical_record(state: &AppState, now: i64) -> Result<(), app::record::embedded::ImportError> {
    for (patient, bundle) in app::record::DEMO_BUNDLES {
        if app::record::embedded::has_patient(&state.db, patient).await? {
            continue;
        }
        app::record::embedded::import(&state.db, bundle, now).await?;
    }
    Ok(())
}

/// The demo clinic's billing: an account for each demo patient with last month's statement
/// (visits at two departments for Alice), made once. Enrolled patients' accounts are paperless;
/// Dora, who has not enrolled, gets paper statements, and this month's waits in the print queue.
async fn billing(state: &AppState, now: i64) -> Result<(), app::billing::server::BillingError> {
    use app::billing::money::Money;
    use app::billing::server::{open_account, post_history, post_statement};
    use app::billing::statement::{Line, LineKind, NewStatement};
    use app::dates::CalendarDate;
    if sqlx::query("SELECT id FROM billing_accounts LIMIT 1").fetch_optional(&state.db.pool).await?.is_some() {
        return Ok(());
    }
    let staff = app::users::id_by_login(&state.db.pool, "billing").await?.ok_or(sqlx::Error::RowNotFound)?;
    // Statements of the last two whole months before today.
    let today = CalendarDate::of_ms(now);
    let month_start = |back: i32| {
        let months = today.year * 12 + today.month as i32 - 1 - back;
        CalendarDate::new(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1).expect("first of a month")
    };
    let day = |d: CalendarDate, n: u32| CalendarDate::new(d.year, d.month, n).expect("a day of the month");
    let end_of = |start: CalendarDate| CalendarDate::of_ms(month_start_after(start).start_ms() - 86_400_000);
    fn month_start_after(d: CalendarDate) -> CalendarDate {
        let months = d.year * 12 + d.month as i32;
        CalendarDate::new(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1).expect("first of a month")
    }
    let line = |kind, date, department: &str, description: &str, cents| Line {
        kind,
        date,
        department: department.into(),
        description: description.into(),
        amount: Money(cents),
    };
    let statement = |start: CalendarDate, lines: Vec<Line>, due: Money| NewStatement {
        statement_date: month_start_after(start),
        period_start: start,
        period_end: end_of(start),
        due_date: day(month_start_after(start), 25),
        lines,
        expected_amount_due: due,
    };
    let address = |street: &str| vec![street.to_string(), "Riverside, ST 00000".to_string()];
    for (mrn, street) in [("MRN100001", "12 Elm Street"), ("MRN100002", "48 Oak Avenue"), ("MRN100003", "7 Birch Lane"), ("MRN100004", "301 Maple Court")] {
        let Some(patient) = patients::find_by_mrn(&state.db, mrn).await? else { continue };
        let account = open_account(&state.db, &staff, &patient, &address(street), None, now).await?;
        let (older, last) = (month_start(2), month_start(1));
        match mrn {
            "MRN100001" => {
                let first = statement(
                    older,
                    vec![
                        line(LineKind::Charge, day(older, 6), "Family Medicine", "Office visit, established patient", 18_000),
                        line(LineKind::Charge, day(older, 6), "Laboratory", "Lipid panel", 4_510),
                        line(LineKind::Adjustment, day(older, 20), "Family Medicine", "Insurance contractual adjustment", -9_505),
                    ],
                    Money(13_005),
                );
                post_history(&state.db, &state.settings, &staff, &account, &first, now).await?;
                let second = statement(
                    last,
                    vec![
                        line(LineKind::Payment, day(last, 3), "Family Medicine", "Payment, thank you", -5_000),
                        line(LineKind::Charge, day(last, 14), "Radiology", "X-ray, chest, two views", 12_000),
                    ],
                    Money(20_005),
                );
                post_history(&state.db, &state.settings, &staff, &account, &second, now).await?;
            }
            "MRN100004" => {
                let s = statement(last, vec![line(LineKind::Charge, day(last, 9), "Family Medicine", "Office visit, new patient", 21_000)], Money(21_000));
                post_statement(&state.db, &state.settings, &staff, &account, &s, None, now).await?;
            }
            _ => {
                let s = statement(last, vec![line(LineKind::Charge, day(last, 11), "Family Medicine", "Annual wellness visit", 15_000)], Money(15_000));
                post_history(&state.db, &state.settings, &staff, &account, &s, now).await?;
            }
        }
    }
    Ok(())
}

/// The demo clinic's pools and care teams: Dr. Lee and the nurse line (clinical) serve every
/// demo patient; billing questions go to the billing office (not clinical). Made once.
async fn care_teams(state: &AppState, now: i64) -> Result<(), sqlx::Error> {
    use app::platform::tokens::new_id;
    if sqlx::query("SELECT id FROM care_pools LIMIT 1").fetch_optional(&state.db.pool).await?.is_some() {
        return Ok(());
    }
    let user = |login: &'static str| async move { app::users::id_by_login(&state.db.pool, login).await?.ok_or(sqlx::Error::RowNotFound) };
    let mut tx = state.db.begin_write().await?;
    // The nurse line does clinical work; the billing office does not (minimum necessary: billing
    // staff read only the conversations sent to them).
    let pools = [
        ("Nurse line", "Nurses answer questions about symptoms, medications and care at home.", "nursekim", "yes"),
        ("Billing questions", "The billing office answers questions about statements and payments.", "billing", "no"),
    ];
    let mut pool_ids = Vec::new();
    for (name, description, member, clinical) in pools {
        let id = new_id();
        sqlx::query("INSERT INTO care_pools (id, name, description, clinical, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&id)
            .bind(name)
            .bind(description)
            .bind(clinical)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO pool_members (pool_id, user_id) VALUES ($1, $2)").bind(&id).bind(user(member).await?).execute(&mut *tx).await?;
        pool_ids.push(id);
    }
    let drlee = user("drlee").await?;
    for (mrn, ..) in PATIENTS {
        let patient: Option<String> = sqlx::query_scalar("SELECT id FROM patients WHERE mrn = $1").bind(mrn).fetch_optional(&mut *tx).await?;
        let Some(patient) = patient else { continue };
        sqlx::query("INSERT INTO care_team (patient_id, provider_id, added_at) VALUES ($1, $2, $3)")
            .bind(&patient)
            .bind(&drlee)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        for pool in &pool_ids {
            sqlx::query("INSERT INTO care_team (patient_id, pool_id, added_at) VALUES ($1, $2, $3)")
                .bind(&patient)
                .bind(pool)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await
}

/// The demo clinic in use, for whoever tries it (`server demo`, not `--without-activity`): so
/// that someone signing in as Alice finds something in every section, and Dr. Lee and the
/// nurse line find work waiting. Alice has a questionnaire and a lesson to do (assigned by
/// Dr. Lee); Alice and Carol wrote to Dr. Lee; Robert wrote to the nurse line six days ago and
/// has had no answer, so his message is overdue. Made once: nothing when any conversation or
/// assignment exists. (The tests' clinic has none of it: they make their own.)
pub async fn activity(state: &AppState, now: i64) -> Result<bool, DemoError> {
    use app::dates::CalendarDate;
    use app::messaging::server::{send_from_patient, NewPatientMessage};
    let db = &state.db;
    let busy = sqlx::query("SELECT id FROM threads LIMIT 1").fetch_optional(&db.pool).await?.is_some()
        || sqlx::query("SELECT id FROM questionnaire_assignments LIMIT 1").fetch_optional(&db.pool).await?.is_some();
    if busy {
        return Ok(false);
    }
    let id_of = |sql: &'static str, value: &'static str| async move { sqlx::query_scalar::<_, String>(sql).bind(value).fetch_one(&db.pool).await };
    let drlee = app::users::id_by_login(&db.pool, "drlee").await?.ok_or(sqlx::Error::RowNotFound)?;
    let nurse_line = id_of("SELECT id FROM care_pools WHERE name = $1", "Nurse line").await?;
    let hour = 3_600_000;
    let day = 24 * hour;

    let alice = patients::find_by_mrn(db, "MRN100001").await?.ok_or(CreateAccountError::Invalid("the demo clinic has no Alice"))?;
    let due = CalendarDate::of_ms(now + 7 * day);
    for (sample, note) in
        [("mood-check", "Please fill this in before your visit next week."), ("portal-safety", "A short lesson on keeping your portal account safe.")]
    {
        let form = id_of("SELECT id FROM questionnaire_forms WHERE sample = $1", sample).await?;
        app::questionnaires::server::assign(db, &state.settings, &drlee, StaffRole::Clinician, &alice, &form, Some(due), Some(note), None, now)
            .await
            .map_err(|_| CreateAccountError::Invalid("the demo clinic's forms cannot be assigned"))?;
    }

    // (patient, user ID, to, topic, subject, body, sent this long ago)
    let messages = [
        (
            "MRN100001",
            "alice",
            format!("provider:{}", drlee.as_str()),
            "general",
            "Knee pain after walking",
            "Dear Dr. Lee, my right knee has ached after my morning walks this week, more on the stairs. \
             Should I rest it, or can I keep walking? Thank you, Alice",
            2 * hour,
        ),
        (
            "MRN100003",
            "carol",
            format!("provider:{}", drlee.as_str()),
            "medication",
            "Refill of my inhaler",
            "Hello, I am down to my last inhaler. Could you send a refill to my usual pharmacy? Carol",
            day,
        ),
        (
            "MRN100002",
            "robert",
            format!("pool:{nurse_line}"),
            "general",
            "Blood pressure readings at home",
            "Hello, my home readings have been around 150/95 in the mornings since last week. \
             Is that something to worry about? Robert",
            6 * day,
        ),
    ];
    for (mrn, login, to, topic, subject, body, ago) in messages {
        let patient = patients::find_by_mrn(db, mrn).await?.ok_or(CreateAccountError::Invalid("a demo patient is missing"))?;
        let user = find_by_login(db, login).await?.ok_or(CreateAccountError::Invalid("a demo account is missing"))?;
        let message = NewPatientMessage {
            thread: None,
            recipient: to,
            topic: topic.into(),
            subject: subject.into(),
            body: body.into(),
            acknowledged: true,
            files: Vec::new(),
        };
        send_from_patient(db, &state.settings, &user, &patient, message, None, now - ago)
            .await
            .map_err(|_| CreateAccountError::Invalid("a demo message cannot be sent"))?;
    }
    Ok(true)
}
