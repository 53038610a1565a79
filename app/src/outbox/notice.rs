//! The notices the outbox sends: their kinds, how each is stored (`kind`, `payload`), and its
//! fixed text. None takes free text or record data.

use crate::settings::Organisation;

/// What a change of password did to the account's other sessions, as its notice tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionsAfterChange {
    /// A reset through an e-mailed link: every session of the account ended.
    AllEnded,
    /// Changed on the Account page with "sign out my other sessions": every other session ended.
    OthersEnded,
    /// Changed on the Account page, the other sessions kept, as the patient chose.
    OthersKept,
}

/// The kinds of notice. Each renders from fixed text; none takes free text or record data. A
/// notice that carries a secret (a single-use link's token, an activation code) keeps it in the
/// outbox row's `payload` only until it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Someone signed in to the account from a browser that had not been used for it before.
    NewDeviceSignIn,
    /// The staff member chose to e-mail the patient their activation code.
    ActivationCode { code: String },
    /// The account is set up (sent after activation, to the address the patient chose), with the
    /// link that confirms that address: recovery mail goes to it only once it is confirmed.
    AccountReady { token: String },
    /// A link to choose a new password (forgot password).
    PasswordReset { token: String },
    /// A link to a page that shows the user ID (forgot user ID).
    UserIdReminder { token: String },
    /// The password was changed or reset; says what became of the account's other sessions.
    PasswordChanged { sessions: SessionsAfterChange },
    /// To a new address, or to the address chosen at activation when its first link was lost: a
    /// link that confirms it.
    EmailChangeConfirm { token: String },
    /// To the old address: a change of address was asked for.
    EmailChangeRequested,
    /// To the old address: the change took effect.
    EmailChanged,
    /// To the address given in an enrolment request that staff could not approve.
    EnrolmentDeclined,
    /// Something new waits in the portal (a message from the care team; later lessons,
    /// questionnaires, statements). Never says what.
    NewInPortal,
    /// The daily notice of patients who chose one: new things wait in the portal.
    DailySummary,
    /// A new billing statement is in the portal (paperless billing). Never the amount.
    /// ("Available" would trip the health-words check below: it contains "lab".)
    NewStatement,
    /// A way of signing in was added or removed (the authenticator-app step, a passkey).
    SignInMethodsChanged,
    /// Something to fill in or read waits in the portal (a questionnaire, survey or lesson).
    /// Never says which, nor what it is about.
    NewToComplete,
    /// A video visit was scheduled or cancelled. Says only that something new waits: that a
    /// person has visits, and with whom, is theirs to see after signing in.
    VisitsChanged,
    /// Something new is in the patient's medical record (a new result they may see). Never
    /// says what, when, or from whom; at most one a day (`record::notices`).
    NewInRecord,
}

