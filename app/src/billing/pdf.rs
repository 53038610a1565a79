//! The statement PDF, made in memory (nothing is written to disk) with `pdf-writer`; the layout
//! is ours. US Letter, the PDF standard fonts Helvetica and Helvetica-Bold (no font files: a
//! one-page statement is a few kilobytes), text in WinAnsi encoding. The guarantor's address
//! sits where a window envelope shows it. Long statements continue on further pages with the
//! table header repeated; the document's metadata holds no personal data.

use super::money::Money;
use super::statement::{Delivery, Line, Totals};
use crate::dates::CalendarDate;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use serde::{Deserialize, Serialize};

/// Everything a statement's PDF shows, read from the database in one piece.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatementDocument {
    pub organisation: String,
    /// The organisation's mailing address (where payments are mailed), one line per entry.
    pub organisation_address: Vec<String>,
    pub organisation_phone: String,
    pub account_number: String,
    pub guarantor_name: String,
    /// The guarantor's mailing address, one line per entry.
    pub guarantor_address: Vec<String>,
    pub patient_name: String,
    pub mrn: String,
    pub statement_date: CalendarDate,
    pub period_start: CalendarDate,
    pub period_end: CalendarDate,
    pub due_date: CalendarDate,
    pub lines: Vec<Line>,
    pub totals: Totals,
    pub delivery: Delivery,
}

const WIDTH: f32 = 612.0;
const HEIGHT: f32 = 792.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = WIDTH - 50.0;
const BOTTOM: f32 = 64.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

// Table columns: date, department, description (wrapped), kind, amount (right-aligned).
const COL_DATE: f32 = LEFT;
const COL_DEPARTMENT: f32 = 112.0;
const COL_DESCRIPTION: f32 = 222.0;
const DESCRIPTION_WIDTH: f32 = 215.0;
const COL_KIND: f32 = 445.0;
const ROW: f32 = 13.0;

/// Helvetica's advance widths (1/1000 em) for ASCII 32..=126, from Adobe's metrics. Bold differs
/// slightly for letters; digits, `$`, `,`, `.` and `-` are the same in both, so amounts
/// right-align exactly. Other characters count as an average letter.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space … /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 … ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ … O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P … _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` … o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p … ~
];

fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c as u32 {
            32..=126 => HELVETICA[(c as u32 - 32) as usize] as u32,
            _ => 556,
        })
        .sum();
    // Bold letters run about 5 % wider.
    units as f32 * size / 1000.0 * if bold { 1.05 } else { 1.0 }
}

/// Text in WinAnsi encoding: Latin-1 as it is, the typographic marks the portal uses mapped,
/// anything else as `?`.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '–' => 0x96,
            '—' => 0x97,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '…' => 0x85,
            '€' => 0x80,
            _ => b'?',
        })
        .collect()
}

/// Splits `text` into lines no wider than `width`, at spaces (a word longer than the line is
/// cut).
fn wrap(text: &str, size: f32, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
        if text_width(&candidate, size, false) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if text_width(&piece, size, false) > width {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(c);
            }
        }
        current = piece;
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// One page being drawn.
struct PageDraw {
    content: Content,
}

impl PageDraw {
    fn new() -> PageDraw {
        PageDraw { content: Content::new() }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let c = &mut self.content;
        c.begin_text();
        c.set_font(if bold { BOLD } else { REGULAR }, size);
        c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
        c.show(Str(&win_ansi(text)));
        c.end_text();
    }

    fn text_right(&mut self, right: f32, y: f32, size: f32, bold: bool, text: &str) {
        let width = if bold { text_width(text, size, false) } else { text_width(text, size, false) };
        self.text(right - width, y, size, bold, text);
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        let c = &mut self.content;
        c.set_line_width(width);
        c.move_to(x1, y);
        c.line_to(x2, y);
        c.stroke();
    }

    fn shade(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        let c = &mut self.content;
        c.save_state();
        c.set_fill_gray(gray);
        c.rect(x, y, w, h);
        c.fill_nonzero();
        c.restore_state();
    }
}

