//! The medical record as the pages show it: plain domain types, not FHIR-shaped, shared by the
//! server and the browser build (nothing here needs the server). The server builds them from
//! FHIR resources (`convert.rs`); the rules that decide what a patient reads (flags, ranges,
//! statuses, which medications are active) are here, with their tests.

use crate::dates::CalendarDate;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Ids and times

pub use crate::ids::ItemId;

/// How much of a moment the EHR gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Precision {
    Year,
    Month,
    Day,
    /// A date and a time of day.
    Time,
}

/// A moment or a date of the record, as the EHR gave it (a year, a month, a day, or an instant).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct When {
    /// For sorting and comparing: milliseconds since the epoch (a date: its first moment, UTC).
    pub ms: i64,
    /// The calendar day in the clinic's time zone (a year or month: its first day), for date
    /// filters.
    pub day: CalendarDate,
    pub precision: Precision,
    /// How it reads, in the clinic's time zone: `Nov 23, 2026, 9:35 AM`, `Nov 23, 2026`,
    /// `November 2026`, `1975`.
    pub text: String,
}

impl PartialOrd for When {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for When {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ms.cmp(&other.ms).then(self.precision.cmp(&other.precision))
    }
}

// ---------------------------------------------------------------------------------------------
// When the record cannot be shown, and the link to the EHR's patient

/// Why a page cannot show the record: what the server tells the page (the cause stays in the
/// server's log, by kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordProblem {
    /// The EHR did not answer in time, refused the portal, or answered with something that
    /// cannot be read.
    Unavailable,
    /// The portal does not know which patient of the EHR this is (staff link them).
    NotLinked,
}

impl RecordProblem {
    /// The words the page shows.
    pub fn message(self) -> &'static str {
        match self {
            RecordProblem::Unavailable => "Your record cannot be shown right now. Please try again later.",
            RecordProblem::NotLinked => "Your medical record is not available in the portal yet. Please call the office and ask them to connect it.",
        }
    }
}

/// How a portal patient was linked to their FHIR Patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkHow {
    /// Set by a member of staff on the patient's page.
    Staff,
    /// Found once by the record number (an identifier search) and remembered.
    RecordNumber,
}

impl LinkHow {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkHow::Staff => "staff",
            LinkHow::RecordNumber => "record-number",
        }
    }
    pub fn parse(s: &str) -> Option<LinkHow> {
        [LinkHow::Staff, LinkHow::RecordNumber].into_iter().find(|h| h.as_str() == s)
    }
}

/// The link of a portal patient to the EHR, as the staff patient page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLink {
    /// The FHIR Patient id in the EHR.
    pub fhir_patient_id: String,
    pub how: LinkHow,
    pub linked_at: i64,
    /// The member of staff who set it (their name); none when matched by record number.
    pub linked_by: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Values, ranges and flags

/// `<`, `<=`, `>=`, `>` before a value ("< 5 mg/L": below what the test can measure).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparator {
    Less,
    LessOrEqual,
    GreaterOrEqual,
    Greater,
}

impl Comparator {
    pub fn parse(s: &str) -> Option<Comparator> {
        match s {
            "<" => Some(Comparator::Less),
            "<=" => Some(Comparator::LessOrEqual),
            ">=" => Some(Comparator::GreaterOrEqual),
            ">" => Some(Comparator::Greater),
            _ => None,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Less => "<",
            Comparator::LessOrEqual => "≤",
            Comparator::GreaterOrEqual => "≥",
            Comparator::Greater => ">",
        }
    }
}

/// A measured amount: 8.6 %, 6.4 mmol/L, "< 5 mg/L".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Amount {
    pub value: f64,
    pub comparator: Option<Comparator>,
    /// As people read it (`mmol/L`, `mmHg`); none for a count without a unit.
    pub unit: Option<String>,
    /// The UCUM code when the EHR gave one (`mm[Hg]`): units are compared by it.
    pub unit_code: Option<String>,
}

impl Amount {
    pub fn plain(value: f64, unit: Option<&str>) -> Amount {
        Amount { value, comparator: None, unit: unit.map(str::to_string), unit_code: unit.map(str::to_string) }
    }

    /// `8.6 %`, `< 5 mg/L`, `120`.
    pub fn text(&self) -> String {
        let mut s = String::new();
        if let Some(c) = self.comparator {
            s.push_str(c.symbol());
            s.push(' ');
        }
        s.push_str(&number_text(self.value));
        if let Some(u) = self.unit.as_deref().filter(|u| !u.is_empty()) {
            s.push(' ');
            s.push_str(u);
        }
        s
    }

