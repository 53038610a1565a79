//! Where the record comes from, as the server's settings say (`server/src/config.rs` reads
//! and checks them; the README lists them).

use super::smart::SigningKey;
use std::time::Duration;

/// The identifier system of the demo clinic's record numbers (and the default of
/// `PORTAL_FHIR_MRN_SYSTEM`): a made-up OID, see `record/demo/README.md`.
pub const DEMO_MRN_SYSTEM: &str = "urn:oid:2.16.840.1.113883.3.9999.1";

/// SMART v1 read scopes for exactly the types the portal reads (minimum necessary; v1 scopes
/// are the ones EHRs accept most widely).
pub const DEFAULT_SCOPE: &str = "system/Patient.read system/Observation.read system/DiagnosticReport.read \
    system/MedicationRequest.read system/Medication.read system/AllergyIntolerance.read system/Immunization.read \
    system/Condition.read system/Encounter.read system/DocumentReference.read system/Practitioner.read \
    system/Organization.read system/Location.read";

#[derive(Clone, Debug)]
pub struct RecordSettings {
    pub source: SourceSettings,
    /// The identifier system under which the EHR keeps the clinic's record numbers (MRN): a
    /// portal patient is matched to the FHIR Patient with `identifier=<system>|<their MRN>`.
    pub mrn_system: String,
    /// How much memory the embedded source's parsed records may hold between page views
    /// (`super::cache`), in bytes; 0 reads the store on every page.
    pub cache_bytes: usize,
}

/// The default of `PORTAL_RECORD_CACHE_MB`.
pub const DEFAULT_CACHE_MB: usize = 256;

impl Default for RecordSettings {
    fn default() -> Self {
        RecordSettings { source: SourceSettings::Embedded, mrn_system: DEMO_MRN_SYSTEM.into(), cache_bytes: DEFAULT_CACHE_MB << 20 }
    }
}

/// One per process, read at start: the size of the remote variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum SourceSettings {
    /// The portal's own database (`server record import`).
    Embedded,
    /// The EHR's FHIR API.
    Remote(RemoteSettings),
}

#[derive(Clone, Debug)]
pub struct RemoteSettings {
    /// The FHIR R4 base URL (`https://ehr.example.org/fhir/r4`).
    pub base_url: url::Url,
    /// The token endpoint; none: read from `<base>/.well-known/smart-configuration`.
    pub token_url: Option<url::Url>,
    /// The client id the EHR registered the portal under.
    pub client_id: String,
    /// The portal's private key (RS384 or ES384).
    pub key: SigningKey,
    /// The key's id (`kid`), as registered with the EHR.
    pub key_id: String,
    /// The scopes asked for.
    pub scope: String,
    /// How long a page waits for the EHR in all (token, searches, pages), and each connection
    /// and request at most.
    pub timeout: Duration,
    /// Resources asked for per page of a search (`_count`).
    pub page_size: u32,
    /// Pages followed per search at most; past it the list says it may be incomplete.
    pub max_pages: u32,
}
