//! The server functions of the patient's record pages (SPEC R-REC-1, R-REC-4, R-REC-6), and
//! what each gives the page. Each starts with the signed-in patient (`Reader::current`: their
//! own record only) and reads through one audited call (`server::open`); an id that is not in
//! the reader's own record answers 404. The record cannot be shown (EHR down, no link): the
//! page gets the `RecordProblem` and says so, with nothing of the cause.
//!
//! Every endpoint here is in `crate::access::table::FUNCTIONS` with `Gate::PATIENT`.

use super::model::*;
use crate::dates::CalendarDate;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What a record page gets: the data, or why the record cannot be shown.
pub type Shown<T> = Result<T, RecordProblem>;

/// A part of the record with the source's "some of it could not be read" (the page then says
/// the list may be incomplete).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part<T> {
    pub data: T,
    pub incomplete: bool,
}

// ---------------------------------------------------------------------------------------------
// Test Results' filter (non-personal words only in the address: kind=lab&from=2024-01-01)

/// The kinds of result a patient can filter by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KindFilter {
    Lab,
    Imaging,
    Other,
}

impl KindFilter {
    pub const ALL: [KindFilter; 3] = [KindFilter::Lab, KindFilter::Imaging, KindFilter::Other];

    pub fn code(self) -> &'static str {
        match self {
            KindFilter::Lab => "lab",
            KindFilter::Imaging => "imaging",
            KindFilter::Other => "other",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            KindFilter::Lab => "Lab tests",
            KindFilter::Imaging => "Imaging",
            KindFilter::Other => "Other tests",
        }
    }

    pub fn parse(s: &str) -> Option<KindFilter> {
        KindFilter::ALL.into_iter().find(|k| k.code() == s)
    }

    pub fn matches(self, kind: &ResultKind) -> bool {
        match self {
            KindFilter::Lab => *kind == ResultKind::Laboratory,
            KindFilter::Imaging => *kind == ResultKind::Imaging,
            KindFilter::Other => matches!(kind, ResultKind::Other(_) | ResultKind::VitalSigns),
        }
    }
}

/// The Test Results filter as the page's GET form sent it, parsed once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultFilter {
    pub kind: Option<KindFilter>,
    /// Collected (else resulted) on or after this day.
    pub from: Option<CalendarDate>,
    /// … and on or before this day.
    pub to: Option<CalendarDate>,
    /// A date that could not be read was left out (the page says so).
    pub unreadable: bool,
}

impl ResultFilter {
    pub fn parse(kind: Option<&str>, from: Option<&str>, to: Option<&str>) -> ResultFilter {
        let mut unreadable = false;
        let mut date = |s: Option<&str>| {
            let s = s.map(str::trim).filter(|s| !s.is_empty())?;
            let d = CalendarDate::parse(s);
            unreadable |= d.is_none();
            d
        };
        let (from, to) = (date(from), date(to));
        ResultFilter { kind: kind.and_then(KindFilter::parse), from, to, unreadable }
    }

    pub fn is_empty(&self) -> bool {
        self.kind.is_none() && self.from.is_none() && self.to.is_none()
    }

    /// Whether an item of `kind` taken `when` is shown. With a date asked for, an item without
    /// a date is not (it cannot be said to be in the period).
    pub fn keeps(&self, kind: &ResultKind, when: Option<&When>) -> bool {
        if self.kind.is_some_and(|k| !k.matches(kind)) {
            return false;
        }
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(day) = when.map(|w| w.day) else { return false };
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }

    /// The results the filter keeps: a panel by its own kind and date (with all its members),
    /// a single result by its own.
    pub fn apply(&self, results: TestResults) -> TestResults {
        TestResults {
            panels: results.panels.into_iter().filter(|p| self.keeps(&p.kind, p.collected.as_ref().or(p.resulted.as_ref()))).collect(),
            single: results.single.into_iter().filter(|r| self.keeps(&r.kind, r.collected.as_ref().or(r.resulted.as_ref()))).collect(),
        }
    }
}

