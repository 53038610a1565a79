//! The document shell and the route table: every page of the portal, by path.

use crate::account::{AccountActivityPage, AccountPage, ChangeEmailPage, ChangePasswordPage};
use crate::enrolment::{ActivatePage, ChooseCredentialsPage, EnrolPage, EnrolSentPage, EnrolmentQueuePage, EnrolmentRequestPage};
use crate::info::{HelpPage, NotFoundPage, PrivacyPage};
use crate::external_links::LeavingPage;
use crate::telemedicine::{StaffVisitsPage, VisitPage, VisitsPage};
use crate::patients::{IssuedCodePage, PatientPage, PatientsPage};
use crate::recovery::{ConfirmEmailPage, ForgotPasswordPage, ForgotUserIdPage, RecoverySentPage, ResetPasswordPage, UserIdLinkPage, UserIdShownPage};
use crate::terms::{AcceptTermsPage, StaffTermsPage, TermsPage};
use crate::patient::{HomePage, RecordPage};
use crate::billing::{
    BillingAccountPage, BillingImportPage, BillingStaffPage, BillingSummaryPage, PaperlessUpdatePage, PostStatementPage, PrintQueuePage,
    ViewAccountPage,
};
use crate::messaging::{
    AbsencesPage, CareTeamsPage, ComposePage, HolidaysPage, MessagesPage, PatientThreadPage, PoolsPage, StaffComposePage, StaffInboxPage,
    StaffThreadPage,
};
use crate::questionnaires::{FillPage, FormResponsesPage, LibraryPage, PatientQuestionnairesPage, QuestionnairesPage, ResponsePage};
use crate::sign_in::SignInPage;
use crate::second_step::{PatientSecondStepPage, SignInCodePage, StaffSecondStepPage};
use crate::passkeys::{PatientPasskeysPage, StaffPasskeysPage};
use crate::security::{AuditSearchPage, SecurityPage};
use crate::staff::StaffHomePage;
use crate::maintenance::StaffMaintenancePage;
use crate::types::Portal;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
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
                <HydrationScripts options islands=true/>
                <crate::layout::NavigationScript/>
                <crate::passkeys::PasskeyScript/>
                <crate::questionnaires::QuestionnaireScript/>
                <MetaTags/>
            </head>
            <body>
                <App/>
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "ssr")]
    set_security_headers();
    view! {
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view=|| view! { <SignInPage portal=Portal::Patient/> }/>
                <Route path=path!("/sign-in") view=|| view! { <SignInPage portal=Portal::Patient/> }/>
                <Route path=path!("/staff/sign-in") view=|| view! { <SignInPage portal=Portal::Staff/> }/>
                <Route path=path!("/sign-in/code") view=SignInCodePage/>
                <Route path=path!("/terms") view=TermsPage ssr=SsrMode::Async/>
                <Route path=path!("/enrol") view=EnrolPage ssr=SsrMode::Async/>
                <Route path=path!("/enrol/sent") view=EnrolSentPage/>
                <Route path=path!("/activate") view=ActivatePage/>
                <Route path=path!("/activate/account") view=ChooseCredentialsPage ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view=ForgotPasswordPage/>
                <Route path=path!("/forgot-user-id") view=ForgotUserIdPage/>
                <Route path=path!("/recovery/sent") view=RecoverySentPage/>
                <Route path=path!("/reset-password") view=ResetPasswordPage ssr=SsrMode::Async/>
                <Route path=path!("/user-id") view=UserIdLinkPage/>
                <Route path=path!("/user-id/shown") view=UserIdShownPage ssr=SsrMode::Async/>
                <Route path=path!("/confirm-email") view=ConfirmEmailPage/>
                <Route path=path!("/privacy") view=PrivacyPage/>
                <Route path=path!("/help") view=HelpPage/>
                <Route path=path!("/leaving") view=LeavingPage/>

                <Route path=path!("/home") view=HomePage ssr=SsrMode::Async/>
                <Route path=path!("/messages") view=MessagesPage ssr=SsrMode::Async/>
                <Route path=path!("/messages/new") view=ComposePage ssr=SsrMode::Async/>
                <Route path=path!("/messages/:id") view=PatientThreadPage ssr=SsrMode::Async/>
                <Route path=path!("/record") view=RecordPage/>
                <Route path=path!("/record/questionnaires") view=QuestionnairesPage ssr=SsrMode::Async/>
                <Route path=path!("/record/questionnaires/:id") view=FillPage ssr=SsrMode::Async/>
                <Route path=path!("/billing") view=BillingSummaryPage ssr=SsrMode::Async/>
                <Route path=path!("/billing/accounts/:id") view=ViewAccountPage ssr=SsrMode::Async/>
                <Route path=path!("/billing/accounts/:id/paperless") view=PaperlessUpdatePage ssr=SsrMode::Async/>
                <Route path=path!("/visits") view=VisitsPage ssr=SsrMode::Async/>
                <Route path=path!("/visits/:id") view=VisitPage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/account/password") view=ChangePasswordPage/>
                <Route path=path!("/account/email") view=ChangeEmailPage/>
                <Route path=path!("/account/terms") view=AcceptTermsPage ssr=SsrMode::Async/>
                <Route path=path!("/account/activity") view=AccountActivityPage ssr=SsrMode::Async/>
                <Route path=path!("/account/second-step") view=PatientSecondStepPage ssr=SsrMode::Async/>
                <Route path=path!("/account/passkeys") view=PatientPasskeysPage ssr=SsrMode::Async/>

                <Route path=path!("/staff") view=StaffHomePage/>
                <Route path=path!("/staff/second-step") view=StaffSecondStepPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/passkeys") view=StaffPasskeysPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/security") view=SecurityPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/audit") view=AuditSearchPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/enrolment") view=EnrolmentQueuePage ssr=SsrMode::Async/>
                <Route path=path!("/staff/enrolment/:id") view=EnrolmentRequestPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/patients") view=PatientsPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/patients/:id") view=PatientPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/patients/:id/code") view=IssuedCodePage ssr=SsrMode::Async/>
                <Route path=path!("/staff/terms") view=StaffTermsPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/messages") view=StaffInboxPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/messages/new") view=StaffComposePage ssr=SsrMode::Async/>
                <Route path=path!("/staff/messages/:id") view=StaffThreadPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/care-teams") view=CareTeamsPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/pools") view=PoolsPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/absences") view=AbsencesPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/holidays") view=HolidaysPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/billing") view=BillingStaffPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/billing/accounts/:id") view=BillingAccountPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/billing/accounts/:id/statement") view=PostStatementPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/billing/import") view=BillingImportPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/billing/print-queue") view=PrintQueuePage ssr=SsrMode::Async/>
                <Route path=path!("/staff/questionnaires") view=LibraryPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/questionnaires/patients/:id") view=PatientQuestionnairesPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/questionnaires/forms/:id") view=FormResponsesPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/questionnaires/responses/:id") view=ResponsePage ssr=SsrMode::Async/>
                <Route path=path!("/staff/visits") view=StaffVisitsPage ssr=SsrMode::Async/>
                <Route path=path!("/staff/maintenance") view=StaffMaintenancePage ssr=SsrMode::Async/>
            </Routes>
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