    /// Whether `other` is in the same unit, so the two can be compared. Units are matched by
    /// UCUM code when both have one, else by the unit as written; a value or a bound without any
    /// unit is taken to be in the other's.
    pub fn same_unit(&self, other: &Amount) -> bool {
        match (self.unit_code.as_deref().or(self.unit.as_deref()), other.unit_code.as_deref().or(other.unit.as_deref())) {
            (Some(a), Some(b)) => a == b || self.unit.as_deref().zip(other.unit.as_deref()).is_some_and(|(x, y)| x == y),
            _ => true,
        }
    }
}

/// A number as the lab wrote it, without float noise: 8.6, 120, 0.004.
pub fn number_text(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        // Shortest text that reads back as the same number.
        format!("{v}")
    }
}

/// What a result says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ResultValue {
    Amount(Amount),
    /// A word or phrase ("Yellow", "Negative", "Detected").
    Text(String),
    /// No value, with the reason when the EHR gave one ("Specimen unsatisfactory").
    Missing(Option<String>),
}

impl ResultValue {
    pub fn text(&self) -> String {
        match self {
            ResultValue::Amount(a) => a.text(),
            ResultValue::Text(t) => t.clone(),
            ResultValue::Missing(Some(why)) => format!("No value ({why})"),
            ResultValue::Missing(None) => "No value".into(),
        }
    }
    pub fn amount(&self) -> Option<&Amount> {
        match self {
            ResultValue::Amount(a) => Some(a),
            _ => None,
        }
    }
}

/// The range a result is expected in. Either bound may be missing ("< 200" has only a high,
/// "≥ 60" only a low); FHIR bounds are inclusive. `text` is the lab's own wording, when given
/// ("Negative", "< 200 mg/dL").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReferenceRange {
    pub low: Option<Amount>,
    pub high: Option<Amount>,
    pub text: Option<String>,
}

/// Where a value sits against a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    Below,
    Within,
    Above,
    /// Not comparable: no bound on the side that matters, other units, or a value such as
    /// "< 50" against a low of 40 (it could be either side).
    Unknown,
}

impl ReferenceRange {
    /// How the range reads: the lab's text when it gave one, else `4.0–5.6 %`, `≤ 200 mg/dL`,
    /// `≥ 60 mL/min/1.73m2`.
    pub fn text(&self) -> String {
        if let Some(t) = self.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            return t.to_string();
        }
        let unit = |a: &Amount| a.unit.as_deref().filter(|u| !u.is_empty()).map(|u| format!(" {u}")).unwrap_or_default();
        match (&self.low, &self.high) {
            (Some(l), Some(h)) => format!("{}–{}{}", number_text(l.value), number_text(h.value), unit(h)),
            (None, Some(h)) => format!("≤ {}{}", number_text(h.value), unit(h)),
            (Some(l), None) => format!("≥ {}{}", number_text(l.value), unit(l)),
            (None, None) => String::new(),
        }
    }

    /// Whether the range has a number to compare with (not only words).
    pub fn is_numeric(&self) -> bool {
        self.low.is_some() || self.high.is_some()
    }

    /// Where `value` sits. A value's comparator is honoured: "< 5" is below a low of 10, but
    /// "< 50" against a low of 40 is unknown.
    pub fn place(&self, value: &Amount) -> Placement {
        if !value.value.is_finite() {
            return Placement::Unknown;
        }
        let usable = |b: &Option<Amount>| b.as_ref().filter(|b| b.value.is_finite() && value.same_unit(b)).map(|b| b.value);
        let (low, high) = (usable(&self.low), usable(&self.high));
        if (self.low.is_some() && low.is_none()) || (self.high.is_some() && high.is_none()) || (low.is_none() && high.is_none()) {
            // A bound in another unit: comparing with the other bound alone could mislead.
            return Placement::Unknown;
        }
        let v = value.value;
        // The interval the true value lies in, from the comparator.
        let (min, max, min_open, max_open) = match value.comparator {
            None => (v, v, false, false),
            Some(Comparator::Less) => (f64::NEG_INFINITY, v, false, true),
            Some(Comparator::LessOrEqual) => (f64::NEG_INFINITY, v, false, false),
            Some(Comparator::Greater) => (v, f64::INFINITY, true, false),
            Some(Comparator::GreaterOrEqual) => (v, f64::INFINITY, false, false),
        };
        // Wholly below the low bound (inclusive bounds: equal to it is within).
        if let Some(l) = low {
            if max < l || (max_open && max <= l) {
                return Placement::Below;
            }
        }
        if let Some(h) = high {
            if min > h || (min_open && min >= h) {
                return Placement::Above;
            }
        }
        let above_low = low.is_none_or(|l| min >= l);
        let below_high = high.is_none_or(|h| max <= h);
        if above_low && below_high {
            Placement::Within
        } else {
            Placement::Unknown
        }
    }
}