/// Test Results shows this many items (panels and single results) a page, newest first: a
/// record of many years stays quick to load and to read (and to check with a screen reader).
pub const RESULTS_PER_PAGE: usize = 20;

/// Page `page` (from 1; past the last: the last) of `results`, newest first across panels and
/// single results, and how many pages there are (at least 1).
pub fn page_of(results: TestResults, page: usize) -> (TestResults, usize, usize) {
    let mut order: Vec<(Option<When>, bool, usize)> = results
        .panels
        .iter()
        .enumerate()
        .map(|(i, p)| (p.collected.clone().or(p.resulted.clone()), true, i))
        .chain(results.single.iter().enumerate().map(|(i, r)| (r.collected.clone().or(r.resulted.clone()), false, i)))
        .collect();
    order.sort_by(|a, b| newest_first(a.0.as_ref(), b.0.as_ref()));
    let pages = order.len().div_ceil(RESULTS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let shown: Vec<(bool, usize)> = order.into_iter().skip((page - 1) * RESULTS_PER_PAGE).take(RESULTS_PER_PAGE).map(|(_, p, i)| (p, i)).collect();
    let keep = |panel: bool, i: usize| shown.contains(&(panel, i));
    let panels = results.panels.into_iter().enumerate().filter(|(i, _)| keep(true, *i)).map(|(_, p)| p).collect();
    let single = results.single.into_iter().enumerate().filter(|(i, _)| keep(false, *i)).map(|(_, r)| r).collect();
    (TestResults { panels, single }, page, pages)
}

impl ResultFilter {
    /// The address of page `page` of Test Results under this filter (its words only).
    pub fn href(&self, page: usize) -> String {
        let mut q = Vec::new();
        if let Some(k) = self.kind {
            q.push(format!("kind={}", k.code()));
        }
        if let Some(f) = self.from {
            q.push(format!("from={f}"));
        }
        if let Some(t) = self.to {
            q.push(format!("to={t}"));
        }
        if page > 1 {
            q.push(format!("page={page}"));
        }
        if q.is_empty() {
            "/record/results".into()
        } else {
            format!("/record/results?{}", q.join("&"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the pages get

/// Test Results: the (filtered) results, which of them are new to the patient, and the trend
/// page of each test that has one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultsView {
    pub results: TestResults,
    /// Results and panels shown here that the patient had not seen before this look.
    pub new: Vec<ItemId>,
    /// For each test with numeric values: its trend's id (for `/record/trends/:id`).
    pub trends: Vec<(TestKey, ItemId)>,
    pub filter: ResultFilter,
    /// This page (from 1) and how many there are.
    pub page: usize,
    pub pages: usize,
    pub incomplete: bool,
    /// What the release rules withheld (the page says that some results are given in person,
    /// and how many wait for the patient's own choice; never which).
    pub withheld: super::release::Withheld,
}

impl ResultsView {
    pub fn is_new(&self, id: &ItemId) -> bool {
        self.new.contains(id)
    }
    pub fn trend_of(&self, key: &TestKey) -> Option<&ItemId> {
        self.trends.iter().find(|(k, _)| k == key).map(|(_, id)| id)
    }
}

/// A test on the trends chooser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendLink {
    pub id: ItemId,
    pub name: String,
    pub kind: ResultKind,
    pub values: usize,
    pub latest: Option<When>,
}

/// The Health Summary of the home page, with the recent results the patient has not seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SummaryView {
    pub summary: HealthSummary,
    pub new_results: usize,
}

// ---------------------------------------------------------------------------------------------
// Server side

#[cfg(feature = "ssr")]
mod ssr {
    use super::super::convert::PatientRecord;
    use super::super::server::{self, Reader, Section};
    use super::*;
    use crate::state::{app_state, AppState};

    /// The signed-in patient's record, the part `section` shows, audited; or why it cannot be
    /// shown.
    pub async fn opened(section: Section) -> Result<Shown<(PatientRecord, Reader, AppState)>, AppError> {
        let state = app_state()?;
        let reader = Reader::current(&state).await?;
        match server::open(&state, &reader, section).await {
            Ok(record) => Ok(Ok((record, reader, state))),
            Err(e) => match e.problem() {
                Some(problem) => Ok(Err(problem)),
                None => Err(e.into()),
            },
        }
    }

    /// An id from the address, or 404 (our own shape only).
    pub fn item_id(id: &str) -> Result<ItemId, AppError> {
        ItemId::parse(id).ok_or_else(|| crate::platform::request::refuse(AppError::NotFound))
    }

    pub fn not_found() -> AppError {
        crate::platform::request::refuse(AppError::NotFound)
    }

    /// Each test with numeric values and its trend id.
    pub fn trend_links(record: &PatientRecord, state: &AppState) -> Vec<TrendLink> {
        let key = state.record.item_key();
        record
            .trend_choices()
            .into_iter()
            .map(|c| TrendLink { id: key.trend_id(&c.key), name: c.name, kind: c.kind, values: c.values, latest: c.latest })
            .collect()
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{item_id, not_found, opened, trend_links};

/// Unwraps `opened`: the record, or the page's "cannot be shown" answer.
#[allow(unused_macros)]
macro_rules! open_or_say {
    ($section:expr) => {
        match opened($section).await? {
            Ok(x) => x,
            Err(problem) => return Ok(Err(problem)),
        }
    };
}

/// Test Results, newest first, filtered by kind and dates (the GET form's words). What is
/// shown is remembered as seen; what was not seen before is marked "New" this once.
#[server(endpoint = "record/results")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_results(kind: Option<String>, from: Option<String>, to: Option<String>, page: Option<String>) -> Result<Shown<ResultsView>, AppError> {
    use super::server::Section;
    let filter = ResultFilter::parse(kind.as_deref(), from.as_deref(), to.as_deref());
    let page = page.and_then(|p| p.trim().parse::<usize>().ok()).unwrap_or(1);
    let (record, reader, state) = open_or_say!(Section::TestResults);
    let every = record.test_results();
    let choices = record.trend_choices_with(&every);
    let (results, page, pages) = page_of(filter.apply(every), page);
    let shown: Vec<&ItemId> = results.panels.iter().map(|p| &p.id).chain(results.all().into_iter().map(|r| &r.id)).collect();
    let new = super::seen::unseen(&state.db, &reader.patient, &shown).await?;
    let mut new: Vec<ItemId> = new.into_iter().collect();
    new.sort();
    // Only what was new is written: a page looked at again writes nothing.
    super::seen::mark_seen(&state.db, &reader.patient, &new.iter().collect::<Vec<_>>(), state.clock.now_ms()).await?;
    let key = state.record.item_key();
    let trends = choices.into_iter().map(|c| (c.key.clone(), key.trend_id(&c.key))).collect();
    Ok(Ok(ResultsView { results, new, trends, filter, page, pages, incomplete: record.incomplete, withheld: record.withheld.clone() }))
}

/// The tests that can be drawn over time.
#[server(endpoint = "record/trends")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_trends() -> Result<Shown<Part<Vec<TrendLink>>>, AppError> {
    use super::server::Section;
    let (record, _, state) = open_or_say!(Section::Trends);
    Ok(Ok(Part { data: trend_links(&record, &state), incomplete: record.incomplete }))
}

/// One test over time, by its trend id.
#[server(endpoint = "record/trend")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_trend(id: String) -> Result<Shown<Part<Trend>>, AppError> {
    use super::server::Section;
    let id = item_id(&id)?;
    let (record, _, state) = open_or_say!(Section::Trends);
    let key = state.record.item_key();
    let every = record.test_results();
    let test = record.trend_choices_with(&every).into_iter().find(|c| key.trend_id(&c.key) == id).ok_or_else(not_found)?;
    let trend = record.trend_with(&every, &test.key).ok_or_else(not_found)?;
    Ok(Ok(Part { data: trend, incomplete: record.incomplete }))
}

#[server(endpoint = "record/medications")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_medications() -> Result<Shown<Part<Medications>>, AppError> {
    use super::server::Section;
    let (record, _, _) = open_or_say!(Section::Medications);
    Ok(Ok(Part { data: record.medications(), incomplete: record.incomplete }))
}

#[server(endpoint = "record/allergies")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_allergies() -> Result<Shown<Part<Allergies>>, AppError> {
    use super::server::Section;
    let (record, _, _) = open_or_say!(Section::Allergies);
    Ok(Ok(Part { data: record.allergies(), incomplete: record.incomplete }))
}

