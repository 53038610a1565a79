//! The holiday list: the days business days skip (administrators change it; staff who answer
//! messages may read it).

#[cfg(feature = "ssr")]
use super::admin;
use super::UNCHANGED;
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::layout::redirect_notice;
use crate::layout::PostForm;
use crate::layout::{notice, notice_codes, Loaded};
use crate::messaging::admin::Holiday;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HolidaysData {
    /// From today on (in the clinic's time zone).
    pub upcoming: Vec<Holiday>,
    /// Earlier this year.
    pub earlier: Vec<Holiday>,
    pub can_edit: bool,
}

notice_codes! {
    pub enum HolidaysNotice {
        Added = Done "holiday-added" => "The holiday is added.",
        Removed = Done "holiday-removed" => "The holiday is removed.",
        Day = Error "day" => "Please give a date (YYYY-MM-DD) and a name, for a day not already on the list.",
        Unchanged = Error "unchanged" => UNCHANGED,
    }
}

#[server(endpoint = "staff/holidays/list")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn load_holidays() -> Result<HolidaysData, AppError> {
    use crate::types::{AccountKind, StaffRole};
    let cx = crate::context::StaffCtx::get(crate::access::Permission::SeeHolidays)?;
    let (session, state) = (&cx.session, &cx.state);
    let today = jiff::Timestamp::from_millisecond(cx.now).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(state.settings.messaging.time_zone.clone()).date();
    let today_text = today.strftime("%Y-%m-%d").to_string();
    let (upcoming, earlier) =
        crate::messaging::admin::holidays(&state.db, &format!("{:04}-01-01", today.year())).await?.into_iter().partition(|h| h.day >= today_text);
    Ok(HolidaysData { upcoming, earlier, can_edit: matches!(session.viewer.kind, AccountKind::Staff(StaffRole::Administrator)) })
}

#[server(endpoint = "staff/holidays/change")]
#[cfg_attr(feature = "ssr", tracing::instrument(skip_all))]
pub async fn change_holiday(day: String, name: String, change: String) -> Result<(), AppError> {
    use crate::platform::request;
    let (session, state) = admin()?;
    let Some(date) = crate::dates::CalendarDate::parse(&day) else {
        redirect_notice("/staff/holidays", HolidaysNotice::Day);
        return Ok(());
    };
    let day = date.to_string();
    let add = change == "add";
    let name = name.trim();
    if add && (name.is_empty() || name.chars().count() > 80) {
        redirect_notice("/staff/holidays", HolidaysNotice::Day);
        return Ok(());
    }
    let done =
        crate::messaging::admin::set_holiday(&state.db, &session.viewer.user_id, &day, add.then_some(name), request::client_addr(), state.clock.now_ms())
            .await?;
    let outcome = match (done, add) {
        (true, true) => HolidaysNotice::Added,
        (true, false) => HolidaysNotice::Removed,
        (false, true) => HolidaysNotice::Day,
        (false, false) => HolidaysNotice::Unchanged,
    };
    redirect_notice("/staff/holidays", outcome);
    Ok(())
}

#[component]
pub fn HolidaysPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| load_holidays());
    view! {
        <Title text="Holidays | Staff"/>
            <h1>"Holidays"</h1>
            {notice::<HolidaysNotice>()}
            <p class="lead">"Due dates of messages are counted in business days: Monday to Friday except these holidays. Adding a holiday changes the due dates of messages sent from then on, not of those already sent."</p>
            <Loaded resource=data view=move |d| view! { <HolidaysView d/> }/>
    }
}

#[component]
fn HolidaysView(d: HolidaysData) -> impl IntoView {
    let can_edit = d.can_edit;
    view! {
        {if d.upcoming.is_empty() {
            view! { <p>"No holidays to come are on the list."</p> }.into_any()
        } else {
            view! { <HolidayTable caption="Days the organisation is closed" holidays=d.upcoming can_edit/> }.into_any()
        }}
        {(!d.earlier.is_empty()).then(|| view! {
            <HolidayTable caption="Holidays earlier this year" holidays=d.earlier can_edit/>
        })}
        {can_edit.then(|| view! {
            <section class="section" aria-labelledby="new-holiday">
                <h2 id="new-holiday">"Add a holiday"</h2>
                <PostForm<ChangeHoliday> class="form">
                    <input type="hidden" name="change" value="add"/>
                    <div class="field">
                        <label for="holiday-day">"Date"</label>
                        <input type="date" id="holiday-day" name="day" required/>
                    </div>
                    <div class="field">
                        <label for="holiday-name">"Name"</label>
                        <input type="text" id="holiday-name" name="name" required maxlength="80"/>
                    </div>
                    <button type="submit" class="button button--primary">"Add holiday"</button>
                </PostForm<ChangeHoliday>>
            </section>
        })}
    }
}

#[component]
fn HolidayTable(caption: &'static str, holidays: Vec<Holiday>, can_edit: bool) -> impl IntoView {
    view! {
        <table class="table">
            <caption>{caption}</caption>
            <thead><tr>
                <th scope="col">"Date"</th><th scope="col">"Day"</th><th scope="col">"Name"</th>
                {can_edit.then(|| view! { <th scope="col"><span class="visually-hidden">"Action"</span></th> })}
            </tr></thead>
            <tbody>
                {holidays.into_iter().map(|h| {
                    let label = format!("Remove {} ({})", h.name, h.day);
                    view! {
                        <tr>
                            <th scope="row">{h.day.clone()}</th>
                            <td>{h.weekday.clone()}</td>
                            <td>{h.name.clone()}</td>
                            {can_edit.then(|| view! {
                                <td>
                                    <PostForm<ChangeHoliday> class="inline-form">
                                        <input type="hidden" name="day" value=h.day.clone()/>
                                        <input type="hidden" name="name" value=""/>
                                        <input type="hidden" name="change" value="remove"/>
                                        <button type="submit" class="button button--quiet" aria-label=label>"Remove"</button>
                                    </PostForm<ChangeHoliday>>
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
