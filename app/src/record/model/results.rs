//! Test results: results and panels, their statuses and kinds, and trends over time.

use super::*;

/// Where a result stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResultStatus {
    /// Ordered, no result yet.
    Pending,
    Preliminary,
    Final,
    Corrected,
    Amended,
    Cancelled,
    Unknown,
}

impl ResultStatus {
    /// From a FHIR Observation or DiagnosticReport status. `entered-in-error` has none: such a
    /// result is never shown.
    pub fn of_fhir(s: &str) -> Option<ResultStatus> {
        Some(match s {
            "registered" | "partial" => ResultStatus::Pending,
            "preliminary" => ResultStatus::Preliminary,
            "final" | "appended" => ResultStatus::Final,
            "corrected" => ResultStatus::Corrected,
            "amended" => ResultStatus::Amended,
            "cancelled" => ResultStatus::Cancelled,
            "entered-in-error" => return None,
            _ => ResultStatus::Unknown,
        })
    }

    pub fn words(self) -> &'static str {
        match self {
            ResultStatus::Pending => "Pending",
            ResultStatus::Preliminary => "Preliminary",
            ResultStatus::Final => "Final",
            ResultStatus::Corrected => "Corrected",
            ResultStatus::Amended => "Amended",
            ResultStatus::Cancelled => "Cancelled",
            ResultStatus::Unknown => "Status not given",
        }
    }
}

/// What kind of result.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResultKind {
    Laboratory,
    VitalSigns,
    Imaging,
    /// Another category, as the EHR named it.
    Other(String),
}

impl ResultKind {
    pub fn words(&self) -> &str {
        match self {
            ResultKind::Laboratory => "Lab",
            ResultKind::VitalSigns => "Vital signs",
            ResultKind::Imaging => "Imaging",
            ResultKind::Other(s) => s,
        }
    }
}

/// The test a result is of, for grouping one test's results over time: the first coding of the
/// result's code (`http://loinc.org|4548-4`), or its text when it has no coding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TestKey(pub String);

/// One part of a result measured in parts (blood pressure: systolic and diastolic).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultPart {
    pub name: String,
    pub key: TestKey,
    pub value: ResultValue,
    pub range: Option<ReferenceRange>,
    pub flag: Flag,
}

/// One result (an Observation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    pub id: ItemId,
    pub name: String,
    pub key: TestKey,
    pub kind: ResultKind,
    pub value: ResultValue,
    /// Blood pressure and other results in parts; `value` is then `Missing(None)`.
    pub parts: Vec<ResultPart>,
    pub range: Option<ReferenceRange>,
    /// The result's flag; for a result in parts, the most serious of its parts' too.
    pub flag: Flag,
    pub status: ResultStatus,
    /// When the specimen was taken or the measurement made.
    pub collected: Option<When>,
    /// When the result was released.
    pub resulted: Option<When>,
    /// Who ordered it (from its panel's report when the result does not say).
    pub ordered_by: Option<String>,
    /// Who performed it (a laboratory, a nurse).
    pub performed_by: Vec<String>,
    /// The lab's and clinician's comments.
    pub comments: Vec<String>,
    /// The panel this result belongs to, if any.
    pub panel: Option<ItemId>,
    /// The visit it was taken at, if any.
    pub visit: Option<ItemId>,
}

impl TestResult {
    /// The value for a trend: the amount, when the result has one and it is plain (no "<").
    pub fn number(&self) -> Option<f64> {
        self.value.amount().filter(|a| a.comparator.is_none() && a.value.is_finite()).map(|a| a.value)
    }
}

/// A panel (a DiagnosticReport, or an Observation grouping others): a named set of results
/// ordered together (lipid panel, CBC).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Panel {
    pub id: ItemId,
    pub name: String,
    pub kind: ResultKind,
    pub status: ResultStatus,
    pub collected: Option<When>,
    pub resulted: Option<When>,
    pub ordered_by: Option<String>,
    /// The performing laboratory (and other performers but the orderer).
    pub performed_by: Vec<String>,
    /// Who interpreted the results (a pathologist).
    pub interpreted_by: Vec<String>,
    /// The report's conclusion, in the lab's or clinician's words.
    pub conclusion: Option<String>,
    /// Its results, in the report's order.
    pub results: Vec<TestResult>,
    /// The most serious flag among its results.
    pub flag: Flag,
    pub visit: Option<ItemId>,
}

/// The Test Results page's data: panels with their members, and results that belong to no
/// panel, each list newest first (by when collected, else resulted).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TestResults {
    pub panels: Vec<Panel>,
    pub single: Vec<TestResult>,
}

impl TestResults {
    /// Every result, in or out of a panel, newest first.
    pub fn all(&self) -> Vec<&TestResult> {
        let mut all: Vec<&TestResult> = self.panels.iter().flat_map(|p| p.results.iter()).chain(self.single.iter()).collect();
        all.sort_by(|a, b| newest_first(a.collected.as_ref().or(a.resulted.as_ref()), b.collected.as_ref().or(b.resulted.as_ref())));
        all
    }

    /// A result by its id (in or out of a panel).
    pub fn result(&self, id: &ItemId) -> Option<&TestResult> {
        self.panels.iter().flat_map(|p| p.results.iter()).chain(self.single.iter()).find(|r| &r.id == id)
    }

    pub fn panel(&self, id: &ItemId) -> Option<&Panel> {
        self.panels.iter().find(|p| &p.id == id)
    }
}

/// Orders two optional times newest first; items without a time go last.
pub fn newest_first(a: Option<&When>, b: Option<&When>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.cmp(a),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
}

/// One point of a trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub at: When,
    pub value: f64,
    pub flag: Flag,
    pub result: ItemId,
}

/// One line of a trend chart (blood pressure has two: systolic and diastolic).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub unit: Option<String>,
    /// Oldest first.
    pub points: Vec<TrendPoint>,
    /// The reference band of the newest result that had a numeric range.
    pub range: Option<ReferenceRange>,
}

/// A numeric test over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub key: TestKey,
    pub name: String,
    pub kind: ResultKind,
    pub series: Vec<Series>,
}

/// A test that can be drawn as a trend: its name and how many numeric values it has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrendChoice {
    pub key: TestKey,
    pub name: String,
    pub kind: ResultKind,
    pub values: usize,
    pub latest: Option<When>,
}
