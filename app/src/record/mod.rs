//! My Medical Record (SPEC R-REC-1 … R-REC-6): the patient's record, read from the EHR
//! through its FHIR R4 API or from the portal's own copy, as domain types for the pages.
//!
//! # Layout
//! - `model.rs` (shared with the browser build): what pages show — [`TestResult`], [`Panel`],
//!   [`Trend`], [`Medication`], [`Allergy`], [`Immunization`], [`HealthIssue`], [`Visit`],
//!   [`Document`], [`HealthSummary`]; flags ([`Flag::derive`]: interpretation AND range, the
//!   more serious wins), ranges (one-sided, units), statuses, all with words for the page.
//! - `fhir.rs` (server): our own FHIR R4 types, only the elements shown; unknown elements
//!   ignored. No FHIR type reaches the browser.
//! - `convert.rs` (server): [`convert::PatientRecord`], one patient's record as read, and the
//!   conversions FHIR → model (what is never shown: entered-in-error, refuted, unreleased).
//! - `source.rs`, `embedded.rs`, `remote.rs`, `smart.rs`, `settings.rs` (server): one interface
//!   ([`source::RecordSource`]), two sources: the portal's database (`record_resources`,
//!   `server record import FILE`) or the EHR's FHIR API with SMART Backend Services.
//!   `cache.rs`: the embedded source's parsed records between page views (versioned, bounded).
//! - `server.rs` (server): whose record (the link to the FHIR Patient), audited reads.
//! - `staff.rs`: the staff patient page's "Medical record (EHR)" link.
//! - `api.rs`, `pages.rs`, `chart.rs`, `seen.rs`, `pdf.rs`: the patient's pages (below), their
//!   server functions, the trend chart's geometry, what the patient has seen (`record_seen`),
//!   and the printable Health Summary (PDF).
//! - `release.rs`: the release rules (results given in person by the administrators' code
//!   list; the patient's own choice of when new results show, on `/record`), applied once in
//!   `server::read`. `hidden_codes.rs`: that list and its page, `/staff/record/hidden-codes`. `notices.rs` (server): the PHI-free
//!   new-result notice, found by a periodic job for the embedded source.
//! - `demo/`: the demo clinic's synthetic record (three FHIR Bundles), loaded by `server demo`.
//!
//! # The API for the pages
//! Every record page is a server function that starts with the signed-in patient and reads
//! through one audited call; the record is read when the patient looks (the embedded source's
//! parsed resources are kept for the next page of the visit, checked against the store's
//! version on every read: `cache.rs`):
//!
//! ```ignore
//! use crate::record::{self, server::{Reader, Section}};
//! let state = app_state()?;
//! let reader = Reader::current(&state).await?;            // the patient's own record only
//! let record = match record::server::open(&state, &reader, Section::TestResults).await {
//!     Ok(r) => r,                                          // audited: "medical record viewed"
//!     Err(e) => match e.problem() {                        // Unavailable / NotLinked:
//!         Some(problem) => return Ok(Err(problem)),        //   problem.message() for the page
//!         None => return Err(e.into()),                    // a database error: AppError
//!     },
//! };
//! let results: TestResults = record.test_results();
//! ```
//!
//! - `server::Reader::current(&AppState) -> Result<Reader, AppError>`: the request's patient
//!   (refused for anyone else). Build `Reader { user, patient, client_addr }` by hand only in
//!   tests.
//! - `server::open(&AppState, &Reader, Section) -> Result<PatientRecord, RecordError>`: reads
//!   the types `Section` needs and audits the view (`RecordViewed`, detail = section name).
//!   Sections: `TestResults`, `Trends`, `Medications`, `Allergies`, `Immunizations`,
//!   `HealthIssues`, `Visits`, `Visit`, `Documents`, `Summary`, `Everything`.
//! - `server::document(&AppState, &Reader, &ItemId) -> Result<Option<DocumentContent>, _>`:
//!   a released document's bytes (inline, or fetched from the EHR); `None` for any id that is
//!   not one of the reader's documents (answer 404). Audited (`RecordDownloaded`). Serve it as
//!   an attachment with its `content_type`, `no-store`, and a sandboxing CSP (a document may
//!   be HTML).
//! - `server::download(&AppState, &Reader, keep: Fn(&PatientRecord, &ItemId) -> bool) ->
//!   Result<String, _>`: Download My Record as a FHIR R4 `collection` Bundle (the resources
//!   as the source gave them) of what `keep` lets through (the release rules). Audited.
//! - `server::read(&AppState, &PatientId, Section)`: the same without an audit entry, for work
//!   the patient did not ask for (new-result notices). Never for a page.
//! - The release rules (`release.rs`: results given in person by an administrator's code list,
//!   results the patient chose to see later) are applied in `server::read`, the one read every
//!   page, count, download and notice goes through: what they withhold is not in the
//!   `PatientRecord` at all, and `record.withheld` says what the page may tell (that some
//!   results are given in person; how many wait for the patient's choice). `notices.rs`: the
//!   PHI-free new-result notice, found by a periodic job (embedded source).
//! - On [`convert::PatientRecord`]: `test_results() -> TestResults` (panels with members,
//!   single results; lab and other results, not vitals), `vitals() -> Vec<TestResult>`,
//!   `trend_choices() -> Vec<TrendChoice>`, `trend(&TestKey) -> Option<Trend>`,
//!   `medications() -> Medications` (current, past), `allergies() -> Allergies`,
//!   `immunizations() -> Vec<Immunization>`, `health_issues() -> HealthIssues` (active,
//!   resolved), `visits() -> Vec<VisitSummary>`, `visit(&ItemId) -> Option<Visit>`,
//!   `documents() -> Vec<Document>`, `summary() -> HealthSummary`, `entry(&ItemId)`; and the
//!   field `incomplete` (some of the record could not be read: say the list may be
//!   incomplete). Lists are newest first unless their doc says otherwise.
//! - Ids in URLs are [`ItemId`]s (32 hex, opaque, stable; `ItemId::parse` the path segment).
//!   One that is not in the reader's record is simply not found: answer 404.
//! - Times are [`When`]: `text` in the clinic's time zone, `ms`/`day` for sorting and filters.
//! - [`RecordProblem::message`] is the page's text when the record cannot be shown; the
//!   cause is in the server's log (by kind, no content).
//!
//! # Where the record comes from
//! `PORTAL_RECORD_SOURCE=embedded` (default): `record_resources`, filled by
//! `server record import FILE` (`embedded::import`; a Bundle of any type, one resource or
//! NDJSON; checked whole, all or nothing). `remote`: the EHR at `PORTAL_FHIR_BASE_URL`
//! (`remote.rs`; token cached and shared, time-outs, paging, every query bound to the patient,
//! nothing stored). A portal patient's FHIR Patient: the link in `record_links`, set by staff
//! or found once by record number (`PORTAL_FHIR_MRN_SYSTEM`). See the README, "My Medical
//! Record: where the record comes from".