/// What a result is flagged as, in words on every page (never colour alone). Derived from the
/// EHR's interpretation AND the reference range: the more serious of the two is shown, so a
/// value outside its range is never called normal and a lab's critical call is never softened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Flag {
    CriticalHigh,
    CriticalLow,
    /// Critical without a direction (the lab's "critical abnormal", e.g. a positive culture).
    Critical,
    High,
    Low,
    Abnormal,
    Normal,
    /// Nothing to say: no interpretation and no range to compare with.
    None,
}

impl Flag {
    /// How serious, for choosing between two flags: higher is more serious.
    pub fn severity(self) -> u8 {
        match self {
            Flag::None => 0,
            Flag::Normal => 1,
            Flag::Abnormal => 2,
            Flag::High | Flag::Low => 3,
            Flag::Critical => 4,
            Flag::CriticalHigh | Flag::CriticalLow => 5,
        }
    }

    /// The more serious of two flags. Between a critical call without direction and a range
    /// that says which way, the direction is kept: "critically high".
    pub fn worse(self, other: Flag) -> Flag {
        match (self, other) {
            (Flag::Critical, Flag::High) | (Flag::High, Flag::Critical) => Flag::CriticalHigh,
            (Flag::Critical, Flag::Low) | (Flag::Low, Flag::Critical) => Flag::CriticalLow,
            _ if other.severity() > self.severity() => other,
            _ => self,
        }
    }

    /// The words a page shows beside the value; none for `Flag::None`.
    pub fn words(self) -> Option<&'static str> {
        match self {
            Flag::CriticalHigh => Some("Critically high"),
            Flag::CriticalLow => Some("Critically low"),
            Flag::Critical => Some("Critical"),
            Flag::High => Some("High"),
            Flag::Low => Some("Low"),
            Flag::Abnormal => Some("Abnormal"),
            Flag::Normal => Some("Normal"),
            Flag::None => None,
        }
    }

    /// Outside the expected (anything but normal and none).
    pub fn is_abnormal(self) -> bool {
        !matches!(self, Flag::Normal | Flag::None)
    }

    pub fn is_critical(self) -> bool {
        matches!(self, Flag::CriticalHigh | Flag::CriticalLow | Flag::Critical)
    }

    /// A flag from one HL7 v3 ObservationInterpretation code (`H`, `HH`, `LL`, `A`, `N`, …);
    /// none for codes that say nothing about normal (`IND`, `E`, susceptibility codes).
    pub fn of_interpretation(code: &str) -> Option<Flag> {
        Some(match code {
            "HH" | "H>" => Flag::CriticalHigh,
            "LL" | "L<" => Flag::CriticalLow,
            "AA" => Flag::Critical,
            "H" | "HU" | "HX" | ">" => Flag::High,
            "L" | "LU" | "LX" | "<" => Flag::Low,
            "A" | "POS" | "DET" | "R" | "IE" | "WR" => Flag::Abnormal,
            "N" | "NEG" | "ND" | "NR" | "S" => Flag::Normal,
            _ => return None,
        })
    }

    /// The flag of a result: the more serious of what the EHR's interpretation codes say and
    /// where the value sits against its range.
    pub fn derive(interpretations: &[&str], value: &ResultValue, range: Option<&ReferenceRange>) -> Flag {
        let said = interpretations.iter().filter_map(|c| Flag::of_interpretation(c)).fold(Flag::None, Flag::worse);
        let measured = match (value.amount(), range) {
            (Some(v), Some(r)) => match r.place(v) {
                Placement::Below => Flag::Low,
                Placement::Above => Flag::High,
                Placement::Within => Flag::Normal,
                Placement::Unknown => Flag::None,
            },
            _ => Flag::None,
        };
        // A lab's "normal" against a value outside the range shown: the range shown wins, so
        // the page never reads "Normal" beside a number outside the printed range.
        said.worse(measured)
    }
}