/// The amount as a statement writes it: credits as "-$25.00".
fn amount(m: Money) -> String {
    m.to_string()
}

fn table_header(p: &mut PageDraw, y: f32) -> f32 {
    p.shade(LEFT - 4.0, y - 4.0, RIGHT - LEFT + 8.0, 16.0, 0.9);
    p.text(COL_DATE, y, 9.0, true, "Date");
    p.text(COL_DEPARTMENT, y, 9.0, true, "Department");
    p.text(COL_DESCRIPTION, y, 9.0, true, "Description");
    p.text(COL_KIND, y, 9.0, true, "Kind");
    p.text_right(RIGHT, y, 9.0, true, "Amount");
    y - 18.0
}

/// The first page's top: who sends it, the statement's facts, and whom it is for.
fn first_page_top(p: &mut PageDraw, d: &StatementDocument) -> f32 {
    let mut y = HEIGHT - 56.0;
    p.text(LEFT, y, 16.0, true, &d.organisation);
    for line in &d.organisation_address {
        y -= 12.0;
        p.text(LEFT, y, 9.0, false, line);
    }
    y -= 12.0;
    p.text(LEFT, y, 9.0, false, &format!("Billing questions: {}", d.organisation_phone));

    // The facts box, top right.
    let box_left = 352.0;
    let mut by = HEIGHT - 56.0;
    p.text_right(RIGHT, by, 18.0, true, "Statement");
    by -= 22.0;
    let facts = [
        ("Account number", d.account_number.clone()),
        ("Statement date", d.statement_date.long()),
        ("Period", format!("{} – {}", d.period_start.long(), d.period_end.long())),
        ("Due date", d.due_date.long()),
    ];
    for (label, value) in facts {
        p.text(box_left, by, 8.5, false, label);
        p.text_right(RIGHT, by, 8.5, false, &value);
        by -= 12.0;
    }
    p.rule(box_left, RIGHT, by + 8.0, 0.5);
    by -= 6.0;
    let due = if d.totals.amount_due.is_negative() { "Credit balance" } else { "Amount due" };
    p.text(box_left, by, 11.0, true, due);
    p.text_right(RIGHT, by, 11.0, true, &amount(d.totals.amount_due.abs()));

    // The guarantor's address where a window envelope shows it (about 1.75 in from the top).
    let mut ay = HEIGHT - 140.0;
    p.text(72.0, ay, 10.0, true, &d.guarantor_name);
    for line in &d.guarantor_address {
        ay -= 12.0;
        p.text(72.0, ay, 10.0, false, line);
    }
    let mut y = (ay - 30.0).min(HEIGHT - 230.0);
    p.text(LEFT, y, 9.0, false, &format!("Patient: {}   Record number: {}", d.patient_name, d.mrn));
    y -= 24.0;
    y
}

