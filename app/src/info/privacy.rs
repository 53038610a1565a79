//! The Notice of Privacy Practices (SPEC R-GEN-7): the organisation's own text, read at start
//! from `PORTAL_PRIVACY_NOTICE_FILE`, or the sample notice written for the project
//! (`sample-privacy-notice.md`). Either is a small subset of Markdown, so that an organisation
//! can paste its notice as plain text and get headings and lists:
//!
//! - blocks are separated by blank lines; `# ` is the page's heading, `## ` and `### ` sections;
//! - a block whose lines start with `- ` is a list (a line without it continues the item);
//! - `**text**` is strong; `<https://…>` is a link to another site, through the leaving page;
//! - `{organisation}`, `{phone}` and `{address}` are replaced by the settings' values.
//!
//! Nothing else is interpreted: the text is never inserted as HTML.

use crate::external_links::ExternalLink;
use leptos::prelude::*;

/// The sample notice shipped with the portal.
pub const SAMPLE_NOTICE: &str = include_str!("sample-privacy-notice.md");

/// The notice in force with the organisation's details filled in.
pub fn notice_text() -> String {
    #[cfg(feature = "ssr")]
    if let Ok(state) = crate::state::app_state() {
        let org = &state.settings.organisation;
        let text = org.privacy_notice.as_deref().unwrap_or(SAMPLE_NOTICE);
        return fill_in(text, &org.name, &org.phone, &org.address.join(", "));
    }
    fill_in(SAMPLE_NOTICE, "the organisation", "", "")
}

pub fn fill_in(text: &str, organisation: &str, phone: &str, address: &str) -> String {
    text.replace("{organisation}", organisation).replace("{phone}", phone).replace("{address}", address)
}

/// One block of the notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Title(String),
    Section(String),
    Subsection(String),
    List(Vec<String>),
    Paragraph(String),
}

/// The notice's blocks.
pub fn blocks(text: &str) -> Vec<Block> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| {
            if let Some(h) = b.strip_prefix("### ") {
                Block::Subsection(one_line(h))
            } else if let Some(h) = b.strip_prefix("## ") {
                Block::Section(one_line(h))
            } else if let Some(h) = b.strip_prefix("# ") {
                Block::Title(one_line(h))
            } else if b.starts_with("- ") {
                let mut items: Vec<String> = Vec::new();
                for line in b.lines() {
                    match line.trim_start().strip_prefix("- ") {
                        Some(item) => items.push(item.trim().to_string()),
                        None => {
                            if let Some(last) = items.last_mut() {
                                last.push(' ');
                                last.push_str(line.trim());
                            }
                        }
                    }
                }
                Block::List(items)
            } else {
                Block::Paragraph(one_line(b))
            }
        })
        .collect()
}

fn one_line(text: &str) -> String {
    text.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

/// A piece of a line of text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    Strong(String),
    Link(String),
}

/// `**strong**` and `<http(s)://…>` within a line; anything unmatched stays text.
pub fn inlines(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut plain = String::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("**") {
            if let Some(end) = after.find("**") {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                out.push(Inline::Strong(after[..end].to_string()));
                rest = &after[end + 2..];
                continue;
            }
        }
        if rest.starts_with("<http://") || rest.starts_with("<https://") {
            if let Some(end) = rest.find('>') {
                if !plain.is_empty() {
                    out.push(Inline::Text(std::mem::take(&mut plain)));
                }
                out.push(Inline::Link(rest[1..end].to_string()));
                rest = &rest[end + 1..];
                continue;
            }
        }
        let ch = rest.chars().next().expect("not empty");
        plain.push(ch);
        rest = &rest[ch.len_utf8()..];
    }
    if !plain.is_empty() {
        out.push(Inline::Text(plain));
    }
    out
}

fn line_view(text: &str) -> impl IntoView {
    inlines(text)
        .into_iter()
        .map(|piece| match piece {
            Inline::Text(t) => t.into_any(),
            Inline::Strong(t) => view! { <strong>{t}</strong> }.into_any(),
            Inline::Link(url) => view! { <ExternalLink href=url.clone() text=url/> }.into_any(),
        })
        .collect_view()
}

/// The notice as a page: its own `# ` title as the heading, or "Notice of Privacy Practices".
#[component]
pub fn NoticeText(text: String) -> impl IntoView {
    let blocks = blocks(&text);
    let has_title = matches!(blocks.first(), Some(Block::Title(_)));
    view! {
        {(!has_title).then(|| view! { <h1>"Notice of Privacy Practices"</h1> })}
        {blocks.into_iter().enumerate().map(|(i, b)| match b {
            // Only the first block may be the page's one h1; a later `# ` is a section.
            Block::Title(t) if i == 0 => view! { <h1>{t}</h1> }.into_any(),
            Block::Title(t) | Block::Section(t) => view! { <h2>{line_view(&t)}</h2> }.into_any(),
            Block::Subsection(t) => view! { <h3>{line_view(&t)}</h3> }.into_any(),
            Block::List(items) => view! { <ul>{items.into_iter().map(|it| view! { <li>{line_view(&it)}</li> }).collect_view()}</ul> }.into_any(),
            Block::Paragraph(p) => view! { <p>{line_view(&p)}</p> }.into_any(),
        }).collect_view()}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_has_every_section_the_spec_asks_for() {
        let sections: Vec<String> = blocks(SAMPLE_NOTICE)
            .into_iter()
            .filter_map(|b| match b {
                Block::Section(s) => Some(s),
                _ => None,
            })
            .collect();
        for needed in ["How we use and disclose health information about you", "Your rights", "Our duties", "Complaints", "Contact", "Effective date"] {
            assert!(sections.iter().any(|s| s == needed), "{needed} in {sections:?}");
        }
        assert!(SAMPLE_NOTICE.contains("{organisation}"));
    }

    #[test]
    fn blocks_and_inlines() {
        let text = "# Title\n\nA paragraph\non two lines.\n\n## Rights\n\n- **One.** first\n  continued\n- Two <https://www.hhs.gov/ocr/> end";
        assert_eq!(
            blocks(text),
            vec![
                Block::Title("Title".into()),
                Block::Paragraph("A paragraph on two lines.".into()),
                Block::Section("Rights".into()),
                Block::List(vec!["**One.** first continued".into(), "Two <https://www.hhs.gov/ocr/> end".into()]),
            ]
        );
        assert_eq!(
            inlines("**One.** first <https://x.example/a> and <b> or **open"),
            vec![
                Inline::Strong("One.".into()),
                Inline::Text(" first ".into()),
                Inline::Link("https://x.example/a".into()),
                Inline::Text(" and <b> or **open".into()),
            ]
        );
    }

    #[test]
    fn the_organisations_details_are_filled_in() {
        let t = fill_in("{organisation}, {address}. Telephone {phone}.", "Test Clinic", "(555) 010-0199", "1 Test Street");
        assert_eq!(t, "Test Clinic, 1 Test Street. Telephone (555) 010-0199.");
    }
}
