//! The page kit: the few shapes every page repeats, written once.

use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::{de::DeserializeOwned, Serialize};
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;

/// What a page shows while its data loads, and when loading failed: the data's view once it is
/// there, or the error (safe to show: `AppError`'s messages leak nothing) as an alert. A page
/// whose heading comes from its data names a `heading` to show above the error, so the page
/// still has its one `h1` when the data is missing (e.g. another patient's id: "not found").
/// A page that shows two resources together passes the pair, `resource=(code, detail)`, and its
/// view takes both; the first error is shown.
///
/// ```ignore
/// let accounts = Resource::new(|| (), |_| load_billing_summary());
/// view! { <Loaded resource=accounts view=|a| view! { <AccountList accounts=a/> }/> }
/// ```
#[component]
pub fn Loaded<R, F, V>(
    resource: R,
    view: F,
    /// The page's heading when its data could not be loaded.
    #[prop(optional)]
    heading: Option<&'static str>,
    /// What is shown while the data loads.
    #[prop(default = "Loading…")]
    loading: &'static str,
    /// Nothing while the data loads, for a part beside the page's own content (a count, a notice).
    #[prop(optional)]
    quiet: bool,
    /// What is shown instead of the error's alert, when the page says it its own way (or not at all).
    #[prop(optional, into)]
    on_error: Option<ViewFn>,
) -> impl IntoView
where
    R: Load,
    F: Fn(R::Data) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=move || (!quiet).then(|| view! { <p>{loading}</p> })>
            {move || {
                let view = view.clone();
                let on_error = on_error.clone();
                Suspend::new(async move {
                    match resource.load().await {
                        Ok(data) => view(data).into_any(),
                        Err(e) => match on_error {
                            Some(own) => own.run(),
                            None => view! { {heading.map(|h| view! { <h1>{h}</h1> })} {super::alert(e.to_string())} }.into_any(),
                        },
                    }
                })
            }}
        </Suspense>
    }
}

/// What [`Loaded`] waits for: a page's resource, or a pair of them shown together.
pub trait Load: Copy + Send + Sync + 'static {
    /// What the page's view is given.
    type Data: Send + 'static;
    /// Waits for the data (both parts of a pair, the first error if any).
    fn load(self) -> impl Future<Output = Result<Self::Data, AppError>> + Send + 'static;
}

impl<T> Load for Resource<Result<T, AppError>>
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    type Data = T;
    fn load(self) -> impl Future<Output = Result<T, AppError>> + Send + 'static {
        self.into_future()
    }
}

impl<A: Load, B: Load> Load for (A, B) {
    type Data = (A::Data, B::Data);
    async fn load(self) -> Result<Self::Data, AppError> {
        let (a, b) = (self.0.load().await, self.1.load().await);
        Ok((a?, b?))
    }
}

/// A form that posts to the server function `F`: plain HTML (`method="post"`, the function's
/// path as its `action`), so it works without JavaScript and its address cannot drift from the
/// function's. `multipart` is for a form that carries files.
///
/// ```ignore
/// view! { <PostForm<RevokeCode> class="inline-form"><button type="submit">"Revoke"</button></PostForm<RevokeCode>> }
/// ```
#[component]
pub fn PostForm<F: ServerFn>(
    children: FormBody,
    #[prop(optional)] class: Option<&'static str>,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] role: Option<&'static str>,
    #[prop(optional)] aria_label: Option<&'static str>,
    #[prop(optional)] aria_labelledby: Option<&'static str>,
    #[prop(optional)] multipart: bool,
    #[prop(optional)] novalidate: bool,
    /// Posted by the browser itself, not by `navigation.js` (`data-reload`): for a form whose
    /// answer is a page that needs other scripts (signing in), which would be fetched twice.
    #[prop(optional)]
    reload: bool,
    #[prop(marker)] _function: PhantomData<fn() -> F>,
) -> impl IntoView {
    PostFormTo(PostFormToProps { action: F::PATH, children, class, id, role, aria_label, aria_labelledby, multipart, novalidate, reload })
}

/// A form that posts to a page rather than to a server function (the staff searches, which
/// the server answers by rendering the page): [`PostForm`] with its `action` given.
#[component]
pub fn PostFormTo(
    action: &'static str,
    children: FormBody,
    #[prop(optional)] class: Option<&'static str>,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] role: Option<&'static str>,
    #[prop(optional)] aria_label: Option<&'static str>,
    #[prop(optional)] aria_labelledby: Option<&'static str>,
    #[prop(optional)] multipart: bool,
    #[prop(optional)] novalidate: bool,
    #[prop(optional)] reload: bool,
) -> impl IntoView {
    let enctype = multipart.then_some("multipart/form-data");
    let reload = reload.then_some("");
    // Two shapes because a missing class (`class=None`) would still be written as `class=""`.
    match class {
        Some(class) => view! {
            <form method="post" enctype=enctype action=action class=class id=id role=role aria-label=aria_label aria-labelledby=aria_labelledby novalidate=novalidate data-reload=reload>
                {children.0}
            </form>
        }
        .into_any(),
        None => view! {
            <form method="post" enctype=enctype action=action id=id role=role aria-label=aria_label aria-labelledby=aria_labelledby novalidate=novalidate data-reload=reload>
                {children.0}
            </form>
        }
        .into_any(),
    }
}

