//! The demo clinic: a few staff of each role and a few patients, all with one documented
//! password. Loading it again changes nothing.

use app::account::server::{create_account, find_by_login, CreateAccountError, NewAccount};
use app::platform::{now_ms, state::AppState};
use app::types::{AccountKind, StaffRole};

pub const DEMO_PASSWORD: &str = "demo-portal-2026";

pub struct DemoAccount {
    pub login: &'static str,
    pub name: &'static str,
    pub kind: AccountKind,
    pub email: &'static str,
    pub date_of_birth: Option<&'static str>,
}

pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount { login: "alice", name: "Alice Johnson", kind: AccountKind::Patient, email: "alice.johnson@example.org", date_of_birth: Some("1948-03-12") },
    DemoAccount { login: "robert", name: "Robert Smith", kind: AccountKind::Patient, email: "robert.smith@example.org", date_of_birth: Some("1961-07-30") },
    DemoAccount { login: "carol", name: "Carol Nguyen", kind: AccountKind::Patient, email: "carol.nguyen@example.org", date_of_birth: Some("1985-11-02") },
    DemoAccount { login: "frontdesk", name: "Frances Okafor", kind: AccountKind::Staff(StaffRole::FrontDesk), email: "frances.okafor@clinic.example.org", date_of_birth: None },
    DemoAccount { login: "drlee", name: "Dr. Morgan Lee", kind: AccountKind::Staff(StaffRole::Clinician), email: "morgan.lee@clinic.example.org", date_of_birth: None },
    DemoAccount { login: "nursekim", name: "Kim Alvarez, RN", kind: AccountKind::Staff(StaffRole::Clinician), email: "kim.alvarez@clinic.example.org", date_of_birth: None },
    DemoAccount { login: "billing", name: "Sam Patel", kind: AccountKind::Staff(StaffRole::Billing), email: "sam.patel@clinic.example.org", date_of_birth: None },
    DemoAccount { login: "admin", name: "Alex Rivera", kind: AccountKind::Staff(StaffRole::Administrator), email: "alex.rivera@clinic.example.org", date_of_birth: None },
    DemoAccount { login: "auditor", name: "Jordan Blake", kind: AccountKind::Staff(StaffRole::Auditor), email: "jordan.blake@clinic.example.org", date_of_birth: None },
];

/// Creates whichever demo accounts are missing; returns how many it created.
pub async fn load(state: &AppState) -> Result<usize, CreateAccountError> {
    let mut created = 0;
    for a in ACCOUNTS {
        if find_by_login(&state.db, a.login).await?.is_some() {
            continue;
        }
        let new = NewAccount {
            login: a.login.into(),
            display_name: a.name.into(),
            kind: a.kind,
            email: Some(a.email.into()),
            date_of_birth: a.date_of_birth.map(Into::into),
            password: DEMO_PASSWORD.into(),
        };
        create_account(&state.db, &state.passwords, new, None, now_ms()).await?;
        created += 1;
    }
    Ok(created)
}
