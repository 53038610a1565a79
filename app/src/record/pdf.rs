//! The printable Health Summary (SPEC R-REC-5: "a printable PDF summary"), made in memory with
//! `pdf-writer` (nothing is written to disk): US Letter, Helvetica, text in WinAnsi encoding.
//! Active health issues, allergies, current medications, immunizations and the latest value of
//! each test, flags in words. The document's metadata holds no personal data (viewers and file
//! managers show it without opening the file).

use super::convert::PatientRecord;
use super::model::*;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::HashSet;

/// What the summary shows, in the order printed: a heading and its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryDocument {
    pub organisation: String,
    pub patient_name: String,
    /// When it was made, as the clinic writes dates.
    pub made: String,
    pub sections: Vec<(String, Vec<String>)>,
}

/// The summary of a record.
pub fn summary_document(record: &PatientRecord, organisation: &str, patient_name: &str, made: &str) -> SummaryDocument {
    let or_none = |lines: Vec<String>, none: &str| if lines.is_empty() { vec![none.to_string()] } else { lines };
    let issues = record
        .health_issues()
        .active
        .into_iter()
        .map(|i| match i.onset {
            Some(w) => format!("{} (since {})", i.name, w.text),
            None => i.name,
        })
        .collect();
    let allergies = record.allergies();
    let mut allergy_lines: Vec<String> = allergies
        .items
        .iter()
        .filter(|a| a.active)
        .map(|a| {
            let reactions: Vec<String> = a
                .reactions
                .iter()
                .map(|r| {
                    let mut t = r.manifestations.join(", ");
                    if let Some(s) = r.severity {
                        t.push_str(&format!(" ({})", s.words().to_lowercase()));
                    }
                    t
                })
                .filter(|t| !t.is_empty())
                .collect();
            if reactions.is_empty() {
                a.substance.clone()
            } else {
                format!("{}: {}", a.substance, reactions.join("; "))
            }
        })
        .collect();
    if allergy_lines.is_empty() {
        if let Some(no_known) = allergies.no_known {
            allergy_lines.push(no_known);
        }
    }
    let medications = record
        .medications()
        .current
        .into_iter()
        .map(|m| match m.instructions {
            Some(i) => format!("{}: {i}", m.name),
            None => m.name,
        })
        .collect();
    let immunizations = record
        .immunizations()
        .into_iter()
        .filter(|i| i.status == ImmunizationStatus::Given)
        .map(|i| match i.date {
            Some(w) => format!("{}, {}", i.vaccine, w.text),
            None => i.vaccine,
        })
        .collect();
    // The latest value of each test, newest first.
    let mut seen = HashSet::new();
    let mut results: Vec<String> = Vec::new();
    let mut all: Vec<TestResult> = record.test_results().all().into_iter().cloned().collect();
    all.extend(record.vitals());
    all.sort_by(|a, b| newest_first(a.collected.as_ref().or(a.resulted.as_ref()), b.collected.as_ref().or(b.resulted.as_ref())));
    for r in all {
        if !seen.insert(r.key.clone()) {
            continue;
        }
        let value = if r.parts.is_empty() { r.value.text() } else { r.parts.iter().map(|p| p.value.text()).collect::<Vec<_>>().join(" / ") };
        let mut line = format!("{}: {value}", r.name);
        if let Some(w) = r.flag.words() {
            line.push_str(&format!(" ({})", w.to_lowercase()));
        }
        if let Some(range) = r.range.as_ref().map(|g| g.text()).filter(|t| !t.is_empty()) {
            line.push_str(&format!(", expected {range}"));
        }
        if let Some(w) = r.collected.as_ref().or(r.resulted.as_ref()) {
            line.push_str(&format!(", {}", w.day.long()));
        }
        results.push(line);
    }
    SummaryDocument {
        organisation: organisation.to_string(),
        patient_name: patient_name.to_string(),
        made: made.to_string(),
        sections: vec![
            ("Health issues (active)".into(), or_none(issues, "None on record.")),
            ("Allergies".into(), or_none(allergy_lines, "None on record.")),
            ("Current medications".into(), or_none(medications, "None on record.")),
            ("Immunizations".into(), or_none(immunizations, "None on record.")),
            ("Latest test results and vital signs".into(), or_none(results, "None on record.")),
        ],
    }
}