/// A form's content, built where the form is written (`Children` would build it later), so
/// that it may borrow what the page is showing, as a plain `<form>` could.
pub struct FormBody(AnyView);

impl<F, C> leptos::children::ToChildren<F> for FormBody
where
    F: FnOnce() -> C,
    C: IntoAny,
{
    fn to_children(f: F) -> Self {
        FormBody(f().into_any())
    }
}

/// Whether a notice says that something was done (`?done=`, announced politely with
/// `role="status"`) or that something went wrong (`?error=`, announced at once with `role="alert"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    Done,
    Error,
}

impl NoticeKind {
    /// The query key the code travels under.
    pub fn key(self) -> &'static str {
        match self {
            NoticeKind::Done => "done",
            NoticeKind::Error => "error",
        }
    }
}

/// A short code in a page's address that says how the last form went (`?error=reason`,
/// `?done=saved`): typed per feature, so the page shows a message for exactly the codes its
/// server functions send, and nothing a stranger puts in the address. Declare one with
/// [`notice_codes!`]; send it with [`redirect_notice`] (or [`notice_href`]), show it with [`notice`].
pub trait NoticeCode: Sized + Copy + Send + Sync + 'static {
    /// Every code, for parsing.
    const ALL: &'static [Self];
    /// The code as it travels in the address.
    fn code(self) -> &'static str;
    /// What the person is told.
    fn message(self) -> &'static str;
    /// A confirmation (`done`) or a problem (`error`).
    fn kind(self) -> NoticeKind;

    /// The code of this kind spelled `code`, if the page knows it.
    fn parse(kind: NoticeKind, code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.kind() == kind && c.code() == code)
    }

    /// The code a page's query carries (`done` first, then `error`), if the page knows it.
    fn from_query(query: &leptos_router::params::ParamsMap) -> Option<Self> {
        [NoticeKind::Done, NoticeKind::Error].into_iter().find_map(|kind| Self::parse(kind, &query.get(kind.key())?))
    }
}

/// Declares a page's notice codes: an enum and its [`NoticeCode`] implementation.
///
/// ```ignore
/// notice_codes! {
///     pub enum MaintenanceNotice {
///         Scheduled = Done "scheduled" => "The maintenance window is scheduled.",
///         Times = Error "times" => "Please give a start and an end.",
///     }
/// }
/// ```
macro_rules! notice_codes {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $kind:ident $code:literal => $message:expr),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $crate::layout::NoticeCode for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code),+
                }
            }
            fn message(self) -> &'static str {
                match self {
                    $(Self::$variant => $message),+
                }
            }
            fn kind(self) -> $crate::layout::NoticeKind {
                match self {
                    $(Self::$variant => $crate::layout::NoticeKind::$kind),+
                }
            }
        }
    };
}
pub(crate) use notice_codes;

/// The address of `path` with `code` in its query (`?done=…` or `?error=…`, after `&` when the
/// path has a query already, before any `#fragment`).
pub fn notice_href<N: NoticeCode>(path: &str, code: N) -> String {
    notice_href_with(path, code, &[])
}

/// [`notice_href`] with more fields after the code (`?error=throttled&wait=5`), each name and
/// value percent-encoded, all in the query before any `#fragment`.
pub fn notice_href_with<N: NoticeCode>(path: &str, code: N, extra: &[(&str, &str)]) -> String {
    let (base, fragment) = path.split_once('#').map_or((path, ""), |(b, f)| (b, f));
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut href = format!("{base}{separator}{}={}", code.kind().key(), code.code());
    for (name, value) in extra {
        href.push('&');
        push_encoded(&mut href, name);
        href.push('=');
        push_encoded(&mut href, value);
    }
    if !fragment.is_empty() {
        href.push('#');
        href.push_str(fragment);
    }
    href
}

/// Percent-encodes all but the unreserved characters of RFC 3986.
fn push_encoded(out: &mut String, text: &str) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Answers the form's post with a redirect to `path` carrying `code`.
#[cfg(feature = "ssr")]
pub fn redirect_notice<N: NoticeCode>(path: &str, code: N) {
    crate::platform::request::redirect(&notice_href(path, code));
}

/// The paragraph that shows `code`: `notice notice--status` with `role="status"` for a
/// confirmation, `notice notice--alert` with `role="alert"` for a problem.
pub fn notice_view<N: NoticeCode>(code: N) -> AnyView {
    match code.kind() {
        NoticeKind::Done => view! { <p class="notice notice--status" role="status">{code.message()}</p> }.into_any(),
        NoticeKind::Error => view! { <p class="notice notice--alert" role="alert">{code.message()}</p> }.into_any(),
    }
}

