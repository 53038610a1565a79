//! Billing: the patient's billing accounts, their statements as PDF files, and paperless billing
//! (SPEC R-BIL-1 … R-BIL-4).
//!
//! - `money.rs`: amounts in cents; `statement.rs`: a statement's rules and totals.
//! - `patient_pages.rs`: Billing Summary → View Account → Paperless Billing → Update.
//! - `staff_pages.rs`: billing staff find an account and open one; `statement_form_pages.rs`:
//!   post a statement; `import_pages.rs`: import a CSV file; `print_queue_pages.rs`: work the
//!   print queue of paper statements.
//! - `server/`: who may see what, and the database; `csv_import.rs`: the CSV format;
//!   `pdf/`: the statement PDF, made in memory.
//!
//! A billing account belongs to a guarantor (a patient record) and may cover visits at several
//! departments. Its statement delivery is paper or paperless; enrolling in the portal makes
//! every account of the patient paperless (R-BIL-1), and the patient can change it per account.
//! A statement keeps the delivery it was posted under: paperless ones raise a notice, paper ones
//! wait in the print queue until marked printed.

#[cfg(feature = "ssr")]
pub mod csv_import;
mod import_pages;
pub mod money;
mod patient_pages;
#[cfg(feature = "ssr")]
pub mod pdf;
mod print_queue_pages;
#[cfg(feature = "ssr")]
pub mod server;
mod staff_pages;
pub mod statement;
mod statement_form_pages;

pub use import_pages::BillingImportPage;
pub use patient_pages::{BillingSummaryPage, PaperlessUpdatePage, ViewAccountPage};
pub use print_queue_pages::PrintQueuePage;
pub use staff_pages::{BillingAccountPage, BillingStaffPage};
pub use statement_form_pages::PostStatementPage;

use money::Money;
use serde::{Deserialize, Serialize};
pub use statement::Delivery;

pub use crate::ids::{AccountId, StatementId};

/// A line of the Billing Summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: AccountId,
    pub number: String,
    pub guarantor: String,
    /// The departments whose visits the account's statements list.
    pub departments: Vec<String>,
    /// The amount due on the latest statement (zero before the first).
    pub balance: Money,
    pub last_statement: Option<String>,
    pub delivery: Delivery,
}

/// A statement as listed on View Account and in staff views.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementSummary {
    pub id: StatementId,
    pub statement_date: String,
    pub period: String,
    pub amount_due: Money,
    pub due_date: String,
    pub delivery: Delivery,
    /// Paper statements: when staff marked it printed.
    pub printed_at: Option<String>,
}

/// A change of an account's delivery, as the account page lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryChange {
    pub at: String,
    pub by: String,
    pub from: Option<Delivery>,
    pub to: Delivery,
}

/// What View Account shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub account: AccountSummary,
    pub address: Vec<String>,
    pub statements: Vec<StatementSummary>,
    pub changes: Vec<DeliveryChange>,
}
