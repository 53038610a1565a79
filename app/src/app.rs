//! The document shell and the route table: every page of the portal, by path.

use crate::access::{Gate, Page, Permission::*};
use crate::account::{AccountActivityPage, AccountPage, ChangeEmailPage, ChangePasswordPage};
use crate::billing::{
    BillingAccountPage, BillingImportPage, BillingStaffPage, BillingSummaryPage, PaperlessUpdatePage, PostStatementPage, PrintQueuePage, ViewAccountPage,
};
use crate::enrolment::{ActivatePage, ChooseCredentialsPage, EnrolPage, EnrolSentPage, EnrolmentQueuePage, EnrolmentRequestPage};
use crate::external_links::LeavingPage;
use crate::frames::{PatientFrame, PublicFrame, StaffFrame};
use crate::home::HomePage;
use crate::home::StaffHomePage;
use crate::info::{HelpPage, NotFoundPage, PrivacyPage};
use crate::maintenance::StaffMaintenancePage;
use crate::messaging::{
    AbsencesPage, CareTeamsPage, ComposePage, HolidaysPage, MessagesPage, PatientThreadPage, PoolsPage, StaffComposePage, StaffInboxPage,
    StaffPatientThreadsPage, StaffThreadPage,
};
use crate::passkeys::{PatientPasskeysPage, StaffPasskeysPage};
use crate::patients::{IssuedCodePage, PatientPage, PatientsPage};
use crate::questionnaires::{FillPage, FormResponsesPage, LibraryPage, PatientQuestionnairesPage, QuestionnairesPage, ResponsePage};
use crate::record::hidden_codes::HiddenCodesPage;
use crate::record::{
    AllergiesPage, DocumentsPage, HealthIssuesPage, ImmunizationsPage, MedicationsPage, RecordPage, RecordVisitPage, RecordVisitsPage, TestResultsPage,
    TrendPage, TrendsPage,
};
use crate::recovery::{ConfirmEmailPage, ForgotPasswordPage, ForgotUserIdPage, RecoverySentPage, ResetPasswordPage, UserIdLinkPage, UserIdShownPage};
use crate::second_step::{PatientSecondStepPage, SignInCodePage, StaffSecondStepPage};
use crate::security::{AuditSearchPage, SecurityPage};
use crate::session::PendingStep;
use crate::sign_in::{SignInCheckPage, SignInPage};
use crate::telemedicine::{StaffVisitsPage, VisitPage, VisitsPage};
use crate::terms::{AcceptTermsPage, StaffTermsPage, TermsPage};
use crate::types::Portal;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    provide_context(crate::layout::scripts::IslandsOnPage::default());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="theme-color" content="#0b5cab"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="apple-touch-icon" href="/icon-192.png"/>
                <link id="leptos" rel="stylesheet" href=stylesheet_href(&options)/>
                <AutoReload options=options.clone()/>
                <crate::layout::scripts::IslandsMode/>
                <crate::layout::scripts::ScriptsOn/>
                <crate::layout::NavigationScript/>
                <crate::passkeys::PasskeyScript/>
                <MetaTags/>
            </head>
            <body>
                <App/>
                <crate::layout::scripts::IslandScripts options/>
            </body>
        </html>
    }
}

