//! Values, ranges and flags: how a measured value, its reference range and its flag read.

use super::*;

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