/// Draws one statement on as many pages as it needs; returns the pages.
fn draw_statement(d: &StatementDocument) -> Vec<PageDraw> {
    let mut pages = vec![PageDraw::new()];
    let mut y = first_page_top(&mut pages[0], d);
    y = table_header(&mut pages[0], y);
    for line in &d.lines {
        let description = wrap(&line.description, 8.5, DESCRIPTION_WIDTH);
        let department = wrap(&line.department, 8.5, COL_DESCRIPTION - COL_DEPARTMENT - 8.0);
        let rows = description.len().max(department.len()) as f32;
        if y - rows * ROW < BOTTOM {
            let mut page = PageDraw::new();
            let top = HEIGHT - 56.0;
            page.text(LEFT, top, 10.0, true, &format!("{} · Statement of {} (continued)", d.organisation, d.statement_date.long()));
            y = table_header(&mut page, top - 24.0);
            pages.push(page);
        }
        let page = pages.last_mut().expect("a page");
        page.text(COL_DATE, y, 8.5, false, &line.date.to_string());
        for (i, text) in department.iter().enumerate() {
            page.text(COL_DEPARTMENT, y - i as f32 * ROW, 8.5, false, text);
        }
        for (i, text) in description.iter().enumerate() {
            page.text(COL_DESCRIPTION, y - i as f32 * ROW, 8.5, false, text);
        }
        page.text(COL_KIND, y, 8.5, false, line.kind.label());
        page.text_right(RIGHT, y, 8.5, false, &amount(line.amount));
        y -= rows * ROW;
        page.rule(LEFT - 4.0, RIGHT + 4.0, y + ROW - 9.0, 0.25);
    }

    // The summary, how to pay and the delivery note stay together.
    let address_lines = d.organisation_address.len() as f32;
    let needed = 6.0 * 14.0 + 40.0 + 5.0 * 12.0 + address_lines * 11.0 + 40.0;
    if y - needed < BOTTOM {
        let mut page = PageDraw::new();
        let top = HEIGHT - 56.0;
        page.text(LEFT, top, 10.0, true, &format!("{} · Statement of {} (continued)", d.organisation, d.statement_date.long()));
        y = top - 30.0;
        pages.push(page);
    }
    let page = pages.last_mut().expect("a page");
    y -= 10.0;
    let t = &d.totals;
    let label_x = 372.0;
    for (label, value) in [
        ("Previous balance", t.previous_balance),
        ("Charges", t.charges),
        ("Payments", t.payments),
        ("Adjustments", t.adjustments),
    ] {
        page.text(label_x, y, 9.0, false, label);
        page.text_right(RIGHT, y, 9.0, false, &amount(value));
        y -= 14.0;
    }
    page.rule(label_x, RIGHT, y + 10.0, 0.75);
    y -= 4.0;
    let (label, shown) = if t.amount_due.is_negative() { ("Credit balance", t.amount_due.abs()) } else { ("Amount due", t.amount_due) };
    page.text(label_x, y, 11.0, true, label);
    page.text_right(RIGHT, y, 11.0, true, &amount(shown));
    y -= 12.0;
    page.text_right(RIGHT, y, 8.5, false, &format!("Due by {}", d.due_date.long()));

    y -= 30.0;
    page.text(LEFT, y, 10.0, true, "How to pay");
    y -= 14.0;
    if t.amount_due.is_negative() {
        page.text(LEFT, y, 9.0, false, "You have a credit balance: there is nothing to pay. It will be applied to your next charges.");
        y -= 12.0;
    } else {
        page.text(LEFT, y, 9.0, false, &format!("By phone: call {} and have your account number {} ready.", d.organisation_phone, d.account_number));
        y -= 12.0;
        page.text(LEFT, y, 9.0, false, &format!("By mail: make your check payable to {}, write {} on it, and mail it to:", d.organisation, d.account_number));
        y -= 12.0;
        for line in std::iter::once(&d.organisation).chain(&d.organisation_address) {
            page.text(LEFT + 16.0, y, 9.0, false, line);
            y -= 11.0;
        }
    }
    y -= 14.0;
    let note = match d.delivery {
        Delivery::Paperless => "Paperless statement: you receive your statements in the patient portal.",
        Delivery::Paper => {
            "Paper statement. You can switch to paperless statements in the patient portal: Billing > View Account > Paperless Billing > Update."
        }
    };
    for (i, line) in wrap(note, 8.5, RIGHT - LEFT).iter().enumerate() {
        page.text(LEFT, y - i as f32 * 11.0, 8.5, false, line);
    }
    pages
}