#[server(endpoint = "record/immunizations")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_immunizations() -> Result<Shown<Part<Vec<Immunization>>>, AppError> {
    use super::server::Section;
    let (record, _, _) = open_or_say!(Section::Immunizations);
    Ok(Ok(Part { data: record.immunizations(), incomplete: record.incomplete }))
}

#[server(endpoint = "record/health-issues")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_health_issues() -> Result<Shown<Part<HealthIssues>>, AppError> {
    use super::server::Section;
    let (record, _, _) = open_or_say!(Section::HealthIssues);
    Ok(Ok(Part { data: record.health_issues(), incomplete: record.incomplete }))
}

#[server(endpoint = "record/visits")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_visits() -> Result<Shown<Part<Vec<VisitSummary>>>, AppError> {
    use super::server::Section;
    let (record, _, _) = open_or_say!(Section::Visits);
    Ok(Ok(Part { data: record.visits(), incomplete: record.incomplete }))
}

/// One visit: where, who, diagnoses, vitals, results and the documents released.
#[server(endpoint = "record/visit")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_visit(id: String) -> Result<Shown<Part<Visit>>, AppError> {
    use super::server::Section;
    let id = item_id(&id)?;
    let (record, _, _) = open_or_say!(Section::Visit);
    let visit = record.visit(&id).ok_or_else(not_found)?;
    Ok(Ok(Part { data: visit, incomplete: record.incomplete }))
}