/// The stylesheet's address, under its content-hashed name (cargo-leptos `hash-files`). Leptos's
/// own `HashedStylesheet` reads `hash.txt` from disk for every page; a deployed binary's files
/// never change, so in production it is read once. (`cargo leptos watch` swaps the stylesheet
/// while the server runs, so development reads it every time.)
pub fn stylesheet_href(options: &LeptosOptions) -> String {
    #[cfg(feature = "ssr")]
    {
        use std::sync::OnceLock;
        static IN_PRODUCTION: OnceLock<String> = OnceLock::new();
        let read = || {
            let base = format!("/{}/{}", options.site_pkg_dir, options.output_name);
            if !options.hash_files {
                return format!("{base}.css");
            }
            let hashes = std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
                .and_then(|path| std::fs::read_to_string(path).ok())
                .unwrap_or_default();
            match hashes.lines().find_map(|l| l.trim().strip_prefix("css:")) {
                Some(hash) => format!("{base}.{}.css", hash.trim()),
                None => format!("{base}.css"),
            }
        };
        if options.env == leptos::config::Env::PROD {
            IN_PRODUCTION.get_or_init(read).clone()
        } else {
            read()
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = options;
        String::new()
    }
}

/// The route table: every page, its path, its gate (who may open it: `crate::access`) and how it
/// renders. One declaration, read by the router (below), the session middleware, the
/// navigation and the access tests.
macro_rules! pages {
    ($($frame:ident { $($path:tt => $view:expr, $gate:expr $(, $ssr:ident)?;)* })*) => {
        /// Every page of the portal with its gate.
        pub const PAGES: &[Page] = &[$($(Page { path: $path, gate: $gate },)*)*];

        /// Each frame's pages nest in it: the frame (header, navigation, `<main>`, footer) is
        /// rendered once around the page's `<Outlet/>`, so a page cannot pick the wrong one.
        #[component]
        fn PortalRoutes() -> impl IntoView {
            view! {
                <Routes fallback=NotFoundPage>
                    $(<ParentRoute path=path!("") view=$frame>
                        $(<Route path=path!($path) view=$view $(ssr=SsrMode::$ssr)?/>)*
                    </ParentRoute>)*
                </Routes>
            }
        }
    };
}

const PASSWORD_STEPS: &[PendingStep] = &[PendingStep::PasswordReminder, PendingStep::PasswordRequired];

pages! {
  PublicFrame {
    // Anyone.
    "/" => || view! { <SignInPage portal=Portal::Patient/> }, Gate::PUBLIC;
    "/sign-in" => || view! { <SignInPage portal=Portal::Patient/> }, Gate::PUBLIC;
    "/staff/sign-in" => || view! { <SignInPage portal=Portal::Staff/> }, Gate::PUBLIC;
    "/terms" => TermsPage, Gate::PUBLIC, Async;
    "/enrol" => EnrolPage, Gate::PUBLIC, Async;
    "/enrol/sent" => EnrolSentPage, Gate::PUBLIC;
    "/activate" => ActivatePage, Gate::PUBLIC;
    "/activate/account" => ChooseCredentialsPage, Gate::PUBLIC, Async;
    "/forgot-password" => ForgotPasswordPage, Gate::PUBLIC;
    "/forgot-user-id" => ForgotUserIdPage, Gate::PUBLIC;
    "/recovery/sent" => RecoverySentPage, Gate::PUBLIC;
    "/reset-password" => ResetPasswordPage, Gate::PUBLIC, Async;
    "/user-id" => UserIdLinkPage, Gate::PUBLIC;
    "/user-id/shown" => UserIdShownPage, Gate::PUBLIC, Async;
    "/confirm-email" => ConfirmEmailPage, Gate::PUBLIC;
    "/privacy" => PrivacyPage, Gate::PUBLIC;
    "/help" => HelpPage, Gate::PUBLIC;
    "/leaving" => LeavingPage, Gate::PUBLIC;
    // After a sign-in that did not know whether the browser keeps cookies (`sign_in`).
    "/sign-in/check" => SignInCheckPage, Gate::PUBLIC;

    // The step right after a password sign-in.
    "/sign-in/code" => SignInCodePage, Gate::waiting(PendingStep::SecondStep), Async;
  }

  PatientFrame {
    // The steps right after sign-in.
    "/account/terms" => AcceptTermsPage, Gate::PATIENT.during(&[PendingStep::Terms]), Async;
    "/account/password" => ChangePasswordPage, Gate::PATIENT.during(PASSWORD_STEPS);

    // The patient.
    "/home" => HomePage, Gate::PATIENT, Async;
    "/messages" => MessagesPage, Gate::PATIENT, Async;
    "/messages/new" => ComposePage, Gate::PATIENT, Async;
    "/messages/:id" => PatientThreadPage, Gate::PATIENT, Async;
    "/record" => RecordPage, Gate::PATIENT, Async;
    "/record/results" => TestResultsPage, Gate::PATIENT, Async;
    "/record/trends" => TrendsPage, Gate::PATIENT, Async;
    "/record/trends/:id" => TrendPage, Gate::PATIENT, Async;
    "/record/medications" => MedicationsPage, Gate::PATIENT, Async;
    "/record/allergies" => AllergiesPage, Gate::PATIENT, Async;
    "/record/immunizations" => ImmunizationsPage, Gate::PATIENT, Async;
    "/record/health-issues" => HealthIssuesPage, Gate::PATIENT, Async;
    "/record/visits" => RecordVisitsPage, Gate::PATIENT, Async;
    "/record/visits/:id" => RecordVisitPage, Gate::PATIENT, Async;
    "/record/documents" => DocumentsPage, Gate::PATIENT, Async;
    "/record/questionnaires" => QuestionnairesPage, Gate::PATIENT, Async;
    "/record/questionnaires/:id" => FillPage, Gate::PATIENT, Async;
    "/billing" => BillingSummaryPage, Gate::PATIENT, Async;
    "/billing/accounts/:id" => ViewAccountPage, Gate::PATIENT, Async;
    "/billing/accounts/:id/paperless" => PaperlessUpdatePage, Gate::PATIENT, Async;
    "/visits" => VisitsPage, Gate::PATIENT, Async;
    "/visits/:id" => VisitPage, Gate::PATIENT, Async;
    "/account" => AccountPage, Gate::PATIENT, Async;
    "/account/email" => ChangeEmailPage, Gate::PATIENT;
    "/account/activity" => AccountActivityPage, Gate::PATIENT, Async;
    "/account/second-step" => PatientSecondStepPage, Gate::PATIENT, Async;
    "/account/passkeys" => PatientPasskeysPage, Gate::PATIENT, Async;

  }

  StaffFrame {
    // Staff: open to every role, and to one setting up the second step their role requires.
    "/staff" => StaffHomePage, Gate::STAFF;
    "/staff/second-step" => StaffSecondStepPage, Gate::STAFF.during(&[PendingStep::SecondStepSetup]), Async;
    "/staff/passkeys" => StaffPasskeysPage, Gate::STAFF.during(&[PendingStep::SecondStepSetup]), Async;

    // Staff, by what their role may do.
    "/staff/messages" => StaffInboxPage, Gate::staff_may(&[WorkMessages]), Async;
    "/staff/messages/new" => StaffComposePage, Gate::staff_may(&[WorkMessages]), Async;
    "/staff/messages/:id" => StaffThreadPage, Gate::staff_may(&[WorkMessages]), Async;
    "/staff/messages/patients/:id" => StaffPatientThreadsPage, Gate::staff_may(&[WorkMessages]), Async;
    "/staff/enrolment" => EnrolmentQueuePage, Gate::staff_may(&[ManagePatientAccess]), Async;
    "/staff/enrolment/:id" => EnrolmentRequestPage, Gate::staff_may(&[ManagePatientAccess]), Async;
    "/staff/patients" => PatientsPage, Gate::staff_may(&[ManagePatientAccess]), Async;
    "/staff/patients/:id" => PatientPage, Gate::staff_may(&[ManagePatientAccess]), Async;
    "/staff/patients/:id/code" => IssuedCodePage, Gate::staff_may(&[ManagePatientAccess]), Async;
    "/staff/visits" => StaffVisitsPage, Gate::staff_may(&[ScheduleVisits]), Async;
    "/staff/questionnaires" => LibraryPage, Gate::staff_may(&[EditFormLibrary, AssignForms]), Async;
    "/staff/questionnaires/patients/:id" => PatientQuestionnairesPage, Gate::staff_may(&[AssignForms]), Async;
    "/staff/questionnaires/forms/:id" => FormResponsesPage, Gate::staff_may(&[ReadAnswers]), Async;
    "/staff/questionnaires/responses/:id" => ResponsePage, Gate::staff_may(&[ReadAnswers]), Async;
    "/staff/billing" => BillingStaffPage, Gate::staff_may(&[WorkBilling]), Async;
    "/staff/billing/accounts/:id" => BillingAccountPage, Gate::staff_may(&[WorkBilling]), Async;
    "/staff/billing/accounts/:id/statement" => PostStatementPage, Gate::staff_may(&[WorkBilling]), Async;
    "/staff/billing/import" => BillingImportPage, Gate::staff_may(&[WorkBilling]), Async;
    "/staff/billing/print-queue" => PrintQueuePage, Gate::staff_may(&[WorkBilling]), Async;
    "/staff/absences" => AbsencesPage, Gate::staff_may(&[SetOutOfOffice]), Async;
    "/staff/holidays" => HolidaysPage, Gate::staff_may(&[SeeHolidays]), Async;
    "/staff/care-teams" => CareTeamsPage, Gate::staff_may(&[SetUpMessaging]), Async;
    "/staff/pools" => PoolsPage, Gate::staff_may(&[SetUpMessaging]), Async;
    "/staff/security" => SecurityPage, Gate::staff_may(&[ReviewSecurity]), Async;
    "/staff/audit" => AuditSearchPage, Gate::staff_may(&[ReviewSecurity]), Async;
    "/staff/terms" => StaffTermsPage, Gate::staff_may(&[PublishTerms]), Async;
    "/staff/maintenance" => StaffMaintenancePage, Gate::staff_may(&[ScheduleMaintenance]), Async;
    "/staff/record/hidden-codes" => HiddenCodesPage, Gate::staff_may(&[HideResultCodes]), Async;
  }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    set_security_headers();
    view! {
        <Router>
            <PortalRoutes/>
        </Router>
    }
}

/// The Content-Security-Policy of a page, with this response's nonce: only scripts the server
/// itself put on the page run; nothing from any other origin loads (SPEC R-GEN-3).
#[cfg(feature = "ssr")]
fn set_security_headers() {
    use leptos::nonce::use_nonce;
    let Some(nonce) = use_nonce() else { return };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&csp) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
