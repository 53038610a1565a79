//! Our own FHIR R4 (4.0.1) types: only the elements the portal shows, read with serde. Unknown
//! elements are ignored (an EHR sends far more than we show), so a resource parses as long as
//! what we read has the right shape. Server only: no FHIR type reaches the browser build; pages
//! get the domain types of `model.rs`.
//!
//! `parse` reads one resource from its JSON text; `check` says which element a resource lacks
//! that the portal needs (its subject, its code, its status…).

use serde::Deserialize;
use serde_json::value::RawValue;

// The resources themselves; re-exported, so `fhir::Observation` and the like keep their paths.
mod resources;

pub use resources::*;

// ---------------------------------------------------------------------------------------------
// Data types

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct CodeableConcept {
    #[serde(default)]
    pub coding: Vec<Coding>,
    pub text: Option<String>,
}

impl CodeableConcept {
    /// What a person reads: the text, else the first coding's display, else its code.
    pub fn label(&self) -> Option<&str> {
        fn nonempty(s: &Option<String>) -> Option<&str> {
            s.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        nonempty(&self.text).or_else(|| self.coding.iter().find_map(|c| nonempty(&c.display))).or_else(|| self.coding.iter().find_map(|c| nonempty(&c.code)))
    }

    /// Whether one of its codings is `code` in `system`.
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.coding.iter().any(|c| c.system.as_deref() == Some(system) && c.code.as_deref() == Some(code))
    }