#[server(endpoint = "record/documents")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_documents() -> Result<Shown<Part<Vec<Document>>>, AppError> {
    use super::server::Section;
    let (record, _, _) = open_or_say!(Section::Documents);
    Ok(Ok(Part { data: record.documents(), incomplete: record.incomplete }))
}

/// The home page's Health Summary. Looking at it does not count as seeing the results: they
/// stay "New" until Test Results shows them.
#[server(endpoint = "record/summary")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_summary() -> Result<Shown<SummaryView>, AppError> {
    use super::server::Section;
    let (record, reader, state) = open_or_say!(Section::Summary);
    let summary = record.summary();
    let ids: Vec<&ItemId> = summary.recent_results.iter().map(|r| &r.id).collect();
    let new_results = super::seen::unseen(&state.db, &reader.patient, &ids).await?.len();
    Ok(Ok(SummaryView { summary, new_results }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn when(y: i32, m: u32, d: u32) -> When {
        let day = CalendarDate::new(y, m, d).unwrap();
        When { ms: day.start_ms(), day, precision: Precision::Day, text: day.long() }
    }

    #[test]
    fn the_filter_reads_only_its_own_words_and_says_when_a_date_could_not_be_read() {
        let f = ResultFilter::parse(Some("lab"), Some("2024-01-01"), Some(""));
        assert_eq!((f.kind, f.from, f.to, f.unreadable), (Some(KindFilter::Lab), CalendarDate::new(2024, 1, 1), None, false));
        let f = ResultFilter::parse(Some("<script>"), Some("yesterday"), None);
        assert_eq!((f.kind, f.from, f.unreadable), (None, None, true));
        assert!(f.is_empty());
    }

    fn single(id: u8, at: When) -> TestResult {
        TestResult {
            id: ItemId::parse(&format!("{id:032x}")).unwrap(),
            name: "Glucose".into(),
            key: TestKey("text|Glucose".into()),
            kind: ResultKind::Laboratory,
            value: ResultValue::Text("x".into()),
            parts: Vec::new(),
            range: None,
            flag: Flag::None,
            status: ResultStatus::Final,
            collected: Some(at),
            resulted: None,
            ordered_by: None,
            performed_by: Vec::new(),
            comments: Vec::new(),
            panel: None,
            visit: None,
        }
    }

    #[test]
    fn pages_run_newest_first_across_panels_and_single_results() {
        // 45 single results a day apart, and one panel on the newest day but one.
        let mut results = TestResults::default();
        for i in 0..45u8 {
            results.single.push(single(i, when(2026, 1, 1 + (i as u32 % 28)).clone()));
        }
        results.single.iter_mut().enumerate().for_each(|(i, r)| {
            let day = CalendarDate::of_ms(CalendarDate::new(2026, 1, 1).unwrap().start_ms() + i as i64 * 86_400_000);
            r.collected = Some(When { ms: day.start_ms(), day, precision: Precision::Day, text: day.long() });
        });
        let panel_day = results.single[43].collected.clone().unwrap();
        results.panels.push(Panel {
            id: ItemId::parse(&"f".repeat(32)).unwrap(),
            name: "Lipid panel".into(),
            kind: ResultKind::Laboratory,
            status: ResultStatus::Final,
            collected: Some(panel_day),
            resulted: None,
            ordered_by: None,
            performed_by: Vec::new(),
            interpreted_by: Vec::new(),
            conclusion: None,
            results: Vec::new(),
            flag: Flag::None,
            visit: None,
        });
        let (first, page, pages) = page_of(results.clone(), 1);
        assert_eq!((page, pages), (1, 3), "46 items, 20 a page");
        assert_eq!(first.panels.len() + first.single.len(), RESULTS_PER_PAGE);
        assert_eq!(first.panels.len(), 1, "the panel is among the newest");
        assert!(first.single.iter().any(|r| r.id == results.single[44].id), "the newest result is on page 1");
        let (last, page, _) = page_of(results.clone(), 99);
        assert_eq!(page, 3, "a page past the end is the last");
        assert_eq!(last.single.len(), 6);
        assert!(last.single.iter().any(|r| r.id == results.single[0].id), "the oldest is on the last page");
        assert_eq!(page_of(TestResults::default(), 1).2, 1, "no results: one (empty) page");
        let f = ResultFilter::parse(Some("lab"), Some("2024-01-01"), None);
        assert_eq!(f.href(2), "/record/results?kind=lab&from=2024-01-01&page=2");
        assert_eq!(ResultFilter::default().href(1), "/record/results");
    }

    #[test]
    fn dates_are_inclusive_and_an_undated_item_is_not_in_a_period() {
        let f = ResultFilter::parse(None, Some("2024-01-01"), Some("2024-12-31"));
        assert!(f.keeps(&ResultKind::Laboratory, Some(&when(2024, 1, 1))));
        assert!(f.keeps(&ResultKind::Laboratory, Some(&when(2024, 12, 31))));
        assert!(!f.keeps(&ResultKind::Laboratory, Some(&when(2025, 1, 1))));
        assert!(!f.keeps(&ResultKind::Laboratory, None));
        assert!(ResultFilter::default().keeps(&ResultKind::Laboratory, None), "no filter: everything");
        let labs = ResultFilter::parse(Some("lab"), None, None);
        assert!(!labs.keeps(&ResultKind::Imaging, Some(&when(2024, 1, 1))));
    }
}
