//! Pools (administrators): shared inboxes such as a nurse line, clinical or not, and who works them.

#[cfg(feature = "ssr")]
use super::admin;
use super::UNCHANGED;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, Loaded};
use crate::messaging::admin::{Person, Pool};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolsData {
    pub pools: Vec<Pool>,
    pub staff: Vec<Person>,
}

notice_codes! {
    pub enum PoolsNotice {
        Created = Done "pool" => "The pool is created.",
        Clinical = Done "clinical" => "The pool now does clinical work.",
        NonClinical = Done "non-clinical" => "The pool now does non-clinical work.",
        MemberAdded = Done "member-added" => "The member is added.",
        MemberRemoved = Done "member-removed" => "The member is removed.",
        Name = Error "name" => "Please give the pool a name of at most 80 characters that no other pool has.",
        Unchanged = Error "unchanged" => UNCHANGED,
    }
}

#[server(endpoint = "staff/pools/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_pools() -> Result<PoolsData, AppError> {
    let (_, state) = admin()?;
    Ok(PoolsData {
        pools: crate::messaging::admin::pools(&state.db).await?,
        staff: crate::messaging::admin::staff_with_roles(&state.db, &["clinician", "front-desk", "billing"]).await?,
    })
}

/// `clinical` is the checkbox: "yes" when ticked, absent otherwise (non-clinical, the narrower).
#[server(endpoint = "staff/pools/create")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn create_pool(name: String, description: String, clinical: Option<String>) -> Result<(), AppError> {
    use crate::platform::request;
    let (session, state) = admin()?;
    let name = name.trim();
    let description: String = description.trim().chars().take(300).collect();
    let clinical = clinical.as_deref() == Some("yes");
    let ok = !name.is_empty()
        && name.chars().count() <= 80
        && crate::messaging::admin::create_pool(&state.db, &session.viewer.user_id, name, &description, clinical, request::client_addr(), state.clock.now_ms())
            .await?;
    redirect_notice("/staff/pools", if ok { PoolsNotice::Created } else { PoolsNotice::Name });
    Ok(())
}

/// Makes a pool clinical (`clinical` = "yes") or non-clinical ("no").
#[server(endpoint = "staff/pools/clinical")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_pool_clinical(pool: String, clinical: String) -> Result<(), AppError> {
    use crate::platform::request;
    let (session, state) = admin()?;
    let pool = crate::messaging::PoolId::parse(&pool).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let clinical = match clinical.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(request::refuse(AppError::NotFound)),
    };
    let done =
        crate::messaging::admin::set_pool_clinical(&state.db, &session.viewer.user_id, &pool, clinical, request::client_addr(), state.clock.now_ms()).await?;
    let outcome = match (done, clinical) {
        (true, true) => PoolsNotice::Clinical,
        (true, false) => PoolsNotice::NonClinical,
        _ => PoolsNotice::Unchanged,
    };
    redirect_notice("/staff/pools", outcome);
    Ok(())
}

#[server(endpoint = "staff/pools/member")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn set_pool_member(pool: String, user: String, change: String) -> Result<(), AppError> {
    use crate::platform::request;
    let (session, state) = admin()?;
    let pool = crate::messaging::PoolId::parse(&pool).ok_or_else(|| request::refuse(AppError::NotFound))?;
    let add = change == "add";
    let done =
        crate::messaging::admin::set_pool_member(&state.db, &session.viewer.user_id, &pool, &user, add, request::client_addr(), state.clock.now_ms()).await?;
    let outcome = match (done, add) {
        (true, true) => PoolsNotice::MemberAdded,
        (true, false) => PoolsNotice::MemberRemoved,
        _ => PoolsNotice::Unchanged,
    };
    redirect_notice("/staff/pools", outcome);
    Ok(())
}