// ---------------------------------------------------------------------------------------------
// Test results

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

// ---------------------------------------------------------------------------------------------
// Medications, allergies, immunizations, health issues

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MedicationStatus {
    Active,
    OnHold,
    Stopped,
    Completed,
    Cancelled,
    Draft,
    Unknown,
}

impl MedicationStatus {
    /// From a MedicationRequest status; `entered-in-error` has none (never shown).
    pub fn of_fhir(s: &str) -> Option<MedicationStatus> {
        Some(match s {
            "active" => MedicationStatus::Active,
            "on-hold" => MedicationStatus::OnHold,
            "stopped" => MedicationStatus::Stopped,
            "completed" => MedicationStatus::Completed,
            "cancelled" => MedicationStatus::Cancelled,
            "draft" => MedicationStatus::Draft,
            "entered-in-error" => return None,
            _ => MedicationStatus::Unknown,
        })
    }
    pub fn words(self) -> &'static str {
        match self {
            MedicationStatus::Active => "Active",
            MedicationStatus::OnHold => "On hold",
            MedicationStatus::Stopped => "Stopped",
            MedicationStatus::Completed => "Completed",
            MedicationStatus::Cancelled => "Cancelled",
            MedicationStatus::Draft => "Not yet ordered",
            MedicationStatus::Unknown => "Status not given",
        }
    }
    /// Taken now (or paused): on the "current medications" list.
    pub fn is_current(self) -> bool {
        matches!(self, MedicationStatus::Active | MedicationStatus::OnHold)
    }
}

/// A prescription (a MedicationRequest).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Medication {
    pub id: ItemId,
    pub name: String,
    pub status: MedicationStatus,
    /// How to take it, in the prescriber's words.
    pub instructions: Option<String>,
    pub prescriber: Option<String>,
    pub prescribed: Option<When>,
    pub start: Option<When>,
    pub end: Option<When>,
    /// Why it was stopped or changed ("Dose increased to 1000 mg").
    pub status_reason: Option<String>,
    /// What it treats.
    pub reasons: Vec<String>,
}

/// Current (active or on hold) and past medications, each newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Medications {
    pub current: Vec<Medication>,
    pub past: Vec<Medication>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllergyKind {
    Allergy,
    Intolerance,
    Unspecified,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Criticality {
    Low,
    High,
    Unable,
}

impl Criticality {
    pub fn words(self) -> &'static str {
        match self {
            Criticality::Low => "Low risk",
            Criticality::High => "High risk",
            Criticality::Unable => "Risk not assessed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    Mild,
    Moderate,
    Severe,
}

impl Severity {
    pub fn words(self) -> &'static str {
        match self {
            Severity::Mild => "Mild",
            Severity::Moderate => "Moderate",
            Severity::Severe => "Severe",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    /// What happened ("Hives", "Cough").
    pub manifestations: Vec<String>,
    pub severity: Option<Severity>,
    pub description: Option<String>,
}

/// An allergy or intolerance. Refuted and entered-in-error ones are not shown; inactive and
/// resolved ones are, marked so.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allergy {
    pub id: ItemId,
    pub substance: String,
    pub kind: AllergyKind,
    /// food, medication, environment, biologic.
    pub categories: Vec<String>,
    pub criticality: Option<Criticality>,
    pub reactions: Vec<Reaction>,
    /// Active (false: inactive or resolved).
    pub active: bool,
    pub onset: Option<When>,
    pub recorded: Option<When>,
    pub notes: Vec<String>,
}

/// The allergy list, active first. Empty when the EHR holds none for the patient: the page then
/// says "No known allergies on record", never an empty table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Allergies {
    pub items: Vec<Allergy>,
    /// The EHR's "no known allergies" statement (its words), when it recorded one and lists
    /// no active allergy: "No known allergies" is a finding; an empty list only says that
    /// none is on record.
    pub no_known: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImmunizationStatus {
    Given,
    NotGiven,
}

/// A vaccination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Immunization {
    pub id: ItemId,
    pub vaccine: String,
    pub status: ImmunizationStatus,
    /// Why not given, when not given.
    pub status_reason: Option<String>,
    pub date: Option<When>,
    pub dose: Option<String>,
    pub site: Option<String>,
    pub route: Option<String>,
    pub given_by: Vec<String>,
    pub location: Option<String>,
    pub lot_number: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IssueStatus {
    Active,
    Recurrence,
    Relapse,
    Inactive,
    Remission,
    Resolved,
    Unknown,
}

impl IssueStatus {
    pub fn of_fhir(s: &str) -> IssueStatus {
        match s {
            "active" => IssueStatus::Active,
            "recurrence" => IssueStatus::Recurrence,
            "relapse" => IssueStatus::Relapse,
            "inactive" => IssueStatus::Inactive,
            "remission" => IssueStatus::Remission,
            "resolved" => IssueStatus::Resolved,
            _ => IssueStatus::Unknown,
        }
    }
    pub fn words(self) -> &'static str {
        match self {
            IssueStatus::Active => "Active",
            IssueStatus::Recurrence => "Returned",
            IssueStatus::Relapse => "Relapse",
            IssueStatus::Inactive => "Inactive",
            IssueStatus::Remission => "In remission",
            IssueStatus::Resolved => "Resolved",
            IssueStatus::Unknown => "Status not given",
        }
    }
    /// On the "active" list (active, returned, relapse; an issue without status too: hiding
    /// it would be worse than listing it).
    pub fn is_active(self) -> bool {
        matches!(self, IssueStatus::Active | IssueStatus::Recurrence | IssueStatus::Relapse | IssueStatus::Unknown)
    }
}

/// A health issue (a Condition on the problem list, or a health concern).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthIssue {
    pub id: ItemId,
    pub name: String,
    pub status: IssueStatus,
    pub onset: Option<When>,
    pub resolved: Option<When>,
    pub recorded: Option<When>,
    pub notes: Vec<String>,
}

