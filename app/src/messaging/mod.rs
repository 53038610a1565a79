//! Secure messaging between patients and their care team (SPEC R-MSG-1 … R-MSG-7).
//!
//! - `patient_pages.rs`: the patient's Messages tab, a conversation, writing a message.
//! - `staff_pages.rs`: staff inboxes (their own and their pools'), a conversation as staff see
//!   it, replying, forwarding, marking handled, a new message to a patient.
//! - `thread.rs`: a conversation's messages, shared by both sides' pages.
//! - `admin_pages/`: care teams and pools, out-of-office periods, the holiday list (a file per
//!   page); `admin.rs`: what they show and, on the server, their database.
//! - `server/`: the rules and the database (who may read and write what, routing, due dates,
//!   notices); `business_days.rs`: the due-date rule; `attachments.rs`: file checks;
//!   `quota.rs`: a patient's messages per day and attachment bytes per month.
//!
//! A sent message is never edited or deleted: nothing in this module can. A patient's message
//! gets a due date (3 business days by default) and waits in an inbox until staff mark it
//! handled; a message to a provider who is out of office goes to the one covering for them.

pub mod admin;
mod admin_pages;
#[cfg(feature = "ssr")]
pub mod attachments;
#[cfg(feature = "ssr")]
pub mod business_days;
mod patient_pages;
#[cfg(feature = "ssr")]
pub mod quota;
#[cfg(feature = "ssr")]
pub mod server;
mod staff_pages;
mod thread;

pub use admin_pages::{AbsencesPage, CareTeamsPage, HolidaysPage, PoolsPage};
pub use patient_pages::{unread_messages, ComposePage, MessagesPage, PatientThreadPage};
pub use staff_pages::{MessageLimits, StaffComposePage, StaffInboxPage, StaffPatientThreadsPage, StaffThreadPage};

use serde::{Deserialize, Serialize};

pub const SUBJECT_MAX: usize = 100;
pub const BODY_MAX: usize = 5_000;
pub const ATTACHMENTS_MAX: usize = 4;
pub const ATTACHMENT_BYTES_MAX: usize = 10 * 1024 * 1024;

use crate::ids::is_id;

pub use crate::ids::{AbsenceId, AttachmentId, MessageId, PoolId, ThreadId};

/// Whom a patient's message is for: a provider or a pool of their care team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recipient {
    Provider(String),
    Pool(String),
}

impl Recipient {
    /// The form value: `provider:<id>` or `pool:<id>`.
    pub fn to_value(&self) -> String {
        match self {
            Recipient::Provider(id) => format!("provider:{id}"),
            Recipient::Pool(id) => format!("pool:{id}"),
        }
    }

    pub fn parse(value: &str) -> Option<Recipient> {
        let (kind, id) = value.split_once(':')?;
        if !is_id(id) {
            return None;
        }
        match kind {
            "provider" => Some(Recipient::Provider(id.to_string())),
            "pool" => Some(Recipient::Pool(id.to_string())),
            _ => None,
        }
    }
}

/// A recipient with the name a patient sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecipientOption {
    pub recipient: Recipient,
    pub name: String,
}

/// What a message is about; it helps the care team pick it up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Topic {
    General,
    Medication,
    TestResults,
    Appointment,
    Billing,
    Other,
}

impl Topic {
    pub const ALL: [Topic; 6] = [Topic::General, Topic::Medication, Topic::TestResults, Topic::Appointment, Topic::Billing, Topic::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::General => "general",
            Topic::Medication => "medication",
            Topic::TestResults => "test-results",
            Topic::Appointment => "appointment",
            Topic::Billing => "billing",
            Topic::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Topic::General => "A question about my care",
            Topic::Medication => "Medications and refills",
            Topic::TestResults => "Test results",
            Topic::Appointment => "Appointments",
            Topic::Billing => "Billing",
            Topic::Other => "Something else",
        }
    }

    pub fn parse(s: &str) -> Option<Topic> {
        Topic::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A line of the patient's Messages list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub id: ThreadId,
    pub subject: String,
    pub topic: String,
    /// The other party: the provider or pool the conversation is with, or the patient (staff).
    pub with: String,
    pub last_message_at: i64,
    pub last_text: String,
    pub unread: i64,
    /// The patient's latest message is past its due date without a reply.
    pub overdue: bool,
}

