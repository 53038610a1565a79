//! Release of results to the patient (SPEC R-REC-3; issue 15), applied in ONE place: when a
//! patient's record is read (`server::read`, which every page, count, download and notice goes
//! through), [`apply`] takes out
//!
//! 1. **results given in person**: an Observation or DiagnosticReport whose code is on the
//!    administrators' list (`record_hidden_codes`, kept by `hidden_codes.rs`), with the
//!    members of such a panel. Test Results then says only that some results are given in person;
//! 2. **results the patient chose to see later** (`record_release`, the form on `/record`):
//!    results show as soon as the EHR has them unless the patient chose "after my clinician has
//!    reviewed them" or "N days after they are ready". Counted, and Test Results says how many
//!    wait and why.
//!
//! Definitions (the README says the same):
//! - a *result* here is a DiagnosticReport, an Observation that groups others (`hasMember`), or
//!   an Observation of a result category (not vital signs, social history or survey answers)
//!   that no report or panel includes; a panel's members follow their panel;
//! - *reviewed*: a DiagnosticReport whose status is final, amended, corrected or appended and
//!   that names a `resultsInterpreter` (FHIR R4 says who interpreted the results there). An
//!   Observation outside any report has no element that says it was reviewed, so under "after
//!   review" it waits;
//! - *ready*: the result's `issued` time, else its effective time; a result with neither is
//!   shown (nothing to count from).

use crate::error::AppError;
use crate::layout::PostForm;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The delays a patient can choose from, in days.
pub const DELAY_DAYS: [u32; 4] = [1, 3, 7, 14];

/// When the patient wants to see new test results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReleaseChoice {
    /// As soon as they are available (the default: the Cures Act counts holding results back
    /// as information blocking; only the patient may choose to wait).
    #[default]
    AsSoonAsAvailable,
    /// After their clinician has reviewed them.
    AfterReview,
    /// This many days after they are ready (one of [`DELAY_DAYS`]).
    AfterDays(u32),
}

impl ReleaseChoice {
    pub fn all() -> Vec<ReleaseChoice> {
        let mut v = vec![ReleaseChoice::AsSoonAsAvailable, ReleaseChoice::AfterReview];
        v.extend(DELAY_DAYS.into_iter().map(ReleaseChoice::AfterDays));
        v
    }

    /// The form's value: `now`, `reviewed`, `days-7`.
    pub fn code(self) -> String {
        match self {
            ReleaseChoice::AsSoonAsAvailable => "now".into(),
            ReleaseChoice::AfterReview => "reviewed".into(),
            ReleaseChoice::AfterDays(n) => format!("days-{n}"),
        }
    }

    /// A form value back (only the choices offered).
    pub fn parse(s: &str) -> Option<ReleaseChoice> {
        ReleaseChoice::all().into_iter().find(|c| c.code() == s.trim())
    }

    pub fn words(self) -> String {
        match self {
            ReleaseChoice::AsSoonAsAvailable => "As soon as they are available".into(),
            ReleaseChoice::AfterReview => "After my clinician has reviewed them".into(),
            ReleaseChoice::AfterDays(1) => "1 day after they are ready".into(),
            ReleaseChoice::AfterDays(n) => format!("{n} days after they are ready"),
        }
    }
}

/// What the release rules took out of a record, for the page to say (never which results).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Withheld {
    /// Some result of the record is given in person (an administrator's hidden code).
    pub given_in_person: bool,
    /// How many results (panels and single results) wait for the patient's own choice.
    pub waiting: usize,
    pub choice: ReleaseChoice,
}

impl Withheld {
    /// The sentence about results waiting, if any.
    pub fn waiting_words(&self) -> Option<String> {
        if self.waiting == 0 {
            return None;
        }
        let n = if self.waiting == 1 { "1 result is".to_string() } else { format!("{} results are", self.waiting) };
        Some(match self.choice {
            ReleaseChoice::AfterReview => format!("{n} waiting because you chose to see new results only after your clinician has reviewed them."),
            ReleaseChoice::AfterDays(d) => {
                let days = if d == 1 { "1 day".to_string() } else { format!("{d} days") };
                format!("{n} waiting because you chose to see new results {days} after they are ready.")
            }
            ReleaseChoice::AsSoonAsAvailable => format!("{n} waiting."),
        })
    }
}