pub mod api;
pub mod chart;
pub mod hidden_codes;
pub mod model;
pub mod pages;
pub mod release;
pub mod staff;

#[cfg(feature = "ssr")]
pub mod cache;
#[cfg(feature = "ssr")]
pub mod convert;
#[cfg(feature = "ssr")]
pub mod embedded;
#[cfg(feature = "ssr")]
pub mod fhir;
#[cfg(feature = "ssr")]
pub mod notices;
#[cfg(feature = "ssr")]
pub mod pdf;
#[cfg(feature = "ssr")]
pub mod remote;
#[cfg(feature = "ssr")]
pub mod seen;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod settings;
#[cfg(feature = "ssr")]
pub mod smart;
#[cfg(feature = "ssr")]
pub mod source;

pub use model::*;
pub use pages::{
    AllergiesPage, DocumentsPage, HealthIssuesPage, HealthSummarySection, ImmunizationsPage, MedicationsPage, RecordPage, RecordVisitPage, RecordVisitsPage,
    TestResultsPage, TrendPage, TrendsPage,
};
pub use staff::{LinkFhirPatient, RecordLinkSection, UnlinkFhirPatient};

/// The demo clinic's record: (FHIR Patient id, transaction Bundle), synthetic (see
/// `demo/README.md`). Built into the server binary so `server demo` works wherever it is
/// deployed; never part of the browser build.
#[cfg(feature = "ssr")]
pub const DEMO_BUNDLES: [(&str, &str); 3] =
    [("alice", include_str!("demo/alice.json")), ("robert", include_str!("demo/robert.json")), ("carol", include_str!("demo/carol.json"))];