#[component]
pub fn PoolsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_pools());
    view! {
        <Title text="Pools | Staff"/>
            <h1>"Pools"</h1>
            {notice::<PoolsNotice>()}
            <p class="lead">"A pool is a shared inbox that several staff members work, such as a nurse line. Patients can write to the pools on their care team."</p>
            <p>"A "<strong>"clinical"</strong>" pool (a nurse line) does clinical work: the clinicians who work it read the clinical conversations of the patients whose care team it is on, and a conversation sent to it is clinical. "
                "Everyone else, in any pool, reads only the conversations sent or forwarded to them or their pools (minimum necessary)."</p>
            <Loaded resource=data view=move |d| view! { <PoolsView d/> }/>
    }
}

#[component]
fn PoolsView(d: PoolsData) -> impl IntoView {
    let staff = d.staff;
    view! {
        {d.pools.into_iter().map(|p| {
            let heading_id = format!("pool-{}", p.id);
            let select_id = format!("add-{}", p.id);
            let candidates: Vec<Person> = staff.iter().filter(|s| !p.members.iter().any(|m| m.id == s.id)).cloned().collect();
            let pool_id = p.id.clone();
            let pool_name = p.name.clone();
            view! {
                <section class="section" aria-labelledby=heading_id.clone()>
                    <h2 id=heading_id.clone()>{p.name.clone()}</h2>
                    <p>{p.description.clone()}</p>
                    <div>
                        <strong>{if p.clinical { "Clinical pool" } else { "Non-clinical pool" }}</strong>" "
                        <PostForm<SetPoolClinical> class="inline-form" clone:pool_id clone:pool_name>
                            <input type="hidden" name="pool" value=pool_id/>
                            <input type="hidden" name="clinical" value=if p.clinical { "no" } else { "yes" }/>
                            <button type="submit" class="button button--quiet">
                                {if p.clinical { format!("Make {pool_name} non-clinical") } else { format!("Make {pool_name} clinical") }}
                            </button>
                        </PostForm<SetPoolClinical>>
                    </div>
                    {if p.members.is_empty() {
                        view! { <p>"No members yet: messages to this pool wait for nobody."</p> }.into_any()
                    } else {
                        view! {
                            <ul>
                                {p.members.into_iter().map(|m| {
                                    let label = format!("Remove {} from {}", m.name, pool_name);
                                    view! {
                                        <li>
                                            {m.name.clone()}" "
                                            <PostForm<SetPoolMember> class="inline-form" clone:pool_id>
                                                <input type="hidden" name="pool" value=pool_id.clone()/>
                                                <input type="hidden" name="user" value=m.id/>
                                                <input type="hidden" name="change" value="remove"/>
                                                <button type="submit" class="button button--quiet" aria-label=label>"Remove"</button>
                                            </PostForm<SetPoolMember>>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    {(!candidates.is_empty()).then(|| view! {
                        <PostForm<SetPoolMember> class="form form--inline">
                            <input type="hidden" name="pool" value=p.id.clone()/>
                            <input type="hidden" name="change" value="add"/>
                            <div class="field">
                                <label for=select_id.clone()>{format!("Add a member to {}", p.name)}</label>
                                <select id=select_id.clone() name="user" required>
                                    <option value="">"Choose a staff member"</option>
                                    {candidates.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                                </select>
                            </div>
                            <button type="submit" class="button">"Add member"</button>
                        </PostForm<SetPoolMember>>
                    })}
                </section>
            }
        }).collect_view()}
        <section class="section" aria-labelledby="new-pool">
            <h2 id="new-pool">"New pool"</h2>
            <PostForm<CreatePool> class="form">
                <div class="field">
                    <label for="pool-name">"Name"</label>
                    <input type="text" id="pool-name" name="name" required maxlength="80"/>
                </div>
                <div class="field">
                    <label for="pool-description">"What it answers (patients see this)"</label>
                    <input type="text" id="pool-description" name="description" maxlength="300"/>
                </div>
                <div class="check">
                    <input type="checkbox" id="pool-clinical" name="clinical" value="yes"/>
                    <label for="pool-clinical">"Clinical pool (clinical work such as a nurse line; leave it for billing or front-desk work)"</label>
                </div>
                <button type="submit" class="button button--primary">"Create pool"</button>
            </PostForm<CreatePool>>
        </section>
    }
}