    /// Every code, whatever the system.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.coding.iter().filter_map(|c| c.code.as_deref())
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Reference {
    pub reference: Option<String>,
    pub display: Option<String>,
}

impl Reference {
    /// The `(type, id)` a reference points to: `Type/id`, an absolute URL ending in `Type/id`,
    /// either with `/_history/n` after it. `None` for contained (`#x`), `urn:` and odd
    /// references.
    pub fn target(&self) -> Option<(&str, &str)> {
        target_of(self.reference.as_deref()?)
    }
}

/// See [`Reference::target`].
pub fn target_of(reference: &str) -> Option<(&str, &str)> {
    let r = reference.split(['?', '#']).next().unwrap_or_default();
    if reference.starts_with('#') || r.starts_with("urn:") {
        return None;
    }
    let r = match r.find("/_history/") {
        Some(i) => &r[..i],
        None => r,
    };
    let mut parts = r.rsplit('/');
    let id = parts.next()?;
    let kind = parts.next()?;
    (is_type_name(kind) && is_resource_id(id)).then_some((kind, id))
}

/// A FHIR resource type name: a capital letter, then letters.
fn is_type_name(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_uppercase()) && s.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A FHIR id: 1 to 64 of `A-Z a-z 0-9 - .`.
pub fn is_resource_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Quantity {
    pub value: Option<f64>,
    pub comparator: Option<String>,
    pub unit: Option<String>,
    pub system: Option<String>,
    pub code: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Period {
    pub start: Option<String>,
    pub end: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Annotation {
    pub text: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct Identifier {
    pub system: Option<String>,
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct HumanName {
    pub text: Option<String>,
    pub family: Option<String>,
    #[serde(default)]
    pub given: Vec<String>,
    #[serde(default)]
    pub prefix: Vec<String>,
    #[serde(default)]
    pub suffix: Vec<String>,
}

impl HumanName {
    /// "Dr. Morgan Lee": the text, else prefix, given names, family name and suffix.
    pub fn display(&self) -> Option<String> {
        if let Some(t) = self.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            return Some(t.to_string());
        }
        let parts: Vec<&str> =
            self.prefix.iter().chain(self.given.iter()).map(String::as_str).chain(self.family.as_deref()).map(str::trim).filter(|s| !s.is_empty()).collect();
        let mut name = parts.join(" ");
        for s in self.suffix.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
            name.push_str(", ");
            name.push_str(s);
        }
        (!name.is_empty()).then_some(name)
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub content_type: Option<String>,
    /// Base64.
    pub data: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    pub size: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Bundles

#[derive(Debug, Deserialize)]
pub struct BundleLink {
    pub relation: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BundleSearch {
    pub mode: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct BundleRequest {
    pub method: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    pub full_url: Option<String>,
    /// The resource as its JSON text, parsed with [`parse`] when needed.
    pub resource: Option<Box<RawValue>>,
    pub search: Option<BundleSearch>,
    pub request: Option<BundleRequest>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub resource_type: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub total: Option<u64>,
    #[serde(default)]
    pub link: Vec<BundleLink>,
    #[serde(default)]
    pub entry: Vec<BundleEntry>,
}

impl Bundle {
    /// The URL of the next page of a search, if any.
    pub fn next(&self) -> Option<&str> {
        self.link.iter().find(|l| l.relation.as_deref() == Some("next")).and_then(|l| l.url.as_deref())
    }
}

impl BundleEntry {
    /// Whether a search Bundle's entry is a match (or an `_include`d resource), not an
    /// OperationOutcome the server added about the search (`search.mode: outcome`).
    pub fn is_result(&self) -> bool {
        !matches!(self.search.as_ref().and_then(|s| s.mode.as_deref()), Some("outcome"))
    }
}

// ---------------------------------------------------------------------------------------------
// One resource of any supported type

/// The resource types the portal reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    Patient,
    Observation,
    DiagnosticReport,
    MedicationRequest,
    Medication,
    AllergyIntolerance,
    Immunization,
    Condition,
    Encounter,
    DocumentReference,
    Practitioner,
    Organization,
    Location,
}

impl ResourceType {
    pub const ALL: [ResourceType; 13] = [
        ResourceType::Patient,
        ResourceType::Observation,
        ResourceType::DiagnosticReport,
        ResourceType::MedicationRequest,
        ResourceType::Medication,
        ResourceType::AllergyIntolerance,
        ResourceType::Immunization,
        ResourceType::Condition,
        ResourceType::Encounter,
        ResourceType::DocumentReference,
        ResourceType::Practitioner,
        ResourceType::Organization,
        ResourceType::Location,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Patient => "Patient",
            ResourceType::Observation => "Observation",
            ResourceType::DiagnosticReport => "DiagnosticReport",
            ResourceType::MedicationRequest => "MedicationRequest",
            ResourceType::Medication => "Medication",
            ResourceType::AllergyIntolerance => "AllergyIntolerance",
            ResourceType::Immunization => "Immunization",
            ResourceType::Condition => "Condition",
            ResourceType::Encounter => "Encounter",
            ResourceType::DocumentReference => "DocumentReference",
            ResourceType::Practitioner => "Practitioner",
            ResourceType::Organization => "Organization",
            ResourceType::Location => "Location",
        }
    }

    pub fn parse(s: &str) -> Option<ResourceType> {
        ResourceType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Types that belong to one patient (searched with `patient=`, bound by their subject).
    /// The others (practitioners, places, medications) are shared and read by id.
    pub fn is_clinical(self) -> bool {
        !matches!(self, ResourceType::Patient | ResourceType::Practitioner | ResourceType::Organization | ResourceType::Location | ResourceType::Medication)
    }
}

// Each resource is parsed once and moved into the record; boxing the larger ones would add an
// allocation per resource and gain nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Resource {
    Patient(Patient),
    Observation(Observation),
    DiagnosticReport(DiagnosticReport),
    MedicationRequest(MedicationRequest),
    Medication(Medication),
    AllergyIntolerance(AllergyIntolerance),
    Immunization(Immunization),
    Condition(Condition),
    Encounter(Encounter),
    DocumentReference(DocumentReference),
    Practitioner(Practitioner),
    Organization(Organization),
    Location(Location),
}

/// Why a resource's text is not one the portal can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not a JSON object with a `resourceType`.
    NotAResource,
    /// A resource type the portal does not read (its name).
    Unsupported(String),
    /// An element of the wrong shape; serde's description (it may quote a value: never log it).
    Invalid(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::NotAResource => f.write_str("not a FHIR resource (no resourceType)"),
            ParseError::Unsupported(t) => write!(f, "{t} is not a resource type the portal reads"),
            ParseError::Invalid(e) => write!(f, "does not read as FHIR R4: {e}"),
        }
    }
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "resourceType", borrow)]
    resource_type: Option<std::borrow::Cow<'a, str>>,
}

/// The type named by a resource's text, without reading the rest into our types.
pub fn type_of(text: &str) -> Result<String, ParseError> {
    let peek: Peek = serde_json::from_str(text).map_err(|_| ParseError::NotAResource)?;
    peek.resource_type.map(|t| t.into_owned()).ok_or(ParseError::NotAResource)
}

/// Reads one resource from its JSON text.
pub fn parse(text: &str) -> Result<Resource, ParseError> {
    let name = type_of(text)?;
    let kind = ResourceType::parse(&name).ok_or(ParseError::Unsupported(name))?;
    fn read<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, ParseError> {
        serde_json::from_str(text).map_err(|e| ParseError::Invalid(e.to_string()))
    }
    Ok(match kind {
        ResourceType::Patient => Resource::Patient(read(text)?),
        ResourceType::Observation => Resource::Observation(read(text)?),
        ResourceType::DiagnosticReport => Resource::DiagnosticReport(read(text)?),
        ResourceType::MedicationRequest => Resource::MedicationRequest(read(text)?),
        ResourceType::Medication => Resource::Medication(read(text)?),
        ResourceType::AllergyIntolerance => Resource::AllergyIntolerance(read(text)?),
        ResourceType::Immunization => Resource::Immunization(read(text)?),
        ResourceType::Condition => Resource::Condition(read(text)?),
        ResourceType::Encounter => Resource::Encounter(read(text)?),
        ResourceType::DocumentReference => Resource::DocumentReference(read(text)?),
        ResourceType::Practitioner => Resource::Practitioner(read(text)?),
        ResourceType::Organization => Resource::Organization(read(text)?),
        ResourceType::Location => Resource::Location(read(text)?),
    })
}

impl Resource {
    pub fn kind(&self) -> ResourceType {
        match self {
            Resource::Patient(_) => ResourceType::Patient,
            Resource::Observation(_) => ResourceType::Observation,
            Resource::DiagnosticReport(_) => ResourceType::DiagnosticReport,
            Resource::MedicationRequest(_) => ResourceType::MedicationRequest,
            Resource::Medication(_) => ResourceType::Medication,
            Resource::AllergyIntolerance(_) => ResourceType::AllergyIntolerance,
            Resource::Immunization(_) => ResourceType::Immunization,
            Resource::Condition(_) => ResourceType::Condition,
            Resource::Encounter(_) => ResourceType::Encounter,
            Resource::DocumentReference(_) => ResourceType::DocumentReference,
            Resource::Practitioner(_) => ResourceType::Practitioner,
            Resource::Organization(_) => ResourceType::Organization,
            Resource::Location(_) => ResourceType::Location,
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Resource::Patient(r) => r.id.as_deref(),
            Resource::Observation(r) => r.id.as_deref(),
            Resource::DiagnosticReport(r) => r.id.as_deref(),
            Resource::MedicationRequest(r) => r.id.as_deref(),
            Resource::Medication(r) => r.id.as_deref(),
            Resource::AllergyIntolerance(r) => r.id.as_deref(),
            Resource::Immunization(r) => r.id.as_deref(),
            Resource::Condition(r) => r.id.as_deref(),
            Resource::Encounter(r) => r.id.as_deref(),
            Resource::DocumentReference(r) => r.id.as_deref(),
            Resource::Practitioner(r) => r.id.as_deref(),
            Resource::Organization(r) => r.id.as_deref(),
            Resource::Location(r) => r.id.as_deref(),
        }
    }