/// An attachment as listed under its message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    pub id: AttachmentId,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

/// A change of where a message waits, shown to staff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteInfo {
    pub at: i64,
    pub at_text: String,
    pub kind: String,
    pub from: String,
    pub to: String,
    pub reason: String,
    pub by: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: MessageId,
    pub from_patient: bool,
    pub author: String,
    pub body: String,
    pub sent_at: i64,
    pub sent_text: String,
    /// Patient messages: whom it was written to, and (staff only) where it waits now.
    pub to: Option<String>,
    pub assigned_to: Option<String>,
    pub due_at: Option<i64>,
    pub due_text: Option<String>,
    pub handled_at: Option<i64>,
    /// Staff messages: when the patient read it.
    pub read_at: Option<i64>,
    pub read_text: Option<String>,
    pub attachments: Vec<AttachmentInfo>,
    /// Staff only.
    pub routes: Vec<RouteInfo>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThreadView {
    pub id: ThreadId,
    pub subject: String,
    pub topic: String,
    pub patient_name: String,
    pub patient_mrn: Option<String>,
    /// Staff only: the patient record, for the list of the patient's conversations.
    pub patient_id: Option<String>,
    pub messages: Vec<MessageView>,
    /// The latest patient message is past due without a reply.
    pub overdue: bool,
    /// Whether the latest patient message still waits for staff (staff view).
    pub open_message: Option<MessageId>,
}

/// A conversation with a patient as staff list it (`/staff/messages/patients/<id>`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StaffThreadLine {
    pub id: ThreadId,
    pub subject: String,
    pub topic: String,
    /// Whom the patient wrote to, or who on staff started it.
    pub with: String,
    pub last_text: String,
    /// A message of the patient waits for a reply.
    pub waiting: bool,
}

/// The conversations with one patient that the member of staff asking may read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatientConversations {
    pub patient: String,
    pub name: String,
    pub mrn: String,
    pub threads: Vec<StaffThreadLine>,
}

/// A line of a staff inbox: a patient message that waits for the care team.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboxItem {
    pub message_id: MessageId,
    pub thread_id: ThreadId,
    pub patient_name: String,
    pub subject: String,
    pub topic: String,
    pub sent_at: i64,
    pub sent_text: String,
    pub due_at: i64,
    pub due_text: String,
    pub overdue: bool,
    pub opened: bool,
    pub assigned_to: String,
    pub routed: bool,
}

/// One page of a staff inbox, with the counts of the whole inbox.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// Every message waiting in this view of the inbox, on all pages.
    pub waiting: i64,
    /// How many of those are overdue.
    pub overdue: i64,
    /// This page's number, from 1.
    pub page: u32,
    pub pages: u32,
}

/// Messages on one page of a staff inbox: a pool's inbox can hold thousands (R-MSG-4), and a
/// page is read top to bottom, soonest due first.
pub const INBOX_PAGE_SIZE: u32 = 50;

/// The filters of a staff inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InboxFilter {
    All,
    Mine,
    Pools,
    Overdue,
    Unread,
}

impl InboxFilter {
    pub const ALL: [InboxFilter; 5] = [InboxFilter::All, InboxFilter::Mine, InboxFilter::Pools, InboxFilter::Overdue, InboxFilter::Unread];

