//! The patients part: records, accounts, terms accepted, care teams.

use super::names::{FAMILY, GIVEN};
use super::random::{Rng, SEED_PATIENTS};
use super::rows::{t, Rows, INSERT_PATIENTS, INSERT_TEAM, INSERT_TERMS, INSERT_USERS, V};
use super::statements::billing_profile;
use super::times::{DAY, YEAR};
use super::{begin, BenchDataError, Clinic, Options, BATCH};
use app::platform::tokens::new_id;

/// A generated patient, as the later parts need them.
pub(super) struct Person {
    pub(super) n: u32,
    pub(super) patient: String,
    pub(super) user: String,
    pub(super) given: &'static str,
    pub(super) family: &'static str,
    pub(super) female: bool,
    pub(super) dob: String,
    pub(super) created: i64,
}

impl Person {
    /// The FHIR Patient's id in the embedded record: the user ID.
    pub(super) fn fhir_id(&self) -> String {
        format!("bench{:06}", self.n)
    }
}

/// Loads the patients part, and returns the patients for the others.
pub(super) async fn load(clinic: &Clinic<'_>, options: &Options) -> Result<Vec<Person>, BenchDataError> {
    let (state, now) = (clinic.state, clinic.now);
    let (drlee, nurse_line, billing_pool) = (&clinic.drlee, &clinic.nurse_line, &clinic.billing_pool);
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
            team.push([t(&p.patient), t(drlee), V::Null, V::Int(p.created)]);
            for pool in [nurse_line, billing_pool] {
                team.push([t(&p.patient), V::Null, t(pool), V::Int(p.created)]);
            }
        }
        patients.flush(&mut tx).await?;
        users.flush(&mut tx).await?;
        acceptances.flush(&mut tx).await?;
        team.flush(&mut tx).await?;
        tx.commit().await?;
    }
    Ok(people)
}
