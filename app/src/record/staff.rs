//! The staff side of the record's link (on the patient's page, `/staff/patients/:id`): which
//! FHIR Patient of the EHR a portal patient is. For the front desk and administrators (they
//! manage patients' access); every change is audited.

use crate::error::AppError;
use crate::layout::PostForm;
use leptos::prelude::*;

/// Links the patient to the EHR's Patient with this id (it must exist there and belong to no
/// other portal patient), then back to the patient's page with what happened.
#[server(endpoint = "staff/record/link")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn link_fhir_patient(patient_id: String, fhir_patient_id: String) -> Result<(), AppError> {
    use super::server::LinkError;
    use crate::access::Permission::ManagePatientAccess;
    use crate::patients::PatientId;
    use crate::patients::PatientNotice;
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_permission(ManagePatientAccess)?;
    let state = app_state()?;
    let id = PatientId::parse(&patient_id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let fhir_patient_id: String = fhir_patient_id.chars().take(100).collect();
    let outcome = match super::server::link(&state, &session.viewer.user_id, &id, &fhir_patient_id, request::client_addr(), state.clock.now_ms()).await {
        Ok(()) => PatientNotice::RecordLinked,
        Err(LinkError::BadId) => PatientNotice::RecordId,
        Err(LinkError::NotInEhr) => PatientNotice::RecordNotFound,
        Err(LinkError::Taken) => PatientNotice::RecordTaken,
        Err(LinkError::NoPatient) => return Err(request::refuse(AppError::NotFound)),
        Err(LinkError::Record(super::source::RecordError::Db(e))) => return Err(e.into()),
        Err(LinkError::Record(_)) => PatientNotice::RecordUnavailable,
    };
    crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), outcome);
    Ok(())
}

/// Removes the patient's link to the EHR (the next look matches by record number again).
#[server(endpoint = "staff/record/unlink")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn unlink_fhir_patient(patient_id: String) -> Result<(), AppError> {
    use crate::access::Permission::ManagePatientAccess;
    use crate::patients::PatientId;
    use crate::patients::PatientNotice;
    use crate::platform::request;
    use crate::state::app_state;
    let session = request::require_permission(ManagePatientAccess)?;
    let state = app_state()?;
    let id = PatientId::parse(&patient_id).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let done = super::server::unlink(&state.db, &session.viewer.user_id, &id, request::client_addr(), state.clock.now_ms()).await?;
    crate::layout::redirect_notice(&format!("/staff/patients/{}", id.as_str()), if done { PatientNotice::RecordUnlinked } else { PatientNotice::Unchanged });
    Ok(())
}

/// The "Medical record (EHR)" part of the staff patient page: the link, and the forms to set
/// or remove it.
#[component]
pub fn RecordLinkSection(patient_id: String, link: Option<super::RecordLink>) -> impl IntoView {
    use super::LinkHow;
    use crate::account::format_utc;
    let how = link.as_ref().map(|l| match l.how {
        LinkHow::Staff => format!("Linked by {} on {}.", l.linked_by.clone().unwrap_or_else(|| "a member of staff".into()), format_utc(l.linked_at)),
        LinkHow::RecordNumber => format!("Found by the record number on {}.", format_utc(l.linked_at)),
    });
    view! {
        <h2>"Medical record (EHR)"</h2>
        {match link.clone() {
            Some(l) => view! {
                <p>"The patient's record in the EHR is Patient "<code>{l.fhir_patient_id}</code>". "{how}</p>
            }.into_any(),
            None => view! {
                <p>"Not linked yet. When the patient first opens their record, the portal looks for the EHR patient with "
                   "this record number; if there is not exactly one, link the patient here."</p>
            }.into_any(),
        }}
        <PostForm<LinkFhirPatient> class="form form--inline" clone:patient_id clone:link>
            <input type="hidden" name="patient_id" value=patient_id.clone()/>
            <div class="field">
                <label for="fhir_patient_id">"EHR patient id (FHIR Patient id)"</label>
                <input id="fhir_patient_id" name="fhir_patient_id" type="text" required maxlength="64"
                    autocomplete="off" spellcheck="false"/>
            </div>
            <button type="submit" class="button">{if link.is_some() { "Change the link" } else { "Link" }}</button>
        </PostForm<LinkFhirPatient>>
        {link.is_some().then(|| view! {
            <PostForm<UnlinkFhirPatient> class="form">
                <input type="hidden" name="patient_id" value=patient_id.clone()/>
                <button type="submit" class="button button--quiet">"Remove the link"</button>
            </PostForm<UnlinkFhirPatient>>
        })}
    }
}
