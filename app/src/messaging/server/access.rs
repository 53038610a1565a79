//! Who among staff may read a conversation, or write to a patient: the minimum-necessary rule
//! as SQL conditions, shared with the questionnaires.

use super::*;

/// The minimum-necessary rule for staff and conversations, as one SQL condition on the thread
/// `{thread}` of patient `{patient}` for the member of staff `{staff}` (column names or
/// placeholders). A member of staff reads a conversation when:
///
/// - it reached them: they wrote in it, or one of its messages was addressed, routed or
///   forwarded to them or to a pool they work (whatever their role); or
/// - they are a clinician of the patient's care team (the care team's provider, or a clinician
///   who works a clinical pool on the care team) and the conversation is clinical: one of its
///   messages was addressed, routed or forwarded to a clinician or a clinical pool, or a
///   clinician wrote in it.
///
/// Billing and front-desk staff (and clinicians outside the care team) therefore read only what
/// was sent their way: a billing question, or a conversation someone forwarded to them (the
/// forward is recorded). Pool membership and roles are read as they are now: whoever leaves a
/// pool stops reading its conversations.
pub fn staff_reads_thread_sql(thread: &str, patient: &str, staff: &str) -> String {
    let my_pools = format!("(SELECT pool_id FROM pool_members WHERE user_id = {staff})");
    let clinician = "(SELECT id FROM users WHERE staff_role = 'clinician')";
    let clinical_pool = "(SELECT id FROM care_pools WHERE clinical = 'yes')";
    let care_team_clinician = care_team_clinician_sql(patient, staff);
    format!(
        "(EXISTS (SELECT 1 FROM messages rm WHERE rm.thread_id = {thread} AND (rm.author_id = {staff} \
              OR rm.to_provider_id = {staff} OR rm.assigned_provider_id = {staff} \
              OR rm.to_pool_id IN {my_pools} OR rm.assigned_pool_id IN {my_pools})) \
          OR EXISTS (SELECT 1 FROM messages rm JOIN message_routes rr ON rr.message_id = rm.id WHERE rm.thread_id = {thread} \
              AND (rr.to_provider_id = {staff} OR rr.to_pool_id IN {my_pools})) \
          OR ({care_team_clinician} \
              AND (EXISTS (SELECT 1 FROM messages cm WHERE cm.thread_id = {thread} AND ( \
                      cm.to_provider_id IN {clinician} OR cm.assigned_provider_id IN {clinician} \
                      OR (cm.author_kind = 'staff' AND cm.author_id IN {clinician}) \
                      OR cm.to_pool_id IN {clinical_pool} OR cm.assigned_pool_id IN {clinical_pool})) \
                   OR EXISTS (SELECT 1 FROM messages cm JOIN message_routes cr ON cr.message_id = cm.id WHERE cm.thread_id = {thread} \
                      AND (cr.to_provider_id IN {clinician} OR cr.to_pool_id IN {clinical_pool})))))"
    )
}

/// Whether a member of staff may see the thread (the rule of [`staff_reads_thread_sql`]).
pub async fn staff_may_see(conn: &mut sqlx::AnyConnection, staff: &UserId, thread: &ThreadId) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT 1 AS ok FROM threads t WHERE t.id = $1 AND {}", staff_reads_thread_sql("t.id", "t.patient_id", "$2"));
    let row = sqlx::query(&sql).bind(thread.as_str()).bind(staff.as_str()).fetch_optional(&mut *conn).await?;
    Ok(row.is_some())
}

/// The condition that `{staff}` is a clinician of the care team of `{patient}`: a clinician who
/// is the care team's provider or works a clinical pool on it.
pub fn care_team_clinician_sql(patient: &str, staff: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM users cu WHERE cu.id = {staff} AND cu.staff_role = 'clinician') \
          AND EXISTS (SELECT 1 FROM care_team ct WHERE ct.patient_id = {patient} AND (ct.provider_id = {staff} \
              OR ct.pool_id IN (SELECT pm.pool_id FROM pool_members pm JOIN care_pools cp ON cp.id = pm.pool_id \
                                WHERE pm.user_id = {staff} AND cp.clinical = 'yes'))))"
    )
}

/// Whether a member of staff is a clinician of the patient's care team: the care team's
/// provider, or a clinician who works a clinical pool on it. Questionnaire answers follow the
/// same line (`questionnaires::server`).
pub async fn clinician_of_care_team(conn: &mut sqlx::AnyConnection, staff: &UserId, patient: &PatientId) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT 1 AS ok WHERE {}", care_team_clinician_sql("$1", "$2"));
    Ok(sqlx::query(&sql).bind(patient.as_str()).bind(staff.as_str()).fetch_optional(&mut *conn).await?.is_some())
}

/// The patients a member of staff may start a conversation with: those whose care team they
/// are on, directly or through a pool.
pub async fn staff_may_write_to(conn: &mut sqlx::AnyConnection, staff: &UserId, patient: &PatientId) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT 1 AS ok FROM care_team c WHERE c.patient_id = $1 AND (c.provider_id = $2 \
           OR c.pool_id IN (SELECT pool_id FROM pool_members WHERE user_id = $2))",
    )
    .bind(patient.as_str())
    .bind(staff.as_str())
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}