    /// The reference to the patient a clinical resource is about (`subject`, or `patient` for
    /// allergies and immunizations); none for a Patient and for shared resources.
    pub fn patient_reference(&self) -> Option<&Reference> {
        match self {
            Resource::Observation(r) => r.subject.as_ref(),
            Resource::DiagnosticReport(r) => r.subject.as_ref(),
            Resource::MedicationRequest(r) => r.subject.as_ref(),
            Resource::AllergyIntolerance(r) => r.patient.as_ref(),
            Resource::Immunization(r) => r.patient.as_ref(),
            Resource::Condition(r) => r.subject.as_ref(),
            Resource::Encounter(r) => r.subject.as_ref(),
            Resource::DocumentReference(r) => r.subject.as_ref(),
            Resource::Patient(_) | Resource::Practitioner(_) | Resource::Organization(_) | Resource::Location(_) | Resource::Medication(_) => None,
        }
    }

    /// The FHIR Patient id this resource belongs to: its own id for a Patient, the id its
    /// subject names for a clinical resource (a relative `Patient/<id>` reference, or an
    /// absolute one under `base` when given); none for shared resources and for a subject that
    /// is not such a reference.
    pub fn patient_id(&self, base: Option<&str>) -> Option<&str> {
        if let Resource::Patient(p) = self {
            return p.id.as_deref();
        }
        let reference = self.patient_reference()?.reference.as_deref()?;
        patient_id_in(reference, base)
    }