/// The notice for the code in the page's query, for exactly the codes of `N`: an unknown code
/// (or one under the wrong key) shows nothing.
///
/// ```ignore
/// view! { <h1>"Maintenance windows"</h1> {notice::<MaintenanceNotice>()} }
/// ```
pub fn notice<N: NoticeCode>() -> impl Fn() -> Option<AnyView> + Send + Sync + 'static {
    let query = leptos_router::hooks::use_query_map();
    move || query.with(|q| N::from_query(q)).map(notice_view)
}

/// The code of `N` in the page's query, for a page that shows it its own way (beside a field).
pub fn notice_code<N: NoticeCode>() -> impl Fn() -> Option<N> + Send + Sync + Clone + 'static {
    let query = leptos_router::hooks::use_query_map();
    move || query.with(|q| N::from_query(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    notice_codes! {
        enum Test {
            Saved = Done "saved" => "Saved.",
            Bad = Error "bad" => "Bad.",
        }
    }

    /// A server function for the form tests (registered in this test build only).
    #[server(endpoint = "kit/test")]
    async fn sign_out() -> Result<(), AppError> {
        Ok(())
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn a_post_form_renders_as_the_hand_written_form() {
        let path = <SignOut as ServerFn>::PATH;
        // The form's content is a view of its own, so the renderer may put its empty hydration
        // comments (`<!>`) in other places: they are not part of what a browser shows or posts.
        let html = |v: AnyView| Owner::new().with(|| v.to_html()).replace("<!>", "");
        let kit = html(view! { <PostForm<SignOut> class="form"><button type="submit">"Go"</button></PostForm<SignOut>> }.into_any());
        let by_hand = html(view! { <form method="post" action=path class="form"><button type="submit">"Go"</button></form> }.into_any());
        assert_eq!(kit, by_hand);
        assert_eq!(kit, format!(r#"<form method="post" action="{path}" class="form"><button type="submit">Go</button></form>"#));
        let kit = html(view! { <PostForm<SignOut> multipart=true class="form questionnaire" novalidate=true><i>"x"</i></PostForm<SignOut>> }.into_any());
        let by_hand = html(
            view! { <form method="post" enctype="multipart/form-data" action=path class="form questionnaire" novalidate=true><i>"x"</i></form> }.into_any(),
        );
        assert_eq!(kit, by_hand);
        let kit = html(view! { <PostFormTo action="/staff/patients" class="form form--inline" role="search"><i>"x"</i></PostFormTo> }.into_any());
        let by_hand = html(view! { <form method="post" action="/staff/patients" class="form form--inline" role="search"><i>"x"</i></form> }.into_any());
        assert_eq!(kit, by_hand);
        let kit = html(view! { <PostForm<SignOut> id="f" aria_label="A" aria_labelledby="h"><i>"x"</i></PostForm<SignOut>> }.into_any());
        assert_eq!(kit, format!(r#"<form method="post" action="{path}" id="f" aria-label="A" aria-labelledby="h"><i>x</i></form>"#));
    }

    #[test]
    fn addresses_carry_the_code_under_its_key() {
        assert_eq!(notice_href("/page", Test::Saved), "/page?done=saved");
        assert_eq!(notice_href("/page?patient=7", Test::Bad), "/page?patient=7&error=bad");
        assert_eq!(notice_href("/page#form", Test::Bad), "/page?error=bad#form");
        assert_eq!(notice_href("/page?a=1#form", Test::Saved), "/page?a=1&done=saved#form");
    }

    #[test]
    fn extra_fields_go_in_the_query_after_the_code_and_before_the_fragment() {
        assert_eq!(notice_href_with("/page", Test::Bad, &[("wait", "5")]), "/page?error=bad&wait=5");
        assert_eq!(notice_href_with("/page#form", Test::Bad, &[("wait", "5")]), "/page?error=bad&wait=5#form");
        assert_eq!(notice_href_with("/page?a=1#form", Test::Bad, &[("wait", "5"), ("b", "2")]), "/page?a=1&error=bad&wait=5&b=2#form");
        assert_eq!(notice_href_with("/page", Test::Saved, &[("n a&m=e", "x y#z/é")]), "/page?done=saved&n%20a%26m%3De=x%20y%23z%2F%C3%A9");
        assert_eq!(notice_href_with("/page?a=1", Test::Saved, &[]), notice_href("/page?a=1", Test::Saved));
    }

    #[test]
    fn only_known_codes_under_their_own_key_parse() {
        assert_eq!(Test::parse(NoticeKind::Done, "saved"), Some(Test::Saved));
        assert_eq!(Test::parse(NoticeKind::Error, "saved"), None);
        assert_eq!(Test::parse(NoticeKind::Error, "<script>"), None);
        let mut q = leptos_router::params::ParamsMap::new();
        q.insert("error", "bad".to_string());
        assert_eq!(Test::from_query(&q), Some(Test::Bad));
        q.insert("error", "Your account is closed, call 555".to_string());
        assert_eq!(Test::from_query(&q), None);
    }
}