impl Notice {
    /// One of each kind, for tests and for checking templates.
    pub fn samples() -> Vec<Notice> {
        let token = "T0KEN".to_string();
        vec![
            Notice::NewDeviceSignIn,
            Notice::ActivationCode { code: "ABCDE-FGHJK-MNPQR".into() },
            Notice::AccountReady { token: token.clone() },
            Notice::PasswordReset { token: token.clone() },
            Notice::UserIdReminder { token: token.clone() },
            Notice::PasswordChanged { sessions: SessionsAfterChange::AllEnded },
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersEnded },
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersKept },
            Notice::EmailChangeConfirm { token },
            Notice::EmailChangeRequested,
            Notice::EmailChanged,
            Notice::EnrolmentDeclined,
            Notice::NewInPortal,
            Notice::DailySummary,
            Notice::NewStatement,
            Notice::SignInMethodsChanged,
            Notice::NewToComplete,
            Notice::VisitsChanged,
            Notice::NewInRecord,
        ]
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Notice::NewDeviceSignIn => "new-device-sign-in",
            Notice::ActivationCode { .. } => "activation-code",
            Notice::AccountReady { .. } => "account-ready",
            Notice::PasswordReset { .. } => "password-reset",
            Notice::UserIdReminder { .. } => "user-id-reminder",
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersEnded } => "password-changed",
            Notice::PasswordChanged { sessions: SessionsAfterChange::AllEnded } => "password-changed-all-ended",
            Notice::PasswordChanged { sessions: SessionsAfterChange::OthersKept } => "password-changed-others-kept",
            Notice::EmailChangeConfirm { .. } => "email-change-confirm",
            Notice::EmailChangeRequested => "email-change-requested",
            Notice::EmailChanged => "email-changed",
            Notice::EnrolmentDeclined => "enrolment-declined",
            Notice::NewInPortal => "new-in-portal",
            Notice::DailySummary => "daily-summary",
            Notice::NewStatement => "new-statement",
            Notice::SignInMethodsChanged => "sign-in-methods-changed",
            Notice::NewToComplete => "new-to-complete",
            Notice::VisitsChanged => "visits-changed",
            Notice::NewInRecord => "new-in-record",
        }
    }

    /// The secret the notice carries, if any.
    pub fn payload(&self) -> Option<&str> {
        match self {
            Notice::ActivationCode { code } => Some(code),
            Notice::AccountReady { token } | Notice::PasswordReset { token } | Notice::UserIdReminder { token } | Notice::EmailChangeConfirm { token } => {
                Some(token)
            }
            _ => None,
        }
    }

    /// The notice stored as `kind` with `payload` (none when the kind is unknown or the payload
    /// it needs is missing, e.g. already cleared).
    pub fn from_parts(kind: &str, payload: Option<String>) -> Option<Notice> {
        Some(match (kind, payload) {
            ("new-device-sign-in", _) => Notice::NewDeviceSignIn,
            ("activation-code", Some(code)) => Notice::ActivationCode { code },
            ("account-ready", Some(token)) => Notice::AccountReady { token },
            ("password-reset", Some(token)) => Notice::PasswordReset { token },
            ("user-id-reminder", Some(token)) => Notice::UserIdReminder { token },
            ("password-changed", _) => Notice::PasswordChanged { sessions: SessionsAfterChange::OthersEnded },
            ("password-changed-all-ended", _) => Notice::PasswordChanged { sessions: SessionsAfterChange::AllEnded },
            ("password-changed-others-kept", _) => Notice::PasswordChanged { sessions: SessionsAfterChange::OthersKept },
            ("email-change-confirm", Some(token)) => Notice::EmailChangeConfirm { token },
            ("email-change-requested", _) => Notice::EmailChangeRequested,
            ("email-changed", _) => Notice::EmailChanged,
            ("enrolment-declined", _) => Notice::EnrolmentDeclined,
            ("new-in-portal", _) => Notice::NewInPortal,
            ("daily-summary", _) => Notice::DailySummary,
            ("new-statement", _) => Notice::NewStatement,
            ("sign-in-methods-changed", _) => Notice::SignInMethodsChanged,
            ("new-to-complete", _) => Notice::NewToComplete,
            ("visits-changed", _) => Notice::VisitsChanged,
            ("new-in-record", _) => Notice::NewInRecord,
            _ => return None,
        })
    }

    pub fn render(&self, org: &Organisation, portal_url: &url::Url) -> RenderedMail {
        let link = |path: &str, token: Option<&str>| {
            let mut url = portal_url.join(path).unwrap_or_else(|_| portal_url.clone());
            if let Some(token) = token {
                url.query_pairs_mut().append_pair("token", token);
            }
            url.to_string()
        };
        let sign_in = link("/sign-in", None);
        let footer = format!(
            "If you did not expect this e-mail, call us at {phone}.\n\n\
             This message was sent automatically; replies are not read.\n{org}\n",
            phone = org.phone,
            org = org.name,
        );
        let (subject, text) = match self {
            Notice::NewDeviceSignIn => (
                "new sign-in to your patient portal".to_string(),
                format!(
                    "Your {org} patient portal account was just signed in to from a browser or device \
                     that had not been used for it before.\n\n\
                     If this was you, there is nothing to do.\n\n\
                     If it was not you, sign in at {sign_in} and change your password, or call us at {phone}.",
                    org = org.name,
                    phone = org.phone,
                ),
            ),
            Notice::ActivationCode { code } => (
                "your patient portal activation code".to_string(),
                format!(
                    "Here is the activation code you asked us for:\n\n    {code}\n\n\
                     To set up your account, go to {activate} and enter this code and your date of birth. \
                     The code works once and expires; if it has expired, call us for a new one.",
                    activate = link("/activate", None),
                ),
            ),
            Notice::AccountReady { token } => (
                "your patient portal account is ready".to_string(),
                format!(
                    "Your patient portal account is set up. Sign in at {sign_in}.\n\n\
                     Please confirm that this e-mail address is yours by opening this link within 30 minutes:\n\n    {url}\n\n\
                     Until you do, we cannot send password-reset or user-ID links to this address. If the link \
                     has expired, sign in and send a new one from the Account page.\n\n\
                     You are enrolled in paperless billing: your statements will be in the portal \
                     instead of the post. You can change this in the portal under Billing.",
                    url = link("/confirm-email", Some(token)),
                ),
            ),
            Notice::PasswordReset { token } => (
                "choose a new password".to_string(),
                format!(
                    "Someone (we hope you) asked to reset the password of your patient portal account. \
                     To choose a new password, open this link within 30 minutes:\n\n    {url}\n\n\
                     The link works once. If you did not ask for this, you can ignore this e-mail: \
                     your password has not changed.",
                    url = link("/reset-password", Some(token)),
                ),
            ),
            Notice::UserIdReminder { token } => (
                "your patient portal user ID".to_string(),
                format!(
                    "Someone (we hope you) asked for the user ID of your patient portal account. \
                     To see it, open this link within 30 minutes:\n\n    {url}\n\n\
                     The link works once. If you did not ask for this, you can ignore this e-mail.",
                    url = link("/user-id", Some(token)),
                ),
            ),
            Notice::PasswordChanged { sessions } => (
                "your password was changed".to_string(),
                format!(
                    "{what}\n\n\
                     If you did this, there is nothing to do: sign in at {sign_in} with the new password. \
                     If you did not, call us at {phone} at once.",
                    what = match sessions {
                        SessionsAfterChange::AllEnded => {
                            "The password of your patient portal account was just changed with a reset link sent to \
                             this address, and your account was signed out everywhere: every browser and device \
                             must sign in again with the new password."
                        }
                        SessionsAfterChange::OthersEnded => {
                            "The password of your patient portal account was just changed, and every other \
                             session of your account was signed out: other browsers and devices must sign in \
                             again with the new password."
                        }
                        SessionsAfterChange::OthersKept => {
                            "The password of your patient portal account was just changed. The other sessions of \
                             your account were kept, as chosen when the password was changed: browsers and \
                             devices already signed in stay signed in until they sign out or time out. You can \
                             sign them out on the Account page."
                        }
                    },
                    phone = org.phone,
                ),
            ),
            Notice::EmailChangeConfirm { token } => (
                "confirm your e-mail address".to_string(),
                format!(
                    "Please confirm that the portal may use this e-mail address by opening this \
                     link within 30 minutes:\n\n    {url}\n\n\
                     Until you do, the portal sends no password-reset or user-ID link to this address, \
                     and a change of address you asked for waits (notices keep going to your previous address).",
                    url = link("/confirm-email", Some(token)),
                ),
            ),
            Notice::EmailChangeRequested => (
                "a change of e-mail address was asked for".to_string(),
                format!(
                    "Someone signed in to your patient portal account asked to send its notices to a \
                     different e-mail address. Nothing changes until the new address is confirmed.\n\n\
                     If this was not you, sign in at {sign_in} and change your password, or call us at {phone}.",
                    phone = org.phone,
                ),
            ),
            Notice::EmailChanged => (
                "your e-mail address was changed".to_string(),
                format!(
                    "Your patient portal account now sends its notices to a different e-mail address; this \
                     address will get no more of them. You can check your account at {sign_in}.\n\n\
                     If this was not you, call us at {phone} at once.",
                    phone = org.phone,
                ),
            ),
            Notice::EnrolmentDeclined => (
                "about your request for portal access".to_string(),
                format!(
                    "We could not complete your request for access to our patient portal ({portal}). \
                     Please call us at {phone} and we will help you set it up.",
                    portal = link("/", None),
                    phone = org.phone,
                ),
            ),
            Notice::NewInPortal => {
                ("you have a new message in the portal".to_string(), format!("You have a new message in the portal. Sign in to read it:\n\n    {sign_in}"))
            }
            Notice::DailySummary => (
                "something new in your patient portal".to_string(),
                format!(
                    "Since yesterday, something new has arrived for you in the portal. Sign in to see it:\n\n    {sign_in}\n\n\
                     You get at most one of these e-mails a day. To be told of each new message at once, \
                     change this on the Messages page of the portal."
                ),
            ),
            Notice::NewStatement => (
                "a new statement is ready".to_string(),
                format!(
                    "A new billing statement is ready in your patient portal. Sign in to see it under Billing:\n\n    {sign_in}\n\n\
                     You receive your statements in the portal because you chose paperless billing. To get paper \
                     statements by post instead, go to Billing → View Account → Paperless Billing → Update."
                ),
            ),
            Notice::SignInMethodsChanged => (
                "how you sign in was changed".to_string(),
                format!(
                    "The ways of signing in to your patient portal account were just changed: the authenticator-app \
                     step or a passkey was added or removed. You can see them on the Account page after signing in at \
                     {sign_in}.\n\nIf you did not do this, call us at {phone} at once.",
                    phone = org.phone,
                ),
            ),
            Notice::NewToComplete => (
                "something new is waiting in your patient portal".to_string(),
                format!("Something new from your care team is waiting for you in the portal. Sign in to see it:\n\n    {sign_in}"),
            ),
            Notice::VisitsChanged => (
                "something new in your patient portal".to_string(),
                format!("Something new is waiting for you in your patient portal. Sign in to see it:\n\n    {sign_in}"),
            ),
            Notice::NewInRecord => (
                "something new in your medical record".to_string(),
                format!(
                    "Something new is in your medical record. Sign in to the patient portal to see it:\n\n    {sign_in}\n\n\
                     You get at most one of these e-mails a day. You can choose when new items show in your record \
                     under My Medical Record after signing in."
                ),
            ),
        };
        RenderedMail { subject: format!("{}: {subject}", org.name), body: format!("Hello,\n\n{text}\n\n{footer}") }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RenderedMail {
    pub subject: String,
    pub body: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words and figures that would mean a notice carries health or billing information.
    const FORBIDDEN: &[&str] = &[
        "diagnos",
        "result",
        "medication",
        "prescription",
        "condition",
        "symptom",
        "appointment with",
        "balance",
        "amount",
        "$",
        "subject:",
        "dr.",
        "test",
        "lab",
    ];

    #[test]
    fn every_notice_is_free_of_health_information() {
        let org = Organisation { name: "Riverside Clinic".into(), phone: "555-0100".into(), address: vec!["1 Main St".into()], privacy_notice: None };
        let url = url::Url::parse("https://portal.example.org").unwrap();
        for notice in Notice::samples() {
            let mail = notice.render(&org, &url);
            let text = format!("{}\n{}", mail.subject, mail.body).to_lowercase();
            for word in FORBIDDEN {
                assert!(!text.contains(word), "{notice:?} contains {word:?}");
            }
            assert!(text.contains("https://portal.example.org/"), "{notice:?} links to the portal");
            assert!(text.contains("555-0100"), "{notice:?} gives the phone number");
            let back = Notice::from_parts(notice.kind(), notice.payload().map(str::to_owned));
            assert_eq!(back.as_ref(), Some(&notice));
        }
    }

    /// Issue 14, point 12: the notice says exactly what became of the other sessions, so that
    /// someone whose sessions were kept is not told they were signed out (and the reverse).
    #[test]
    fn the_password_changed_notice_says_what_became_of_the_other_sessions() {
        let org = Organisation { name: "Riverside Clinic".into(), phone: "555-0100".into(), address: vec![], privacy_notice: None };
        let url = url::Url::parse("https://portal.example.org").unwrap();
        let body = |sessions| Notice::PasswordChanged { sessions }.render(&org, &url).body;
        let kept = body(SessionsAfterChange::OthersKept);
        assert!(kept.contains("were kept") && kept.contains("stay signed in"), "{kept}");
        assert!(!kept.contains("signed out everywhere") && !kept.contains("was signed out"), "{kept}");
        let ended = body(SessionsAfterChange::OthersEnded);
        assert!(ended.contains("every other session of your account was signed out"), "{ended}");
        assert!(!ended.contains("kept"), "{ended}");
        let reset = body(SessionsAfterChange::AllEnded);
        assert!(reset.contains("signed out everywhere"), "{reset}");
        assert!(!reset.contains("kept"), "{reset}");
    }
}