    /// The first element the portal needs that this resource lacks ("status", "code",
    /// "subject"…); none when it has what the portal reads. The FHIR base specification's
    /// required elements of what we show, and the subject every clinical resource must have to
    /// be bound to one patient.
    pub fn missing(&self) -> Option<&'static str> {
        fn need<T>(o: &Option<T>, name: &'static str) -> Option<&'static str> {
            o.is_none().then_some(name)
        }
        fn first(checks: &[Option<&'static str>]) -> Option<&'static str> {
            checks.iter().find_map(|c| *c)
        }
        if self.id().is_none_or(|id| !is_resource_id(id)) {
            return Some("id");
        }
        match self {
            Resource::Observation(o) => first(&[
                need(&o.status, "status"),
                need(&o.code, "code"),
                need(&o.subject, "subject"),
                o.component.iter().any(|c| c.code.is_none()).then_some("component.code"),
            ]),
            Resource::DiagnosticReport(r) => first(&[need(&r.status, "status"), need(&r.code, "code"), need(&r.subject, "subject")]),
            Resource::MedicationRequest(m) => first(&[
                need(&m.status, "status"),
                need(&m.intent, "intent"),
                (m.medication_codeable_concept.is_none() && m.medication_reference.is_none()).then_some("medication[x]"),
                need(&m.subject, "subject"),
            ]),
            Resource::AllergyIntolerance(a) => first(&[need(&a.patient, "patient"), need(&a.code, "code")]),
            Resource::Immunization(i) => first(&[
                need(&i.status, "status"),
                need(&i.vaccine_code, "vaccineCode"),
                need(&i.patient, "patient"),
                (i.occurrence_date_time.is_none() && i.occurrence_string.is_none()).then_some("occurrence[x]"),
            ]),
            Resource::Condition(c) => first(&[need(&c.subject, "subject"), need(&c.code, "code")]),
            Resource::Encounter(e) => first(&[need(&e.status, "status"), need(&e.class, "class"), need(&e.subject, "subject")]),
            Resource::DocumentReference(d) => first(&[
                need(&d.status, "status"),
                need(&d.subject, "subject"),
                d.content.is_empty().then_some("content"),
                d.content.iter().any(|c| c.attachment.is_none()).then_some("content.attachment"),
            ]),
            Resource::Patient(_) | Resource::Practitioner(_) | Resource::Organization(_) | Resource::Location(_) | Resource::Medication(_) => None,
        }
    }

    /// The name a shared resource gives for display (a practitioner's name, a place's name).
    pub fn display_name(&self) -> Option<String> {
        match self {
            Resource::Practitioner(p) => p.name.iter().find_map(HumanName::display),
            Resource::Organization(o) => o.name.clone(),
            Resource::Location(l) => l.name.clone(),
            Resource::Medication(m) => m.code.as_ref().and_then(|c| c.label()).map(str::to_string),
            Resource::Patient(p) => p.name.iter().find_map(HumanName::display),
            _ => None,
        }
    }
}

/// The Patient id of a subject reference: `Patient/<id>`, or `<base>/Patient/<id>` when `base`
/// is given. Anything else (another server's patient, a contained or logical reference) names
/// no patient of ours.
pub fn patient_id_in<'a>(reference: &'a str, base: Option<&str>) -> Option<&'a str> {
    let relative = match reference.strip_prefix("Patient/") {
        Some(_) => reference,
        None => {
            let base = base?.trim_end_matches('/');
            reference.strip_prefix(base)?.strip_prefix('/')?
        }
    };
    let id = relative.strip_prefix("Patient/")?;
    let id = id.split("/_history/").next().unwrap_or_default();
    is_resource_id(id).then_some(id)
}

#[cfg(test)]
mod tests;