/// One PDF holding every document given, each starting on a new page.
pub fn render(documents: &[StatementDocument]) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let mut next = 6;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let mut page_ids = Vec::new();
    let mut drawn = Vec::new();
    for d in documents {
        let mut pages = draw_statement(d);
        let count = pages.len();
        for (i, page) in pages.iter_mut().enumerate() {
            let footer = format!("Account {} · Page {} of {}", d.account_number, i + 1, count);
            let width = text_width(&footer, 8.0, false);
            page.text((WIDTH - width) / 2.0, 32.0, 8.0, false, &footer);
        }
        for page in pages {
            let page_id = alloc();
            let content_id = alloc();
            page_ids.push(page_id);
            drawn.push((page_id, content_id, page));
        }
    }
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().copied()).count(page_ids.len() as i32);
    for (page_id, content_id, page) in drawn {
        let mut p = pdf.page(page_id);
        p.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        p.parent(tree);
        p.contents(content_id);
        let mut resources = p.resources();
        resources.fonts().pair(REGULAR, regular).pair(BOLD, bold);
        resources.finish();
        p.finish();
        pdf.stream(content_id, &page.content.finish());
    }
    pdf.type1_font(regular).base_font(Name(b"Helvetica")).encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold).base_font(Name(b"Helvetica-Bold")).encoding_predefined(Name(b"WinAnsiEncoding"));
    // No names, numbers or amounts in the metadata: they stay in the page content.
    pdf.document_info(info).title(TextStr("Statement")).producer(TextStr("Patient portal"));
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::statement::LineKind;
    use std::process::Command;

    fn date(s: &str) -> CalendarDate {
        CalendarDate::parse(s).unwrap()
    }

    pub fn sample(lines: usize) -> StatementDocument {
        let kinds = [LineKind::Charge, LineKind::Payment, LineKind::Adjustment];
        let lines: Vec<Line> = (0..lines)
            .map(|i| {
                let kind = kinds[i % 3];
                let cents = 1_000 + i as i64 * 137;
                Line {
                    kind,
                    date: date(&format!("2026-10-{:02}", 1 + i % 28)),
                    department: if i % 2 == 0 { "Family Medicine".into() } else { "Radiology".into() },
                    description: if i == 1 {
                        "Computed tomography of the chest with contrast, including three-dimensional reconstruction and the radiologist's report".into()
                    } else {
                        format!("Service item {i}")
                    },
                    amount: Money(if kind == LineKind::Charge { cents } else { -cents }),
                }
            })
            .collect();
        let mut totals = Totals { previous_balance: Money(2_000), ..Totals::default() };
        for l in &lines {
            match l.kind {
                LineKind::Charge => totals.charges.0 += l.amount.0,
                LineKind::Payment => totals.payments.0 += l.amount.0,
                LineKind::Adjustment => totals.adjustments.0 += l.amount.0,
            }
        }
        totals.amount_due = Money(totals.previous_balance.0 + totals.charges.0 + totals.payments.0 + totals.adjustments.0);
        StatementDocument {
            organisation: "Riverside Community Clinic".into(),
            organisation_address: vec!["100 Riverside Drive".into(), "Riverside, ST 00000".into()],
            organisation_phone: "(555) 010-0100".into(),
            account_number: "G123456789".into(),
            guarantor_name: "José Núñez".into(),
            guarantor_address: vec!["12 Elm Street".into(), "Riverside, ST 00000".into()],
            patient_name: "Zoë 王 Núñez".into(),
            mrn: "MRN100001".into(),
            statement_date: date("2026-11-01"),
            period_start: date("2026-10-01"),
            period_end: date("2026-10-31"),
            due_date: date("2026-11-25"),
            lines,
            totals,
            delivery: Delivery::Paperless,
        }
    }

    /// Runs a poppler tool on the PDF; the tools are installed by scripts/setup.
    fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> (String, String) {
        let path = std::env::temp_dir().join(format!("portal-pdf-test-{}-{}.pdf", std::process::id(), rand_suffix()));
        std::fs::write(&path, pdf).unwrap();
        let mut all: Vec<&str> = args.to_vec();
        let path_text = path.to_string_lossy().to_string();
        all.push(&path_text);
        if tool == "pdftotext" {
            all.push("-");
        }
        let out = Command::new(tool).args(&all).output();
        std::fs::remove_file(&path).ok();
        let out = out.unwrap_or_else(|e| panic!("{tool} is needed for this test (Debian poppler-utils; scripts/setup installs it): {e}"));
        assert!(out.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    fn rand_suffix() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    fn pages(pdf: &[u8]) -> usize {
        let (info, _) = poppler("pdfinfo", &[], pdf);
        info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap().trim().parse().unwrap()
    }

    #[test]
    fn a_statement_reads_back_with_everything_on_it() {
        let d = sample(8);
        let pdf = render(std::slice::from_ref(&d));
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
        let (text, _) = poppler("pdftotext", &["-layout"], &pdf);
        for expected in [
            "Riverside Community Clinic",
            "100 Riverside Drive",
            "G123456789",
            "October 1, 2026 – October 31, 2026",
            "November 25, 2026",
            "José Núñez",
            "12 Elm Street",
            "Zoë ? Núñez",
            "MRN100001",
            "Service item 7",
            "Computed tomography of the chest",
            "Previous balance",
            "How to pay",
            "(555) 010-0100",
            "Paperless statement",
            "Page 1 of 1",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from:\n{text}");
        }
        for l in &d.lines {
            assert!(text.contains(&l.amount.to_string()), "{} missing", l.amount);
        }
        assert!(text.contains(&d.totals.amount_due.abs().to_string()));
        let (info, _) = poppler("pdfinfo", &[], &pdf);
        assert!(!info.contains("G123456789") && !info.contains("Núñez"), "metadata leaks: {info}");
        assert_eq!(pdf, render(std::slice::from_ref(&d)), "the same statement gives the same bytes");
    }

    #[test]
    fn long_statements_continue_and_every_page_renders() {
        let d = sample(120);
        let pdf = render(std::slice::from_ref(&d));
        let n = pages(&pdf);
        assert!(n >= 3, "{n} pages");
        let (text, _) = poppler("pdftotext", &["-layout"], &pdf);
        assert!(text.contains(&format!("Page {n} of {n}")));
        assert!(text.contains("(continued)"));
        assert!(text.contains("Service item 119"));
        let dir = std::env::temp_dir().join(format!("portal-pdf-render-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("s.pdf");
        std::fs::write(&file, &pdf).unwrap();
        let out = Command::new("pdftoppm").args(["-r", "30", "-png"]).arg(&file).arg(dir.join("page")).output().expect("pdftoppm (poppler-utils)");
        let rendered = std::fs::read_dir(&dir).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png")).count();
        std::fs::remove_dir_all(&dir).ok();
        assert!(out.status.success() && out.stderr.is_empty(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(rendered, n);
    }

    #[test]
    fn a_combined_document_holds_every_statement() {
        let docs = vec![sample(3), sample(120), sample(10)];
        let each: usize = docs.iter().map(|d| pages(&render(std::slice::from_ref(d)))).sum();
        assert_eq!(pages(&render(&docs)), each);
    }

    #[test]
    fn a_credit_balance_asks_for_nothing_and_paper_says_how_to_go_paperless() {
        let mut d = sample(1);
        d.lines[0].kind = LineKind::Payment;
        d.lines[0].amount = Money(-5_000);
        d.totals = Totals { previous_balance: Money(2_000), charges: Money(0), payments: Money(-5_000), adjustments: Money(0), amount_due: Money(-3_000) };
        d.delivery = Delivery::Paper;
        let (text, _) = poppler("pdftotext", &["-layout"], &render(&[d]));
        assert!(text.contains("Credit balance"));
        assert!(text.contains("nothing to pay"));
        assert!(text.contains("Paper statement"));
        assert!(text.contains("Paperless Billing > Update"));
    }

    #[test]
    fn wrapping_keeps_lines_within_the_column() {
        let lines = wrap("Computed tomography of the chest with contrast, including three-dimensional reconstruction", 8.5, DESCRIPTION_WIDTH);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| text_width(l, 8.5, false) <= DESCRIPTION_WIDTH));
        assert_eq!(wrap("", 8.5, 100.0), vec![String::new()]);
        let long = wrap(&"W".repeat(100), 8.5, 50.0);
        assert!(long.iter().all(|l| text_width(l, 8.5, false) <= 50.0));
        assert_eq!(long.concat(), "W".repeat(100));
        assert_eq!(win_ansi("é–€王"), vec![0xe9, 0x96, 0x80, b'?']);
    }
}
