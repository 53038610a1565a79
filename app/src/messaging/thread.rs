//! A conversation's messages, as the patient and as staff read them: the same frame (who wrote
//! when, the text, attachments), with what each side needs to know about a message's state.

use super::MessageView;
use leptos::prelude::*;

/// Who is reading the conversation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ThreadReader {
    Patient,
    Staff,
}

#[component]
pub fn MessageList(messages: Vec<MessageView>, reader: ThreadReader) -> impl IntoView {
    let staff = reader == ThreadReader::Staff;
    view! {
        <ol class="messages">
            {messages.into_iter().map(|m| {
                let to = m.to.clone().unwrap_or_default();
                let who = match (m.from_patient, staff) {
                    (true, false) => format!("You wrote to {to}"),
                    (true, true) => format!("{} wrote to {to}", m.author),
                    (false, _) => format!("{} wrote", m.author),
                };
                // The reader's own side is "mine".
                let message_class = if m.from_patient != staff { "message message--mine" } else { "message message--theirs" };
                let status = status(&m, staff);
                view! {
                    <li class=message_class>
                        <article aria-label=format!("{who}, {}", m.sent_text)>
                            <header class="message__head">
                                <p><strong>{who.clone()}</strong></p>
                                <p class="message__time">{m.sent_text.clone()}</p>
                            </header>
                            <div class="message__body">{m.body.lines().map(|l| view! { <p>{l.to_string()}</p> }).collect_view()}</div>
                            {(!m.attachments.is_empty()).then(|| view! {
                                <ul class="attachments" aria-label="Attachments">
                                    {m.attachments.iter().map(|a| {
                                        let details = if staff {
                                            format!(" ({}, {})", a.content_type, super::file_size(a.size))
                                        } else {
                                            format!(" ({})", super::file_size(a.size))
                                        };
                                        view! {
                                            <li><a href=format!("/attachments/{}", a.id.as_str()) download=a.file_name.clone()>{a.file_name.clone()}</a>{details}</li>
                                        }
                                    }).collect_view()}
                                </ul>
                            })}
                            {(!m.routes.is_empty()).then(|| view! {
                                <ul class="routes" aria-label="Routing">
                                    {m.routes.iter().map(|r| view! {
                                        <li>{format!("{}: {} → {}. {}.", r.at_text, r.from, r.to, r.reason)}</li>
                                    }).collect_view()}
                                </ul>
                            })}
                            {status.map(|s| view! { <p class="message__status">{s}</p> })}
                        </article>
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// A patient's message: answered or when a reply is due (staff also see where it waits). A
/// staff message: staff see whether the patient has read it.
fn status(m: &MessageView, staff: bool) -> Option<String> {
    if m.from_patient {
        Some(match (m.handled_at, &m.due_text, &m.assigned_to, staff) {
            (Some(_), _, _, false) => "Answered".to_string(),
            (Some(_), _, _, true) => "Handled".to_string(),
            (None, Some(due), _, false) => format!("Reply expected by {due}"),
            (None, Some(due), Some(to), true) => format!("Waiting for {to}; due {due}"),
            (None, Some(due), None, true) => format!("Due {due}"),
            (None, None, _, _) => return None,
        })
    } else if staff {
        Some(match &m.read_text {
            Some(at) => format!("Read by the patient {at}"),
            None => "Not yet read by the patient".to_string(),
        })
    } else {
        None
    }
}
