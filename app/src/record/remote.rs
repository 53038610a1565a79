//! The remote record source: the EHR's FHIR R4 API, read when the patient looks, with SMART
//! Backend Services authentication. Nothing it returns is written anywhere (no disk cache, no
//! log line with content): it lives in the request that asked.
//!
//! - The access token is fetched with a signed client assertion (`smart.rs`) and shared by
//!   every request until shortly before it expires; one request fetches it while the others
//!   wait for that one (a mutex held across the fetch), so a burst of page views makes one
//!   token request, not one each.
//! - Every search is bound to the patient (`patient=<id>`), sent with `Prefer: handling=strict`
//!   (a server that does not understand a parameter must refuse the search, not answer it
//!   without the parameter, which would be everyone's resources), and paged by following
//!   `next` links, only on the EHR's own server, up to a cap. What comes back is checked again
//!   by `PatientRecord::build`: a resource about another patient is dropped.
//! - Every call is bounded (connect and whole-request time-outs); any failure becomes one
//!   [`Unavailable`] cause, logged by kind only. The EHR's own error text is never shown or
//!   logged (it could quote the record).

use super::fhir::{self, Bundle, ResourceType};
use super::settings::RemoteSettings;
use super::smart;
use super::source::Unavailable;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, OnceCell};

/// The largest response read from the EHR (one page of a search, a token, a document).
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// A result the EHR created or changed: whose (the EHR's Patient id), which (the resource's
/// id) and when (`meta.lastUpdated`, as the EHR wrote it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub patient: String,
    pub id: String,
    pub last_updated: String,
}

/// An access token and when to stop using it.
struct Token {
    value: String,
    renew_at: Instant,
}

pub struct Remote {
    http: reqwest::Client,
    settings: RemoteSettings,
    /// The base URL without a trailing slash.
    base: String,
    /// The token endpoint: from the settings, or discovered once from
    /// `.well-known/smart-configuration`.
    token_url: OnceCell<String>,
    token: Mutex<Option<Token>>,
    tokens_fetched: AtomicU64,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("base", &self.base).finish_non_exhaustive()
    }
}

/// An HTTP failure as a cause of unavailability.
fn cause(e: &reqwest::Error) -> Unavailable {
    if e.is_timeout() {
        Unavailable::TimedOut
    } else {
        Unavailable::Unreachable
    }
}

impl Remote {
    pub fn new(settings: RemoteSettings) -> Result<Remote, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .timeout(settings.timeout)
            // Links and tokens are ours to follow: a redirect could carry the bearer token to
            // another host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("patient-portal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {e}"))?;
        let base = settings.base_url.as_str().trim_end_matches('/').to_string();
        let token_url = match &settings.token_url {
            Some(u) => OnceCell::new_with(Some(u.to_string())),
            None => OnceCell::new(),
        };
        Ok(Remote { http, settings, base, token_url, token: Mutex::new(None), tokens_fetched: AtomicU64::new(0) })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// How many access tokens this server has asked the EHR for since it started (each one a
    /// signed assertion and a round trip; for operations and the tests).
    pub fn tokens_fetched(&self) -> u64 {
        self.tokens_fetched.load(Ordering::Relaxed)
    }

    /// Whether `url` is on the EHR's own server, under its FHIR base: only there does the
    /// portal send its token or follow a `next` link.
    fn is_ours(&self, url: &str) -> bool {
        url == self.base || url.strip_prefix(&self.base).is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'))
    }