/// Today in the clinic's time zone, as the summary says when it was made.
pub fn today(now_ms: i64, tz: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(now_ms) {
        Ok(t) => {
            let d = t.to_zoned(tz.clone()).date();
            crate::dates::CalendarDate::new(d.year() as i32, d.month() as u32, d.day() as u32).map(|c| c.long()).unwrap_or_default()
        }
        Err(_) => String::new(),
    }
}

const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const LEFT: f32 = 54.0;
const RIGHT: f32 = PAGE_WIDTH - 54.0;
const TOP: f32 = PAGE_HEIGHT - 60.0;
const BOTTOM: f32 = 64.0;
const FOOTER_Y: f32 = 36.0;

#[derive(Clone, Copy, PartialEq)]
enum Face {
    Regular,
    Bold,
}

struct Line {
    y: f32,
    x: f32,
    face: Face,
    size: f32,
    text: String,
}

/// Text as WinAnsi bytes: Latin-1 as it is, the typographic marks the record uses mapped, and
/// what the encoding lacks spelled out ("≤" as "<=") or replaced.
pub fn winansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' => out.push(c as u8),
            '\u{a0}'..='\u{ff}' => out.push(c as u32 as u8),
            '–' => out.push(0x96),
            '—' => out.push(0x97),
            '‘' => out.push(0x91),
            '’' => out.push(0x92),
            '“' => out.push(0x93),
            '”' => out.push(0x94),
            '•' => out.push(0x95),
            '…' => out.push(0x85),
            '≤' => out.extend_from_slice(b"<="),
            '≥' => out.extend_from_slice(b">="),
            _ => out.push(b'?'),
        }
    }
    out
}

