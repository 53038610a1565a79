//! The page kit: the few shapes every page repeats, written once.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{de::DeserializeOwned, Serialize};

/// What a page shows while its data loads, and when loading failed: the data's view once it is
/// there, or the error (safe to show: `AppError`'s messages leak nothing) as an alert. A page
/// whose heading comes from its data names a `heading` to show above the error, so the page
/// still has its one `h1` when the data is missing (e.g. another patient's id: "not found").
///
/// ```ignore
/// let accounts = Resource::new(|| (), |_| load_billing_summary());
/// view! { <Loaded resource=accounts view=|a| view! { <AccountList accounts=a/> }/> }
/// ```
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    view: F,
    /// The page's heading when its data could not be loaded.
    #[prop(optional)]
    heading: Option<&'static str>,
    /// What is shown while the data loads.
    #[prop(default = "Loading…")]
    loading: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=move || view! { <p>{loading}</p> }>
            {move || {
                let view = view.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(data) => view(data).into_any(),
                        Err(e) => view! { {heading.map(|h| view! { <h1>{h}</h1> })} {super::alert(e.to_string())} }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// A short code in a page's address that says how the last form went (`?error=reason`,
/// `?done=saved`): typed per feature, so the page shows a message for exactly the codes its
/// server functions send, and nothing a stranger puts in the address.
pub trait NoticeCode: Sized + Copy + 'static {
    /// Every code, for parsing.
    const ALL: &'static [Self];
    /// The code as it travels in the address.
    fn code(self) -> &'static str;
    /// What the person is told.
    fn message(self) -> &'static str;

    fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.code() == code)
    }
}