    /// Reads a whole response body, at most `MAX_RESPONSE_BYTES`.
    async fn body(mut response: reqwest::Response) -> Result<Vec<u8>, Unavailable> {
        if response.content_length().is_some_and(|n| n as usize > MAX_RESPONSE_BYTES) {
            return Err(Unavailable::TooLarge);
        }
        let mut out = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| cause(&e))? {
            if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Unavailable::TooLarge);
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    async fn token_url(&self) -> Result<&str, Unavailable> {
        self.token_url
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/smart-configuration", self.base);
                let response = self.http.get(&url).header("accept", "application/json").send().await.map_err(|e| cause(&e))?;
                if !response.status().is_success() {
                    return Err(Unavailable::ServerError(response.status().as_u16()));
                }
                let config: serde_json::Value = serde_json::from_slice(&Self::body(response).await?).map_err(|_| Unavailable::Garbage)?;
                let endpoint = config.get("token_endpoint").and_then(|t| t.as_str()).ok_or(Unavailable::Garbage)?;
                let parsed = url::Url::parse(endpoint).map_err(|_| Unavailable::Garbage)?;
                // The assertion and the token go only to a token endpoint reached as safely as
                // the FHIR API itself.
                if parsed.scheme() != "https" && self.settings.base_url.scheme() == "https" {
                    return Err(Unavailable::Garbage);
                }
                Ok(endpoint.to_string())
            })
            .await
            .map(String::as_str)
    }

    /// The access token: the cached one while it is good, else a new one. Requests that arrive
    /// while one is being fetched wait for it.
    async fn token(&self) -> Result<String, Unavailable> {
        let mut slot = self.token.lock().await;
        if let Some(t) = slot.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(t.value.clone());
        }
        let token_url = self.token_url().await?.to_string();
        // The machine's clock, not the portal's: the assertion's lifetime is checked by the
        // authorisation server against its own (real) time.
        let now = jiff::Timestamp::now().as_second();
        let assertion = smart::client_assertion(&self.settings.key, &self.settings.key_id, &self.settings.client_id, &token_url, now)
            .map_err(|_| Unavailable::Misconfigured)?;
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", self.settings.scope.as_str()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
        ];
        let asked = Instant::now();
        self.tokens_fetched.fetch_add(1, Ordering::Relaxed);
        let response = self.http.post(&token_url).header("accept", "application/json").form(&form).send().await.map_err(|e| cause(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(Unavailable::TokenRefused(status.as_u16()));
        }
        #[derive(serde::Deserialize)]
        struct Answer {
            access_token: String,
            token_type: Option<String>,
            expires_in: Option<u64>,
        }
        let answer: Answer = serde_json::from_slice(&Self::body(response).await?).map_err(|_| Unavailable::Garbage)?;
        if answer.access_token.is_empty() || answer.token_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
            return Err(Unavailable::Garbage);
        }
        // Renewed a little before it expires (a fifth of its life, at most a minute), counted
        // from when it was asked for, so a request never goes out with a token about to lapse.
        let life = Duration::from_secs(answer.expires_in.unwrap_or(300));
        let margin = (life / 5).min(Duration::from_secs(60));
        *slot = Some(Token { value: answer.access_token.clone(), renew_at: asked + life - margin });
        Ok(answer.access_token)
    }

    async fn drop_token(&self, stale: &str) {
        let mut slot = self.token.lock().await;
        if slot.as_ref().is_some_and(|t| t.value == stale) {
            *slot = None;
        }
    }

    /// GET on the EHR with the bearer token. A 401 (the token was revoked or expired early)
    /// gets one more try with a new token.
    async fn get(&self, url: &str, accept: &str) -> Result<reqwest::Response, Unavailable> {
        if !self.is_ours(url) {
            return Err(Unavailable::Garbage);
        }
        for attempt in 0..2 {
            let token = self.token().await?;
            let response =
                self.http.get(url).bearer_auth(&token).header("accept", accept).header("prefer", "handling=strict").send().await.map_err(|e| cause(&e))?;
            match response.status().as_u16() {
                200..=299 => return Ok(response),
                401 if attempt == 0 => self.drop_token(&token).await,
                s @ (401 | 403) => return Err(Unavailable::Refused(s)),
                s => return Err(Unavailable::ServerError(s)),
            }
        }
        Err(Unavailable::Refused(401))
    }

    async fn bundle(&self, url: &str) -> Result<Bundle, Unavailable> {
        let response = self.get(url, "application/fhir+json").await?;
        let bundle: Bundle = serde_json::from_slice(&Self::body(response).await?).map_err(|_| Unavailable::Garbage)?;
        if bundle.resource_type != "Bundle" {
            return Err(Unavailable::Garbage);
        }
        Ok(bundle)
    }

    /// A search, every page (up to the cap): the JSON of each matching (or included) resource,
    /// and whether the cap stopped it before the last page.
    async fn search(&self, kind: &str, params: &[(&str, &str)]) -> Result<(Vec<String>, bool), Unavailable> {
        let mut url = url::Url::parse(&format!("{}/{kind}", self.base)).map_err(|_| Unavailable::Misconfigured)?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
            q.append_pair("_count", &self.settings.page_size.to_string());
        }
        let mut next = Some(url.to_string());
        let mut out = Vec::new();
        let mut pages = 0;
        while let Some(page_url) = next.take() {
            if pages == self.settings.max_pages {
                tracing::warn!(kind, pages, "the record search has more pages than the portal follows; the rest is not shown");
                return Ok((out, true));
            }
            let bundle = self.bundle(&page_url).await?;
            pages += 1;
            for entry in bundle.entry.iter().filter(|e| e.is_result()) {
                if let Some(r) = &entry.resource {
                    out.push(r.get().to_string());
                }
            }
            next = bundle.next().map(str::to_string);
            if next.as_deref() == Some(page_url.as_str()) {
                // A server that links a page to itself would loop.
                return Err(Unavailable::Garbage);
            }
        }
        Ok((out, false))
    }

    /// The patient's resources of these types (and their Patient resource): one search per
    /// type, at the same time.
    pub async fn resources(self: &Arc<Self>, patient: &str, types: &[ResourceType]) -> Result<(Vec<String>, bool), Unavailable> {
        // One token for the burst of searches below: fetched before they start, so they do not
        // all queue on the token lock at once.
        self.token().await?;
        // Dropping the set (the caller's deadline passed) aborts the searches still running.
        let mut searches = tokio::task::JoinSet::new();
        for kind in types.iter().copied().filter(|t| t.is_clinical()) {
            let this = Arc::clone(self);
            let patient = patient.to_string();
            searches.spawn(async move { this.search(kind.as_str(), &[("patient", &patient)]).await });
        }
        let mut texts = Vec::new();
        let mut incomplete = false;
        let patient_read = self.read(ResourceType::Patient, patient).await?;
        texts.extend(patient_read);
        while let Some(done) = searches.join_next().await {
            let (found, capped) = done.map_err(|_| Unavailable::Garbage)??;
            texts.extend(found);
            incomplete |= capped;
        }
        Ok((texts, incomplete))
    }

    /// The results of `kind` the EHR created or changed at or after `since` (a FHIR instant),
    /// for every patient, oldest change first: the feed behind new-result notices (`notices.rs`),
    /// the one search not bound to a patient. Only who, which and when is read (`_elements`
    /// asks the EHR for nothing more; whatever else comes back is dropped here). Answers the
    /// changes and whether the page cap stopped the search before its end (the rest comes on
    /// the next call, from the newest change returned).
    pub async fn changed_since(&self, kind: ResourceType, since: &str) -> Result<(Vec<Changed>, bool), Unavailable> {
        #[derive(serde::Deserialize)]
        struct Meta {
            #[serde(rename = "lastUpdated")]
            last_updated: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Stub {
            #[serde(rename = "resourceType")]
            resource_type: String,
            id: Option<String>,
            subject: Option<fhir::Reference>,
            meta: Option<Meta>,
        }
        let from = format!("ge{since}");
        let (texts, capped) = self.search(kind.as_str(), &[("_lastUpdated", &from), ("_sort", "_lastUpdated"), ("_elements", "subject")]).await?;
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            let stub: Stub = serde_json::from_str(&text).map_err(|_| Unavailable::Garbage)?;
            // A resource without an id, a patient or a time cannot be told of: skipped, not
            // a reason to stop the feed.
            let (Some(id), Some(reference), Some(at)) = (stub.id, stub.subject.and_then(|s| s.reference), stub.meta.and_then(|m| m.last_updated)) else {
                continue;
            };
            if stub.resource_type != kind.as_str() || !fhir::is_resource_id(&id) || at.parse::<jiff::Timestamp>().is_err() {
                continue;
            }
            let Some(patient) = fhir::patient_id_in(&reference, Some(&self.base)) else { continue };
            out.push(Changed { patient: patient.to_string(), id, last_updated: at });
        }
        Ok((out, capped))
    }

    /// One resource by type and id; none when the EHR has no such resource (404 or 410).
    pub async fn read(&self, kind: ResourceType, id: &str) -> Result<Option<String>, Unavailable> {
        if !fhir::is_resource_id(id) {
            return Ok(None);
        }
        let url = format!("{}/{}/{}", self.base, kind.as_str(), id);
        let response = match self.get(&url, "application/fhir+json").await {
            Ok(r) => r,
            Err(Unavailable::ServerError(404 | 410)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let text = String::from_utf8(Self::body(response).await?).map_err(|_| Unavailable::Garbage)?;
        match fhir::type_of(&text) {
            Ok(t) if t == kind.as_str() => Ok(Some(text)),
            _ => Err(Unavailable::Garbage),
        }
    }

    /// Shared resources by type and id, at the same time; those the EHR does not have are
    /// left out.
    pub async fn shared(self: &Arc<Self>, wanted: &[(ResourceType, String)]) -> Result<Vec<String>, Unavailable> {
        let mut reads = tokio::task::JoinSet::new();
        for (kind, id) in wanted.iter().cloned() {
            let this = Arc::clone(self);
            reads.spawn(async move { this.read(kind, &id).await });
        }
        let mut out = Vec::new();
        while let Some(done) = reads.join_next().await {
            if let Some(text) = done.map_err(|_| Unavailable::Garbage)?? {
                out.push(text);
            }
        }
        Ok(out)
    }

    /// The ids of the Patients with the identifier `system|value`. Each one returned is checked
    /// to carry that identifier: a server that ignored the search parameter would otherwise
    /// hand over its first Patients.
    pub async fn patients_with_identifier(&self, system: &str, value: &str) -> Result<Vec<String>, Unavailable> {
        let token = format!("{system}|{value}");
        let (texts, _) = self.search("Patient", &[("identifier", &token)]).await?;
        let mut ids = Vec::new();
        for text in texts {
            let Ok(fhir::Resource::Patient(p)) = fhir::parse(&text) else { continue };
            let matches = p.identifier.iter().any(|i| i.system.as_deref() == Some(system) && i.value.as_deref() == Some(value));
            if let (true, Some(id)) = (matches, p.id) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Ok(ids)
    }

    /// A document's bytes from `url` (relative to the FHIR base, or absolute on the EHR's own
    /// server; anywhere else is not fetched).
    pub async fn document(&self, url: &str, content_type: &str) -> Result<Option<Vec<u8>>, Unavailable> {
        let absolute =
            if url.starts_with("http://") || url.starts_with("https://") { url.to_string() } else { format!("{}/{}", self.base, url.trim_start_matches('/')) };
        if !self.is_ours(&absolute) {
            return Ok(None);
        }
        let response = match self.get(&absolute, content_type).await {
            Ok(r) => r,
            Err(Unavailable::ServerError(404 | 410)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let is_binary_json = response.headers().get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("fhir+json"));
        let body = Self::body(response).await?;
        if is_binary_json {
            // A FHIR Binary resource: the bytes are its base64 `data`.
            use base64::Engine as _;
            let binary: serde_json::Value = serde_json::from_slice(&body).map_err(|_| Unavailable::Garbage)?;
            let data = binary.get("data").and_then(|d| d.as_str()).ok_or(Unavailable::Garbage)?;
            return base64::engine::general_purpose::STANDARD.decode(data).map(Some).map_err(|_| Unavailable::Garbage);
        }
        Ok(Some(body))
    }
}