    pub fn as_str(self) -> &'static str {
        match self {
            InboxFilter::All => "all",
            InboxFilter::Mine => "mine",
            InboxFilter::Pools => "pools",
            InboxFilter::Overdue => "overdue",
            InboxFilter::Unread => "unread",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            InboxFilter::All => "Everything open",
            InboxFilter::Mine => "Mine",
            InboxFilter::Pools => "My pools",
            InboxFilter::Overdue => "Overdue",
            InboxFilter::Unread => "Not yet opened",
        }
    }

    pub fn parse(s: &str) -> InboxFilter {
        InboxFilter::ALL.into_iter().find(|f| f.as_str() == s).unwrap_or(InboxFilter::All)
    }
}

/// A patient's unsent message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub recipient: String,
    pub topic: String,
    pub subject: String,
    pub body: String,
    pub updated_at: Option<i64>,
}

/// How a patient hears of new things in the portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoticeMode {
    Immediate,
    Daily,
}

impl NoticeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeMode::Immediate => "immediate",
            NoticeMode::Daily => "daily",
        }
    }
    pub fn parse(s: &str) -> Option<NoticeMode> {
        match s {
            "immediate" => Some(NoticeMode::Immediate),
            "daily" => Some(NoticeMode::Daily),
            _ => None,
        }
    }
}

/// A patient's message limits as they stand (`quota.rs`): for the patient's pages and for the
/// front desk on the patient's page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaStatus {
    pub messages_per_day: u32,
    pub messages_today: i64,
    pub bytes_per_month: i64,
    pub bytes_this_month: i64,
    /// When a new day's allowance begins (clinic time).
    pub day_resets: String,
    /// When a new month's allowance begins.
    pub month_resets: String,
    /// A lift in force: until when, by whom, why.
    pub lifted: Option<(String, String, String)>,
}

impl QuotaStatus {
    pub fn day_reached(&self) -> bool {
        self.messages_today >= i64::from(self.messages_per_day)
    }

    /// What the patient reads when the day's messages are used up.
    pub fn day_text(&self, phone: &str) -> String {
        format!(
            "You have sent {} messages today, the most the portal takes from one patient in a day. You can send messages again from {}. \
             If it is urgent, please call the office at {phone}.",
            self.messages_per_day, self.day_resets
        )
    }

    /// What the patient reads when a message's files would pass the month's attachments.
    pub fn month_text(&self, phone: &str) -> String {
        let left = (self.bytes_per_month - self.bytes_this_month).max(0);
        format!(
            "This message's files would take you past {} of attachments this month ({} left). You can send the message without files now, \
             or files again from {}. If it is urgent, please call the office at {phone}.",
            file_size(self.bytes_per_month),
            file_size(left),
            self.month_resets
        )
    }
}

/// The text of a file size for people: "840 KB", "2.4 MB".
pub fn file_size(bytes: i64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} KB", (bytes + 1023) / 1024)
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_parse_only_our_shape() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(Recipient::parse(&format!("provider:{id}")), Some(Recipient::Provider(id.into())));
        assert_eq!(Recipient::parse(&format!("pool:{id}")), Some(Recipient::Pool(id.into())));
        assert_eq!(Recipient::parse(&format!("user:{id}")), None);
        assert_eq!(Recipient::parse("provider:1 OR 1=1"), None);
        assert_eq!(Recipient::parse(&format!("pool:{}", id.to_uppercase())), None);
        let r = Recipient::Pool(id.into());
        assert_eq!(Recipient::parse(&r.to_value()), Some(r));
    }

    #[test]
    fn topics_and_filters_round_trip() {
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.as_str()), Some(t));
        }
        assert_eq!(Topic::parse("x"), None);
        for f in InboxFilter::ALL {
            assert_eq!(InboxFilter::parse(f.as_str()), f);
        }
        assert_eq!(InboxFilter::parse("nonsense"), InboxFilter::All);
    }

    #[test]
    fn file_sizes_read_well() {
        assert_eq!(file_size(1), "1 KB");
        assert_eq!(file_size(860_000), "840 KB");
        assert_eq!(file_size(2_500_000), "2.4 MB");
    }
}