/// Health issues: active and resolved (or inactive, in remission), each newest onset first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthIssues {
    pub active: Vec<HealthIssue>,
    pub resolved: Vec<HealthIssue>,
}

// ---------------------------------------------------------------------------------------------
// Visits and documents

/// A document of the record (a DocumentReference released to the patient).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub id: ItemId,
    pub title: String,
    /// The kind of document ("After Visit Summary", "Laboratory report").
    pub kind: String,
    pub date: Option<When>,
    pub authors: Vec<String>,
    /// `application/pdf`, `text/plain`…
    pub content_type: String,
    /// Bytes, when the EHR said.
    pub size: Option<u64>,
    pub visit: Option<ItemId>,
    /// An after-visit summary (LOINC 34133-9 or so named).
    pub after_visit_summary: bool,
}

/// A document's content, to show or download.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocumentContent {
    pub content_type: String,
    /// A file name for the download: the document's title, made safe, with an extension.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitStatus {
    Planned,
    InProgress,
    Finished,
    Cancelled,
    Unknown,
}

impl VisitStatus {
    pub fn of_fhir(s: &str) -> Option<VisitStatus> {
        Some(match s {
            "planned" | "arrived" | "triaged" => VisitStatus::Planned,
            "in-progress" | "onleave" => VisitStatus::InProgress,
            "finished" => VisitStatus::Finished,
            "cancelled" => VisitStatus::Cancelled,
            "entered-in-error" => return None,
            _ => VisitStatus::Unknown,
        })
    }
}

/// A visit as the list shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitSummary {
    pub id: ItemId,
    pub start: Option<When>,
    pub end: Option<When>,
    /// "Office visit, established patient".
    pub kind: String,
    /// ambulatory, emergency, inpatient, virtual…
    pub setting: Option<String>,
    pub status: VisitStatus,
    /// Where: the location, else the organisation.
    pub place: Option<String>,
    pub clinicians: Vec<String>,
    /// Why the patient came.
    pub reasons: Vec<String>,
}

/// One visit with everything the patient may read of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub summary: VisitSummary,
    pub diagnoses: Vec<String>,
    /// Vital signs taken at the visit.
    pub vitals: Vec<TestResult>,
    /// Lab panels and single results of the visit.
    pub results: TestResults,
    /// Its after-visit summary and the notes released to the patient.
    pub documents: Vec<Document>,
}

// ---------------------------------------------------------------------------------------------
// The whole record

/// The Health Summary of the home page: active problems, allergies, current medications, and
/// the newest results (the page decides what is "new" from what the patient has seen).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthSummary {
    pub active_issues: Vec<HealthIssue>,
    pub allergies: Vec<Allergy>,
    pub current_medications: Vec<Medication>,
    /// The results released in the last 30 days, newest first.
    pub recent_results: Vec<TestResult>,
}

#[cfg(test)]
mod tests;