/// The sentence Test Results shows when some results are given in person.
pub const GIVEN_IN_PERSON: &str = "Some results are given to you in person by your care team and are not shown here.";

// ---------------------------------------------------------------------------------------------
// Server side: the rules, the table, the audit

#[cfg(feature = "ssr")]
pub use ssr::*;

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::audit::{self, AuditAction, AuditEvent};
    use crate::patients::PatientId;
    use crate::platform::db::Db;
    use crate::record::convert::{is_result_category, Entry, PatientRecord};
    use crate::record::fhir::{CodeableConcept, Resource};
    use crate::record::model::ItemId;
    use crate::types::UserId;
    use std::collections::HashSet;
    use std::net::IpAddr;

    /// The rules for one patient's record.
    #[derive(Clone, Debug, Default)]
    pub struct Rules {
        /// (system, code) pairs given in person.
        pub hidden: HashSet<(String, String)>,
        pub choice: ReleaseChoice,
    }

    pub async fn hidden_set(db: &Db) -> Result<HashSet<(String, String)>, sqlx::Error> {
        // (code_system, code) pairs.
        let pairs: Vec<(String, String)> = sqlx::query_as("SELECT code_system, code FROM record_hidden_codes").fetch_all(&db.pool).await?;
        Ok(pairs.into_iter().collect())
    }

    /// The patient's choice (the default when they never chose, or a stored value no longer
    /// offered).
    pub async fn choice_of(db: &Db, patient: &PatientId) -> Result<ReleaseChoice, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct ChoiceRow {
            /// `now`, `reviewed` or `days`.
            choice: String,
            delay_days: Option<i64>,
        }
        let row: Option<ChoiceRow> =
            sqlx::query_as("SELECT choice, delay_days FROM record_release WHERE patient_id = $1").bind(patient.as_str()).fetch_optional(&db.pool).await?;
        let Some(row) = row else { return Ok(ReleaseChoice::AsSoonAsAvailable) };
        Ok(match (row.choice.as_str(), row.delay_days) {
            ("reviewed", _) => ReleaseChoice::AfterReview,
            ("days", Some(d)) if DELAY_DAYS.contains(&(d as u32)) => ReleaseChoice::AfterDays(d as u32),
            _ => ReleaseChoice::AsSoonAsAvailable,
        })
    }

    pub async fn rules_of(db: &Db, patient: &PatientId) -> Result<Rules, sqlx::Error> {
        Ok(Rules { hidden: hidden_set(db).await?, choice: choice_of(db, patient).await? })
    }

    /// Stores the patient's choice; audited (the choice's code in the detail: a setting, not
    /// health information).
    pub async fn set_choice(db: &Db, user: &UserId, patient: &PatientId, choice: ReleaseChoice, addr: Option<IpAddr>, now: i64) -> Result<(), sqlx::Error> {
        let (kind, days) = match choice {
            ReleaseChoice::AsSoonAsAvailable => ("now", None),
            ReleaseChoice::AfterReview => ("reviewed", None),
            ReleaseChoice::AfterDays(d) => ("days", Some(d as i64)),
        };
        let mut tx = db.begin_write().await?;
        sqlx::query(
            "INSERT INTO record_release (patient_id, choice, delay_days, changed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (patient_id) DO UPDATE SET choice = excluded.choice, delay_days = excluded.delay_days, changed_at = excluded.changed_at",
        )
        .bind(patient.as_str())
        .bind(kind)
        .bind(days)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let code = choice.code();
        audit::record(
            &mut tx,
            AuditEvent {
                actor: Some(user),
                subject: Some(user),
                record_type: Some("medical-record"),
                record_id: Some(patient.as_str()),
                client_addr: addr,
                detail: Some(&code),
                ..AuditEvent::of(AuditAction::RecordReleaseChosen)
            },
            now,
        )
        .await?;
        tx.commit().await
    }

    /// What the rules take out of a record.
    #[derive(Debug, Default)]
    pub struct Decision {
        /// Items given in person (with their panels' members).
        pub hidden: HashSet<ItemId>,
        /// Items waiting for the patient's choice (with their panels' members).
        pub held: HashSet<ItemId>,
        /// How many results (panels and single results) wait.
        pub waiting: usize,
        /// Some result the pages would have shown is given in person.
        pub in_person: bool,
    }

    fn code_hidden(code: Option<&CodeableConcept>, hidden: &HashSet<(String, String)>) -> bool {
        !hidden.is_empty()
            && code.is_some_and(|c| {
                c.coding.iter().any(|k| match (k.system.as_deref(), k.code.as_deref()) {
                    (Some(s), Some(c)) => hidden.contains(&(s.trim().to_string(), c.trim().to_string())),
                    _ => false,
                })
            })
    }

    /// A panel's members as entries of the record.
    fn members<'a>(record: &'a PatientRecord, e: &Entry) -> Vec<&'a Entry> {
        let refs = match &e.resource {
            Resource::DiagnosticReport(d) => &d.result,
            Resource::Observation(o) => &o.has_member,
            _ => return Vec::new(),
        };
        refs.iter().filter_map(|r| record.resolve(r)).filter(|m| matches!(m.resource, Resource::Observation(_))).collect()
    }

    /// When a result was ready: `issued`, else its effective time (ms).
    fn ready_ms(record: &PatientRecord, e: &Entry) -> Option<i64> {
        let text = match &e.resource {
            Resource::DiagnosticReport(d) => {
                d.issued.as_deref().or(d.effective_date_time.as_deref()).or(d.effective_period.as_ref().and_then(|p| p.start.as_deref()))
            }
            Resource::Observation(o) => o
                .issued
                .as_deref()
                .or(o.effective_date_time.as_deref())
                .or(o.effective_instant.as_deref())
                .or(o.effective_period.as_ref().and_then(|p| p.start.as_deref())),
            _ => None,
        };
        record.when(text).map(|w| w.ms)
    }

    /// Whether a result counts as reviewed (see the module's doc).
    fn reviewed(e: &Entry) -> bool {
        match &e.resource {
            Resource::DiagnosticReport(d) => {
                !d.results_interpreter.is_empty() && matches!(d.status.as_deref(), Some("final" | "amended" | "corrected" | "appended"))
            }
            _ => false,
        }
    }

    /// Whether a result is one the pages would show at all (not entered in error).
    fn showable(e: &Entry) -> bool {
        let status = match &e.resource {
            Resource::DiagnosticReport(d) => d.status.as_deref(),
            Resource::Observation(o) => o.status.as_deref(),
            _ => return false,
        };
        crate::record::model::ResultStatus::of_fhir(status.unwrap_or_default()).is_some()
    }

    /// The results of a record as units the rules judge: reports, panels, and results that
    /// no report or panel includes (only those the pages would show: an entered-in-error
    /// report is never counted as waiting).
    pub fn units(record: &PatientRecord) -> Vec<&Entry> {
        let mut in_panel: HashSet<&ItemId> = HashSet::new();
        let mut units = Vec::new();
        for e in record.entries() {
            match &e.resource {
                Resource::DiagnosticReport(_) => units.push(e),
                Resource::Observation(o) if !o.has_member.is_empty() && is_result_category(&o.category) => units.push(e),
                _ => continue,
            }
            in_panel.extend(members(record, e).into_iter().map(|m| &m.item));
        }
        for e in record.entries() {
            if let Resource::Observation(o) = &e.resource {
                if o.has_member.is_empty() && is_result_category(&o.category) && !in_panel.contains(&e.item) {
                    units.push(e);
                }
            }
        }
        units.retain(|e| showable(e));
        units
    }

    /// When a unit is released under `choice`: `Some(at)` (ms; `i64::MIN` for "always"), or
    /// none while it waits.
    pub fn released_at(record: &PatientRecord, e: &Entry, choice: ReleaseChoice) -> Option<i64> {
        match choice {
            ReleaseChoice::AsSoonAsAvailable => Some(i64::MIN),
            ReleaseChoice::AfterReview => reviewed(e).then_some(i64::MIN),
            ReleaseChoice::AfterDays(n) => Some(ready_ms(record, e).map_or(i64::MIN, |r| r + n as i64 * 86_400_000)),
        }
    }

    pub fn decide(record: &PatientRecord, rules: &Rules, now: i64) -> Decision {
        let mut d = Decision::default();
        for e in record.entries() {
            let code = match &e.resource {
                Resource::Observation(o) => o.code.as_ref(),
                Resource::DiagnosticReport(r) => r.code.as_ref(),
                _ => continue,
            };
            if code_hidden(code, &rules.hidden) {
                d.in_person |= showable(e);
                d.hidden.insert(e.item.clone());
                d.hidden.extend(members(record, e).into_iter().map(|m| m.item.clone()));
            }
        }
        if rules.choice != ReleaseChoice::AsSoonAsAvailable {
            for e in units(record) {
                if d.hidden.contains(&e.item) {
                    continue;
                }
                let shown = released_at(record, e, rules.choice).is_some_and(|at| at <= now);
                if !shown {
                    d.held.insert(e.item.clone());
                    d.held.extend(members(record, e).into_iter().map(|m| m.item.clone()));
                    d.waiting += 1;
                }
            }
        }
        d
    }

    /// Applies the rules to a record just read: what they take out is no longer in it.
    pub fn apply(record: &mut PatientRecord, rules: &Rules, now: i64) {
        let d = decide(record, rules, now);
        let given_in_person = d.in_person;
        let mut out = d.hidden;
        out.extend(d.held);
        record.withhold(&out);
        record.withheld = Withheld { given_in_person, waiting: d.waiting, choice: rules.choice };
    }
}

