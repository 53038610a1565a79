//! The statement PDF, made in memory (nothing is written to disk) with `pdf-writer`; the layout
//! is ours. US Letter, the standard PDF fonts Helvetica and Helvetica-Bold (no font files: a
//! one-page statement is a few kilobytes), text in WinAnsi encoding. The guarantor's address sits
//! where a window envelope shows it, and nothing else does. Long statements continue on further
//! pages with the table header repeated; the summary and how to pay stay together. The same
//! statement always gives the same bytes, and the document's metadata holds no personal data.

use super::statement::{Delivery, Line, Totals};
use crate::dates::CalendarDate;
use layout::{layout, FOOTER_Y, PAGE_HEIGHT, PAGE_WIDTH};
use pdf_writer::{Finish, Name, Pdf, Rect, Ref, TextStr};
use serde::{Deserialize, Serialize};
use text::{text_width, Face, FOOTER};

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

/// One PDF holding every document given (the print queue prints many at once), each starting on
/// a new page and numbering its own pages.
pub fn render(documents: &[StatementDocument]) -> Vec<u8> {
    // Lay everything out first: a statement's footers need its page count.
    let mut pages = Vec::new();
    for d in documents {
        let mut own = layout(d);
        let count = own.len();
        for (i, page) in own.iter_mut().enumerate() {
            let footer = format!("Account {} · Page {} of {}", d.account_number, i + 1, count);
            page.text((PAGE_WIDTH - text_width(&footer, FOOTER)) / 2.0, FOOTER_Y, FOOTER, &footer);
        }
        pages.extend(own);
    }

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [(Face::Regular, Ref::new(4)), (Face::Bold, Ref::new(5)), (Face::Symbol, Ref::new(6))];
    // Each page is two objects, the page and its content stream, numbered from 7 in order.
    let page_ref = |i: usize| Ref::new(7 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(8 + 2 * i as i32);

    pdf.catalog(catalog).pages(tree).lang(TextStr("en-US"));
    pdf.pages(tree).kids((0..pages.len()).map(page_ref)).count(pages.len() as i32);
    for (i, page) in pages.into_iter().enumerate() {
        let mut p = pdf.page(page_ref(i));
        p.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
        p.parent(tree);
        p.contents(content_ref(i));
        let mut resources = p.resources();
        let mut dict = resources.fonts();
        for (face, id) in fonts {
            dict.pair(face.resource(), id);
        }
        dict.finish();
        resources.finish();
        p.finish();
        // Uncompressed: the app has no deflate library of its own, and a one-page statement is
        // a few kilobytes as it is.
        pdf.stream(content_ref(i), &page.content.finish());
    }
    for (face, id) in fonts {
        let mut font = pdf.type1_font(id);
        font.base_font(face.base_font());
        // Symbol has its own built-in encoding; the text faces read bytes as WinAnsi.
        if face != Face::Symbol {
            font.encoding_predefined(Name(b"WinAnsiEncoding"));
        }
    }
    // No names, numbers, amounts or dates in the metadata: viewers, indexers and file managers
    // show it without opening the document. Health and money stay in the page content, and no
    // creation time keeps the same statement the same bytes.
    pdf.document_info(info).title(TextStr("Statement")).producer(TextStr("Patient portal"));
    pdf.finish()
}

mod layout;
mod sample;
mod text;

pub use sample::sample_statement;

#[cfg(test)]
mod tests {
    use super::layout::*;
    use super::sample::{sample_statement as sample, LONG_DESCRIPTION};
    use super::text::*;
    use super::*;
    use crate::billing::money::Money;
    use crate::billing::statement::LineKind;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    /// A directory of its own under the system's temporary directory, removed when dropped
    /// (also when a test fails).
    struct Scratch(PathBuf);

    impl Scratch {
        fn with(pdf: &[u8]) -> Scratch {
            use std::sync::atomic::{AtomicU32, Ordering};
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("portal-statement-pdf-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("statement.pdf"), pdf).unwrap();
            Scratch(dir)
        }

        fn pdf(&self) -> PathBuf {
            self.0.join("statement.pdf")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Runs a poppler-utils tool. Missing tools fail the test: a PDF that was never read back
    /// proves nothing.
    fn poppler(tool: &str, args: &[&Path]) -> Output {
        let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
            panic!("cannot run `{tool}` ({e}): these tests read the PDF back with poppler-utils; install it (Debian: apt-get install poppler-utils; scripts/setup does)")
        });
        assert!(out.status.success(), "{tool} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
        out
    }

    /// The PDF's text as `pdftotext -layout` reads it.
    fn text_of(pdf: &[u8]) -> String {
        let s = Scratch::with(pdf);
        let out = poppler("pdftotext", &[Path::new("-layout"), &s.pdf(), Path::new("-")]);
        String::from_utf8(out.stdout).expect("pdftotext writes UTF-8")
    }

    /// What `pdfinfo` says of the PDF: its metadata and page count.
    fn info_of(pdf: &[u8]) -> String {
        let s = Scratch::with(pdf);
        String::from_utf8(poppler("pdfinfo", &[&s.pdf()]).stdout).expect("pdfinfo writes UTF-8")
    }

    fn pages_of(pdf: &[u8]) -> usize {
        let info = info_of(pdf);
        let line = info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap_or_else(|| panic!("no page count in:\n{info}"));
        line.trim().parse().unwrap()
    }

    #[test]
    fn a_statement_reads_back_with_everything_on_it() {
        let d = sample(12);
        let pdf = render(std::slice::from_ref(&d));
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
        println!("a one-page statement of {} lines: {} bytes", d.lines.len(), pdf.len());

        let text = text_of(&pdf);
        let mut expected = vec![
            "Riverside Community Clinic".to_string(),
            "100 Riverside Drive".into(),
            "Riverside, ST 00000".into(),
            "(555) 010-0100".into(),
            "Statement".into(),
            "G123456789".into(),
            "November 1, 2026".into(),
            "October 1, 2026 – October 31, 2026".into(),
            "November 25, 2026".into(),
            "José Núñez".into(),
            "12 Elm Street".into(),
            // 王 is not in WinAnsi: drawn as a question mark, the rest of the name intact.
            "Zoë ? Núñez".into(),
            "MRN100001".into(),
            "Previous balance".into(),
            "How to pay".into(),
            "payable to Riverside Community Clinic".into(),
            "Paperless statement: you receive your statements in the patient portal.".into(),
            "Page 1 of 1".into(),
        ];
        for line in &d.lines {
            expected.push(line.date.to_string());
            expected.push(line.amount.to_string());
            expected.push(line.kind.label().into());
            // Every wrapped piece of the description and department, each on its own line.
            expected.extend(wrap(&line.description, TABLE, DESCRIPTION_WIDTH - 8.0));
            expected.extend(wrap(&line.department, TABLE, DEPARTMENT_WIDTH - 8.0));
        }
        let t = &d.totals;
        for amount in [t.previous_balance, t.charges, t.payments, t.adjustments, t.amount_due] {
            expected.push(amount.to_string());
        }
        expected.push(format!("Please pay {} by November 25, 2026.", t.amount_due));
        for e in &expected {
            assert!(text.contains(e.as_str()), "{e:?} missing from:\n{text}");
        }
        assert!(wrap(LONG_DESCRIPTION, TABLE, DESCRIPTION_WIDTH - 8.0).len() >= 3, "the long description wraps");
        assert!(text.contains("Computed tomography of the chest"));

        let info = info_of(&pdf);
        assert!(info.contains("Title:") && info.contains("Statement") && info.contains("Patient portal"), "{info}");
        for private in ["G123456789", "Núñez", "Zo", "MRN", "Riverside", "$", "2026"] {
            assert!(!info.contains(private), "the metadata shows {private:?}:\n{info}");
        }
        assert_eq!(pdf, render(std::slice::from_ref(&d)), "the same statement gives the same bytes");
    }

    /// The benchmark (`server bench-probe statement-pdf`) measures the 8-line sample as its
    /// one-page statement.
    #[test]
    fn the_benchmark_s_short_sample_is_one_page() {
        assert_eq!(layout(&sample(8)).len(), 1);
    }

    #[test]
    fn a_long_statement_continues_and_every_page_renders() {
        let d = sample(120);
        let pdf = render(std::slice::from_ref(&d));
        let n = pages_of(&pdf);
        assert_eq!(n, layout(&d).len());
        assert!(n >= 3, "{n} pages");
        println!("a statement of 120 lines: {n} pages, {} bytes", pdf.len());

        let s = Scratch::with(&pdf);
        let out = poppler("pdftoppm", &[Path::new("-r"), Path::new("50"), Path::new("-png"), &s.pdf(), &s.0.join("page")]);
        assert!(out.stderr.is_empty(), "pdftoppm complained: {}", String::from_utf8_lossy(&out.stderr));
        let images = std::fs::read_dir(&s.0).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "png")).count();
        assert_eq!(images, n);

        let text = text_of(&pdf);
        for page in 1..=n {
            assert!(text.contains(&format!("Account G123456789 · Page {page} of {n}")), "no footer for page {page}");
        }
        assert_eq!(text.matches("(continued)").count(), n - 1);
        // The table header on the first page and on every continuation page with lines.
        let headers = text.lines().filter(|l| l.contains("Description") && l.contains("Amount")).count();
        assert!(headers >= n - 1, "{headers} table headers on {n} pages");
        for i in 0..120 {
            if i != 1 && i != 4 {
                assert!(text.contains(&format!("Service item {i}\n")) || text.contains(&format!("Service item {i} ")), "line {i} missing");
            }
        }
        assert_eq!(text.matches("How to pay").count(), 1);
        let last =
            String::from_utf8(poppler("pdftotext", &[Path::new("-layout"), Path::new("-f"), Path::new(&n.to_string()), &s.pdf(), Path::new("-")]).stdout)
                .unwrap();
        assert!(last.contains("Previous balance") && last.contains("How to pay") && last.contains("Amount due"), "the closing is split:\n{last}");
    }

    #[test]
    fn a_combined_document_holds_every_statement() {
        let mut docs = vec![sample(3), sample(120), sample(10)];
        docs[2].account_number = "G555000111".into();
        let each: Vec<usize> = docs.iter().map(|d| pages_of(&render(std::slice::from_ref(d)))).collect();
        let pdf = render(&docs);
        assert_eq!(pages_of(&pdf), each.iter().sum::<usize>());
        let text = text_of(&pdf);
        assert_eq!(text.matches("Page 1 of ").count(), 3, "each statement numbers its own pages");
        assert!(text.contains(&format!("Page {0} of {0}", each[1])));
        assert!(text.contains("Account G555000111 · Page 1 of 1"));
    }

    #[test]
    fn a_credit_balance_asks_for_nothing_and_paper_says_how_to_go_paperless() {
        let mut d = sample(1);
        d.lines[0].kind = LineKind::Payment;
        d.lines[0].amount = Money(-5_000);
        d.totals = Totals { previous_balance: Money(2_000), charges: Money(0), payments: Money(-5_000), adjustments: Money(0), amount_due: Money(-3_000) };
        d.delivery = Delivery::Paper;
        let text = text_of(&render(&[d]));
        assert!(text.contains("Credit balance"));
        assert!(text.contains("credit balance of $30.00: there is nothing to pay"));
        assert!(!text.contains("Amount due") && !text.contains("How to pay") && !text.contains("Please pay"), "{text}");
        assert!(text.contains("Paper statement. You can switch to paperless statements in the patient portal:"));
        assert!(text.contains("Billing → View Account → Paperless Billing → Update."), "{text}");

        let mut settled = sample(1);
        settled.totals.amount_due = Money::ZERO;
        let text = text_of(&render(&[settled]));
        assert!(text.contains("balance of $0.00: there is nothing to pay") && !text.contains("How to pay"), "{text}");
    }

    #[test]
    fn nothing_is_drawn_below_the_footer_line_whatever_the_length() {
        // Every length from one line to the most a statement may have, and a long closing (a
        // long address): each page's body stays above the footer, and the closing is whole.
        for n in 1..=crate::billing::statement::LINES_MAX {
            let mut d = sample(n);
            if n % 2 == 0 {
                d.organisation_address.push("Billing Office, Building C, Third Floor".into());
                d.delivery = Delivery::Paper;
            }
            let pages = layout(&d);
            for (i, p) in pages.iter().enumerate() {
                assert!(p.lowest >= BOTTOM, "{n} lines: page {} reaches {}", i + 1, p.lowest);
            }
        }
    }

    #[test]
    fn wrapping_keeps_lines_within_the_column() {
        let lines = wrap(LONG_DESCRIPTION, TABLE, DESCRIPTION_WIDTH);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| text_width(l, TABLE) <= DESCRIPTION_WIDTH));
        assert_eq!(lines.join(" "), LONG_DESCRIPTION);
        assert_eq!(wrap("", TABLE, 100.0), vec![String::new()]);
        let long = wrap(&"W".repeat(100), TABLE, 50.0);
        assert!(long.iter().all(|l| text_width(l, TABLE) <= 50.0));
        assert_eq!(long.concat(), "W".repeat(100));
    }
}