/// Lines no longer than `max` characters, split at spaces (a longer word is cut). Helvetica's
/// letters average about half the size: `max` is chosen from the width on that measure.
fn wrap(text: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        while word.chars().count() > max {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let cut: String = word.chars().take(max).collect();
            word = word.chars().skip(max).collect();
            lines.push(cut);
        }
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > max {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

fn chars_for(size: f32, width: f32) -> usize {
    // 0.56 em per character: wide enough for text of capitals and digits not to overrun.
    (width / (size * 0.56)).floor().max(10.0) as usize
}

/// The summary's pages, laid out: each page a list of lines.
fn layout(doc: &SummaryDocument) -> Vec<Vec<Line>> {
    let mut pages: Vec<Vec<Line>> = vec![Vec::new()];
    let mut y = TOP;
    let put = |pages: &mut Vec<Vec<Line>>, y: &mut f32, x: f32, face: Face, size: f32, text: String, before: f32| {
        *y -= before;
        if *y < BOTTOM {
            pages.push(Vec::new());
            *y = TOP;
        }
        pages.last_mut().expect("a page").push(Line { y: *y, x, face, size, text });
    };
    put(&mut pages, &mut y, LEFT, Face::Bold, 18.0, "Health Summary".into(), 0.0);
    put(&mut pages, &mut y, LEFT, Face::Regular, 11.0, doc.organisation.clone(), 20.0);
    put(&mut pages, &mut y, LEFT, Face::Regular, 11.0, format!("Patient: {}", doc.patient_name), 16.0);
    put(&mut pages, &mut y, LEFT, Face::Regular, 11.0, format!("Made: {}, from the record as the clinic's electronic health record holds it.", doc.made), 16.0);
    for (heading, lines) in &doc.sections {
        put(&mut pages, &mut y, LEFT, Face::Bold, 13.0, heading.clone(), 26.0);
        for line in lines {
            for (i, part) in wrap(line, chars_for(10.0, RIGHT - LEFT - 12.0)).into_iter().enumerate() {
                let (x, text) = if i == 0 { (LEFT, format!("•  {part}")) } else { (LEFT + 12.0, part) };
                put(&mut pages, &mut y, x, Face::Regular, 10.0, text, if i == 0 { 15.0 } else { 12.5 });
            }
        }
    }
    pages
}

/// The PDF's bytes.
pub fn render(doc: &SummaryDocument) -> Vec<u8> {
    let pages = layout(doc);
    let count = pages.len();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let regular = Ref::new(4);
    let bold = Ref::new(5);
    let page_ref = |i: usize| Ref::new(6 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(7 + 2 * i as i32);
    pdf.catalog(catalog).pages(tree).lang(TextStr("en-US"));
    pdf.pages(tree).kids((0..count).map(page_ref)).count(count as i32);
    for (i, lines) in pages.into_iter().enumerate() {
        let mut content = Content::new();
        let footer = format!("Health Summary · Page {} of {count}", i + 1);
        let all = lines.into_iter().chain(std::iter::once(Line { y: FOOTER_Y, x: LEFT, face: Face::Regular, size: 9.0, text: footer }));
        for line in all {
            content.begin_text();
            content.set_font(Name(if line.face == Face::Bold { b"F2" } else { b"F1" }), line.size);
            content.next_line(line.x, line.y);
            content.show(Str(&winansi(&line.text)));
            content.end_text();
        }
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        page.parent(tree);
        page.contents(content_ref(i));
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), regular);
        fonts.pair(Name(b"F2"), bold);
        fonts.finish();
        resources.finish();
        page.finish();
        pdf.stream(content_ref(i), &content.finish());
    }
    for (id, name) in [(regular, &b"Helvetica"[..]), (bold, &b"Helvetica-Bold"[..])] {
        pdf.type1_font(id).base_font(Name(name)).encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.document_info(info).title(TextStr("Health Summary")).producer(TextStr("Patient portal"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(lines: usize) -> SummaryDocument {
        SummaryDocument {
            organisation: "Test Clinic".into(),
            patient_name: "Alice Johnson".into(),
            made: "December 4, 2026".into(),
            sections: vec![(
                "Latest test results and vital signs".into(),
                (0..lines).map(|i| format!("Glucose {i}: 189 mg/dL (high), expected 70–99 mg/dL, ≤ 200")).collect(),
            )],
        }
    }

    /// The text shown (`(…) Tj` and `<hex> Tj`), WinAnsi read back as Latin-1.
    pub fn shown_text(pdf: &[u8]) -> String {
        let raw = String::from_utf8_lossy(pdf);
        let mut out = String::new();
        for line in raw.lines().filter(|l| l.ends_with(" Tj")) {
            let s = &line[..line.len() - 3];
            if let Some(hex) = s.strip_prefix('<').and_then(|h| h.strip_suffix('>')) {
                let bytes: Vec<u8> = (0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect();
                out.extend(bytes.iter().map(|&b| b as char));
            } else if let Some(lit) = s.strip_prefix('(').and_then(|h| h.strip_suffix(')')) {
                out.push_str(lit);
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn a_long_summary_continues_on_more_pages_and_says_how_many() {
        let one = render(&doc(5));
        assert!(one.starts_with(b"%PDF"));
        let text = shown_text(&one);
        assert!(text.contains("Page 1 of 1") && text.contains("Glucose 4: 189 mg/dL (high)"), "{text}");
        let many = shown_text(&render(&doc(120)));
        assert!(many.contains("Page 1 of 3") && many.contains("Page 3 of 3"), "120 lines take three pages");
    }

    #[test]
    fn nothing_personal_is_in_the_metadata() {
        let bytes = render(&doc(3));
        let text = String::from_utf8_lossy(&bytes);
        let info = &text[text.find("/Title").unwrap()..];
        let info = &info[..info.find(">>").unwrap()];
        assert!(!info.contains("Alice") && !info.contains("Glucose"), "{info}");
    }

    #[test]
    fn text_is_encoded_for_the_standard_fonts_and_wrapped_at_spaces() {
        assert_eq!(winansi("70–99 ≤ 5 é"), b"70\x9699 <= 5 \xe9".to_vec());
        assert_eq!(winansi("→"), b"?".to_vec());
        let lines = wrap("one two three four five", 9);
        assert_eq!(lines, ["one two", "three", "four five"]);
        assert!(wrap(&"x".repeat(25), 10).iter().all(|l| l.chars().count() <= 10));
    }
}