// ---------------------------------------------------------------------------------------------
// The patient's choice (a form on /record)

/// The signed-in patient's choice.
#[server(endpoint = "record/release")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_release_choice() -> Result<ReleaseChoice, AppError> {
    let cx = crate::context::PatientCtx::get()?;
    Ok(choice_of(&cx.state.db, &cx.patient).await?)
}

crate::layout::notice_codes! {
    /// How the release choice's form went (on the record's home, `#release`).
    pub enum ReleaseNotice {
        Saved = Done "release" => "Your choice is saved.",
        Choose = Error "release" => "Please choose one of the options.",
    }
}

/// Changes the signed-in patient's choice (a posted form); audited.
#[server(endpoint = "record/release/choose")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn choose_release(choice: String) -> Result<(), AppError> {
    let cx = crate::context::PatientCtx::get()?;
    let Some(choice) = ReleaseChoice::parse(&choice) else {
        crate::layout::redirect_notice("/record#release", ReleaseNotice::Choose);
        return Ok(());
    };
    set_choice(&cx.state.db, cx.user(), &cx.patient, choice, cx.addr, cx.now).await?;
    crate::layout::redirect_notice("/record#release", ReleaseNotice::Saved);
    Ok(())
}

/// The release choice's section of the record's home.
#[component]
pub fn ReleaseChoiceSection() -> impl IntoView {
    let choice = Resource::new(|| (), |_| load_release_choice());
    let status = crate::layout::notice::<ReleaseNotice>();
    view! {
        <section class="section" id="release" aria-labelledby="release-heading">
            <h2 id="release-heading">"When new test results show"</h2>
            {status}
            <p>"New results show here as soon as the clinic has them, sometimes before your clinician has seen them. "
               "If you would rather see them later, you can choose that for yourself. Some results are always given to you in person by your care team."</p>
            <crate::layout::Loaded resource=choice view={|current: ReleaseChoice| view! {
                <PostForm<ChooseRelease> class="form">
                    <fieldset>
                        <legend>"Show me new test results:"</legend>
                        {ReleaseChoice::all().into_iter().map(|c| {
                            let id = format!("release-{}", c.code());
                            let words = if c == ReleaseChoice::AsSoonAsAvailable { format!("{} (the default)", c.words()) } else { c.words() };
                            view! {
                                <div class="check">
                                    <input type="radio" id=id.clone() name="choice" value=c.code() checked={c == current}/>
                                    <label for=id>{words}</label>
                                </div>
                            }
                        }).collect_view()}
                    </fieldset>
                    <button type="submit" class="button button--primary">"Save my choice"</button>
                </PostForm<ChooseRelease>>
            }}/>
        </section>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests;
