//! The staff security view (SPEC R-SES-4: staff see suspicious activity) and the audit-trail
//! search (R-AUD-1: staff auditors can search it), for administrators and auditors only.
//!
//! Both pages are plain server-rendered HTML: the search is a GET form, so it works without
//! JavaScript and the search lives in the URL. Only user IDs, action codes and dates go in that
//! URL, never a name or a birth date. Every look is itself recorded in the audit trail.
//!
//! `overview` is the security view, `audit_search` the search of the trail; `server` holds the
//! queries behind both.

mod audit_search;
mod overview;
#[cfg(feature = "ssr")]
pub mod server;

pub use audit_search::{search_audit, AuditEntryView, AuditResults, AuditSearch, AuditSearchPage, ChainStatus, SearchAudit, AUDIT_PAGE_SIZE};
pub use overview::{
    security_view, AccountRef, AddressFailures, BreakGlassAccess, FailedSignIns, NoticeGivenUp, SecurityOverview, SecurityPage, SecurityView,
    TerminatedAccount, ThrottledAccount, BREAK_GLASS_WINDOW_MS, FAILURE_WINDOW_MS, SECTION_LIMIT, THROTTLE_WINDOW_MS,
};
