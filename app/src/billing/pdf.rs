//! The statement PDF, made in memory (nothing is written to disk) with `pdf-writer`; the layout
//! is ours. US Letter, the standard PDF fonts Helvetica and Helvetica-Bold (no font files: a
//! one-page statement is a few kilobytes), text in WinAnsi encoding. The guarantor's address sits
//! where a window envelope shows it, and nothing else does. Long statements continue on further
//! pages with the table header repeated; the summary and how to pay stay together. The same
//! statement always gives the same bytes, and the document's metadata holds no personal data.

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

// ---------------------------------------------------------------------------------------------
// Page geometry, in points (1/72 in). The origin is the bottom left corner.

const PAGE_WIDTH: f32 = 612.0;
const PAGE_HEIGHT: f32 = 792.0;
const LEFT: f32 = 50.0;
const RIGHT: f32 = PAGE_WIDTH - 50.0;
/// The top of the highest letters.
const TOP: f32 = PAGE_HEIGHT - 50.0;
/// No baseline of the page's body goes below this; the footer sits under it.
const BOTTOM: f32 = 62.0;
const FOOTER_Y: f32 = 34.0;

/// A #10 window envelope shows, on a letter folded in three, about 1.75 in to 3.2 in from the
/// top and 0.875 in to 5.375 in from the left (and the letter moves a little inside). The
/// guarantor's name and address go there, and nothing else may: an account number or an amount
/// must not show through the window.
const WINDOW_TOP: f32 = PAGE_HEIGHT - 1.75 * 72.0;
const WINDOW_BOTTOM: f32 = PAGE_HEIGHT - 3.2 * 72.0;
const WINDOW_RIGHT: f32 = 5.5 * 72.0;
const ADDRESS_LEFT: f32 = 72.0;

/// The facts box (account, dates, amount due), top right and clear of the window.
const BOX_LEFT: f32 = WINDOW_RIGHT;
const BOX_PAD: f32 = 8.0;
/// The organisation's name, top left, wraps before it reaches the title.
const ORGANISATION_WIDTH: f32 = 300.0;

/// The line table: date, department (wrapped), description (wrapped), kind, amount (flush
/// right). The widest amount allowed, -$100,000,000.00, still clears the kind column.
const COL_DATE: f32 = LEFT;
const COL_DEPARTMENT: f32 = 104.0;
const DEPARTMENT_WIDTH: f32 = 104.0;
const COL_DESCRIPTION: f32 = 216.0;
const DESCRIPTION_WIDTH: f32 = 204.0;
const COL_KIND: f32 = 428.0;
/// Between the wrapped lines of one row.
const LEADING: f32 = 10.5;
/// From a row's last line to the next row's first: the rule between them sits 4.5 below.
const ROW_PITCH: f32 = 14.0;

/// The summary and how to pay, side by side under the table.
const PAY_WIDTH: f32 = BOX_LEFT - LEFT - 24.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
    /// Only for the arrow `→`, which WinAnsi lacks and the portal's directions use.
    Symbol,
}

impl Face {
    fn resource(self) -> Name<'static> {
        match self {
            Face::Regular => Name(b"F1"),
            Face::Bold => Name(b"F2"),
            Face::Symbol => Name(b"F3"),
        }
    }

    fn base_font(self) -> Name<'static> {
        match self {
            Face::Regular => Name(b"Helvetica"),
            Face::Bold => Name(b"Helvetica-Bold"),
            Face::Symbol => Name(b"Symbol"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Style {
    face: Face,
    size: f32,
}

const fn style(face: Face, size: f32) -> Style {
    Style { face, size }
}

const ORGANISATION: Style = style(Face::Bold, 16.0);
const TITLE: Style = style(Face::Bold, 20.0);
const BODY: Style = style(Face::Regular, 9.0);
const BODY_BOLD: Style = style(Face::Bold, 9.0);
const HEADING: Style = style(Face::Bold, 10.5);
const ADDRESS: Style = style(Face::Regular, 10.0);
const ADDRESS_NAME: Style = style(Face::Bold, 10.0);
const LABEL: Style = style(Face::Regular, 8.5);
const VALUE: Style = style(Face::Regular, 9.0);
const TOTAL: Style = style(Face::Bold, 11.0);
const TABLE: Style = style(Face::Regular, 8.5);
const TABLE_HEAD: Style = style(Face::Bold, 8.5);
const NOTE: Style = style(Face::Regular, 8.5);
const FOOTER: Style = style(Face::Regular, 8.0);

// ---------------------------------------------------------------------------------------------
// Text: encoding and widths.

/// How a character is drawn: a byte of WinAnsi in Helvetica, or a byte of the Symbol font.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Glyph {
    Latin(u8),
    Symbol(u8),
}

/// WinAnsi is Latin-1 plus typographic marks in 0x80..0x9F; anything else (Chinese, Greek,
/// emoji…) cannot be drawn with the standard fonts and shows as `?`.
fn glyph(c: char) -> Glyph {
    let byte = match c {
        ' '..='~' | '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '→' => return Glyph::Symbol(0xae),
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8a,
        '‹' => 0x8b,
        'Œ' => 0x8c,
        'Ž' => 0x8e,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9a,
        '›' => 0x9b,
        'œ' => 0x9c,
        'ž' => 0x9e,
        'Ÿ' => 0x9f,
        _ => b'?',
    };
    Glyph::Latin(byte)
}

/// Advance widths (1/1000 em) of ASCII 32..=126 in WinAnsi order, from Adobe's AFM files for
/// the standard 14 fonts. Digits, `$`, `,`, `.` and `-` are alike in both weights.
#[rustfmt::skip]
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, //   ! " # $ % & ' ( ) * + , - . /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 … 9 : ; < = > ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ A … O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P … Z [ \ ] ^ _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` a … o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,      // p … z { | } ~
];
#[rustfmt::skip]
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];
/// Latin-1 letters 0xC0..=0xFF measured as an ASCII letter of (nearly) the same width: an
/// accent does not change a letter's width (`é` is `e`); `Æ` is about a `W`, `×` a `+`.
const LATIN1_LIKE: &[u8; 64] = b"AAAAAAWCEEEEIIIIDNOOOOO+OUUUUYPFaaaaaamceeeeIIIIdnooooo+ouuuuypy";

fn advance(g: Glyph, face: Face) -> u32 {
    let table = if face == Face::Bold { &HELVETICA_BOLD } else { &HELVETICA };
    let ascii = |b: u8| table[(b - 32) as usize] as u32;
    match g {
        Glyph::Symbol(_) => 987, // arrowright
        Glyph::Latin(b @ 32..=126) => ascii(b),
        Glyph::Latin(b @ 0xc0..=0xff) => ascii(LATIN1_LIKE[(b - 0xc0) as usize]),
        Glyph::Latin(0xa0) => ascii(b' '),
        Glyph::Latin(0xb7 | 0x82 | 0x91 | 0x92) => 278,
        Glyph::Latin(0x85 | 0x89 | 0x97 | 0x99) => 1000,
        // The rest (other marks and signs): an average glyph.
        Glyph::Latin(_) => 556,
    }
}

fn text_width(text: &str, style: Style) -> f32 {
    let units: u32 = text.chars().map(|c| advance(glyph(c), style.face)).sum();
    units as f32 * style.size / 1000.0
}

/// The style, made smaller if need be so that `text` fits `width` (only extreme values need
/// it: the longest dates, amounts in the millions).
fn fitted(style: Style, text: &str, width: f32) -> Style {
    let natural = text_width(text, style);
    if natural <= width {
        style
    } else {
        Style { size: style.size * width / natural, ..style }
    }
}

/// Splits `text` into lines no wider than `width`, at spaces; a word longer than a line is cut.
fn wrap(text: &str, style: Style, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
        if text_width(&candidate, style) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            current.push(c);
            if text_width(&current, style) > width && current.chars().count() > 1 {
                current.pop();
                lines.push(std::mem::replace(&mut current, c.to_string()));
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// Drawing.

/// One page being drawn.
struct Page {
    content: Content,
    /// The lowest baseline drawn so far: the layout keeps it at `BOTTOM` or above.
    lowest: f32,
}

impl Page {
    fn new() -> Page {
        Page { content: Content::new(), lowest: PAGE_HEIGHT }
    }

    fn text(&mut self, x: f32, y: f32, style: Style, text: &str) {
        if text.is_empty() {
            return;
        }
        self.lowest = self.lowest.min(y);
        let c = &mut self.content;
        c.begin_text();
        c.next_line(x, y);
        // Runs of one face: the text face, and Symbol for an arrow.
        let mut face = None;
        let mut run = Vec::new();
        for ch in text.chars() {
            let (f, byte) = match glyph(ch) {
                Glyph::Latin(b) => (style.face, b),
                Glyph::Symbol(b) => (Face::Symbol, b),
            };
            if face != Some(f) {
                if !run.is_empty() {
                    c.show(Str(&run));
                    run.clear();
                }
                c.set_font(f.resource(), style.size);
                face = Some(f);
            }
            run.push(byte);
        }
        c.show(Str(&run));
        c.end_text();
    }

    fn text_right(&mut self, right: f32, y: f32, style: Style, text: &str) {
        self.text(right - text_width(text, style), y, style, text);
    }

    /// Draws `text` wrapped to `width`, one line every `leading`; returns the last baseline.
    fn paragraph(&mut self, x: f32, y: f32, width: f32, style: Style, leading: f32, text: &str) -> f32 {
        let mut y = y + leading;
        for line in wrap(text, style, width) {
            y -= leading;
            self.text(x, y, style, &line);
        }
        y
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, width: f32, gray: f32) {
        let c = &mut self.content;
        c.save_state();
        c.set_stroke_gray(gray);
        c.set_line_width(width);
        c.move_to(x1, y);
        c.line_to(x2, y);
        c.stroke();
        c.restore_state();
    }

    fn shade(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        let c = &mut self.content;
        c.save_state();
        c.set_fill_gray(gray);
        c.rect(x, y, w, h);
        c.fill_nonzero();
        c.restore_state();
    }

    fn frame(&mut self, x: f32, y: f32, w: f32, h: f32) {
        let c = &mut self.content;
        c.save_state();
        c.set_line_width(0.75);
        c.rect(x, y, w, h);
        c.stroke();
        c.restore_state();
    }
}

/// A statement's pages, without their footers.
fn layout(d: &StatementDocument) -> Vec<Page> {
    let mut pages = vec![Page::new()];
    let mut y = first_page_top(&mut pages[0], d);
    y = table_header(&mut pages[0], y);
    for line in &d.lines {
        let row = Row::of(line);
        let last_baseline = y - (row.lines() - 1) as f32 * LEADING;
        if last_baseline < BOTTOM {
            let mut page = Page::new();
            let top = continued_top(&mut page, d);
            y = table_header(&mut page, top);
            pages.push(page);
        }
        y = row.draw(pages.last_mut().expect("a page"), y);
    }

    // The summary and how to pay stay together: drawn once on a scratch page to learn their
    // height, they go on a new page when the rest of this one is too short.
    y -= 16.0;
    let mut scratch = Page::new();
    closing(&mut scratch, d, y);
    if scratch.lowest < BOTTOM {
        let mut page = Page::new();
        y = continued_top(&mut page, d);
        pages.push(page);
    }
    closing(pages.last_mut().expect("a page"), d, y);
    pages
}

/// The first page's top: who sends the statement, its facts, and whom it is for. Returns the
/// baseline for the table header.
fn first_page_top(p: &mut Page, d: &StatementDocument) -> f32 {
    // The organisation, top left.
    let mut y = p.paragraph(LEFT, TOP - 12.0, ORGANISATION_WIDTH, ORGANISATION, 18.0, &d.organisation);
    y -= 4.0;
    for line in &d.organisation_address {
        y -= 11.5;
        p.text(LEFT, y, BODY, line);
    }
    y -= 11.5;
    p.text(LEFT, y, BODY, &format!("Billing questions: {}", d.organisation_phone));
    let header_bottom = y;

    // The title and the facts box, top right.
    p.text_right(RIGHT, TOP - 14.5, TITLE, "Statement");
    let box_bottom = facts_box(p, d, TOP - 26.0);

    // The guarantor, in the envelope's window (lower if the organisation's address is long).
    let mut ay = WINDOW_TOP.min(header_bottom - 12.0) - 9.0;
    let address_width = WINDOW_RIGHT - ADDRESS_LEFT - 12.0;
    ay = p.paragraph(ADDRESS_LEFT, ay, address_width, ADDRESS_NAME, 12.5, &d.guarantor_name);
    for line in &d.guarantor_address {
        ay = p.paragraph(ADDRESS_LEFT, ay - 12.5, address_width, ADDRESS, 12.5, line);
    }

    // The patient, under the window: the envelope shows only the address.
    let y = ay.min(box_bottom).min(WINDOW_BOTTOM) - 22.0;
    let mut x = LEFT;
    for (text, style) in [("Patient: ", BODY_BOLD), (d.patient_name.as_str(), BODY), ("      Medical record number: ", BODY_BOLD), (d.mrn.as_str(), BODY)] {
        p.text(x, y, style, text);
        x += text_width(text, style);
    }
    y - 24.0
}

/// Account number, statement date, period, due date and amount due, boxed; returns the box's
/// bottom.
fn facts_box(p: &mut Page, d: &StatementDocument, top: f32) -> f32 {
    let (left, right) = (BOX_LEFT + BOX_PAD, RIGHT - BOX_PAD);
    let mut y = top - 14.0;
    let row = |p: &mut Page, y: f32, label: &str, value: &str| {
        p.text(left, y, LABEL, label);
        let room = right - left - text_width(label, LABEL) - 8.0;
        p.text_right(right, y, fitted(VALUE, value, room), value);
    };
    row(p, y, "Account number", &d.account_number);
    y -= 14.0;
    row(p, y, "Statement date", &d.statement_date.long());
    // The period is too wide to share its line with the label in a box beside the window.
    y -= 14.0;
    p.text(left, y, LABEL, "Period");
    y -= 12.0;
    let period = format!("{} – {}", d.period_start.long(), d.period_end.long());
    p.text_right(right, y, fitted(VALUE, &period, right - left), &period);
    y -= 14.0;
    row(p, y, "Due date", &d.due_date.long());

    // The amount due, on a shaded band at the bottom of the box.
    let band_top = y - 7.0;
    y = band_top - 15.0;
    p.shade(BOX_LEFT, band_top - 22.0, RIGHT - BOX_LEFT, 22.0, 0.9);
    let (label, shown) = due_label(&d.totals);
    p.text(left, y, TOTAL, label);
    let room = right - left - text_width(label, TOTAL) - 8.0;
    p.text_right(right, y, fitted(TOTAL, &shown.to_string(), room), &shown.to_string());
    let bottom = band_top - 22.0;
    p.frame(BOX_LEFT, bottom, RIGHT - BOX_LEFT, top - bottom);
    bottom
}

/// "Amount due" and the amount, or "Credit balance" and what the guarantor has in credit: a
/// credit is not asked for.
fn due_label(t: &Totals) -> (&'static str, Money) {
    if t.amount_due.is_negative() {
        ("Credit balance", t.amount_due.abs())
    } else {
        ("Amount due", t.amount_due)
    }
}

/// Returns the first row's baseline.
fn table_header(p: &mut Page, y: f32) -> f32 {
    p.shade(LEFT - 4.0, y - 5.0, RIGHT - LEFT + 8.0, 16.0, 0.9);
    p.text(COL_DATE, y, TABLE_HEAD, "Date");
    p.text(COL_DEPARTMENT, y, TABLE_HEAD, "Department");
    p.text(COL_DESCRIPTION, y, TABLE_HEAD, "Description");
    p.text(COL_KIND, y, TABLE_HEAD, "Kind");
    p.text_right(RIGHT, y, TABLE_HEAD, "Amount");
    y - 17.0
}

/// A continuation page's top; returns the baseline of what comes next.
fn continued_top(p: &mut Page, d: &StatementDocument) -> f32 {
    let title = format!("{} · Statement of {} (continued)", d.organisation, d.statement_date.long());
    p.paragraph(LEFT, TOP - 8.0, RIGHT - LEFT, HEADING, 13.0, &title) - 26.0
}

/// A table row: the department and the description wrap within their columns.
struct Row<'a> {
    line: &'a Line,
    department: Vec<String>,
    description: Vec<String>,
}

impl<'a> Row<'a> {
    fn of(line: &'a Line) -> Row<'a> {
        Row { line, department: wrap(&line.department, TABLE, DEPARTMENT_WIDTH - 8.0), description: wrap(&line.description, TABLE, DESCRIPTION_WIDTH - 8.0) }
    }

    fn lines(&self) -> usize {
        self.department.len().max(self.description.len())
    }

    /// Draws the row from baseline `y` and the rule under it; returns the next row's baseline.
    fn draw(&self, p: &mut Page, y: f32) -> f32 {
        p.text(COL_DATE, y, TABLE, &self.line.date.to_string());
        for (i, text) in self.department.iter().enumerate() {
            p.text(COL_DEPARTMENT, y - i as f32 * LEADING, TABLE, text);
        }
        for (i, text) in self.description.iter().enumerate() {
            p.text(COL_DESCRIPTION, y - i as f32 * LEADING, TABLE, text);
        }
        p.text(COL_KIND, y, TABLE, self.line.kind.label());
        p.text_right(RIGHT, y, TABLE, &self.line.amount.to_string());
        let rule = y - (self.lines() - 1) as f32 * LEADING - 4.5;
        p.rule(LEFT - 4.0, RIGHT + 4.0, rule, 0.4, 0.7);
        rule - (ROW_PITCH - 4.5)
    }
}

/// The summary (right), how to pay (left) and how the statement was delivered (under both),
/// from baseline `top`.
fn closing(p: &mut Page, d: &StatementDocument, top: f32) {
    let t = &d.totals;

    // The summary: labels under the facts box's, amounts flush with the table's.
    let (left, right) = (BOX_LEFT + BOX_PAD, RIGHT);
    let mut ry = top;
    for (label, value) in [("Previous balance", t.previous_balance), ("Charges", t.charges), ("Payments", t.payments), ("Adjustments", t.adjustments)] {
        p.text(left, ry, BODY, label);
        p.text_right(right, ry, fitted(BODY, &value.to_string(), right - left - 80.0), &value.to_string());
        ry -= 14.0;
    }
    p.rule(left, right, ry + 9.0, 0.75, 0.0);
    ry -= 4.0;
    let (label, shown) = due_label(t);
    p.text(left, ry, TOTAL, label);
    let room = right - left - text_width(label, TOTAL) - 8.0;
    p.text_right(right, ry, fitted(TOTAL, &shown.to_string(), room), &shown.to_string());
    if t.amount_due.cents() > 0 {
        ry -= 12.0;
        p.text_right(right, ry, LABEL, &format!("Due by {}", d.due_date.long()));
    }

    // How to pay, or why there is nothing to pay.
    let mut ly = top;
    if t.amount_due.cents() > 0 {
        p.text(LEFT, ly, HEADING, "How to pay");
        let due = format!("Please pay {} by {}.", t.amount_due, d.due_date.long());
        ly = p.paragraph(LEFT, ly - 15.0, PAY_WIDTH, BODY_BOLD, 11.5, &due);
        let phone = format!("By phone: call {} and have your account number, {}, ready.", d.organisation_phone, d.account_number);
        ly = p.paragraph(LEFT, ly - 15.0, PAY_WIDTH, BODY, 11.5, &phone);
        let mail = format!("By mail: make your check payable to {}, write your account number, {}, on it, and mail it to:", d.organisation, d.account_number);
        ly = p.paragraph(LEFT, ly - 15.0, PAY_WIDTH, BODY, 11.5, &mail);
        ly -= 3.0;
        for line in std::iter::once(&d.organisation).chain(&d.organisation_address) {
            ly = p.paragraph(LEFT + 14.0, ly - 11.5, PAY_WIDTH - 14.0, BODY, 11.5, line);
        }
    } else {
        p.text(LEFT, ly, HEADING, "Nothing to pay");
        let why = if t.amount_due.is_negative() {
            format!("Your account has a credit balance of {}: there is nothing to pay.", t.amount_due.abs())
        } else {
            "Your account has a balance of $0.00: there is nothing to pay.".to_string()
        };
        ly = p.paragraph(LEFT, ly - 15.0, PAY_WIDTH, BODY, 11.5, &why);
        let questions = format!("Questions about this statement? Call {}.", d.organisation_phone);
        ly = p.paragraph(LEFT, ly - 15.0, PAY_WIDTH, BODY, 11.5, &questions);
    }

    // How the statement reached the guarantor, and how to change it.
    let y = ly.min(ry) - 14.0;
    p.rule(LEFT, RIGHT, y, 0.4, 0.7);
    let note = match d.delivery {
        Delivery::Paperless => "Paperless statement: you receive your statements in the patient portal.",
        Delivery::Paper => {
            "Paper statement. You can switch to paperless statements in the patient portal: Billing → View Account → Paperless Billing → Update."
        }
    };
    p.paragraph(LEFT, y - 14.0, RIGHT - LEFT, NOTE, 11.0, note);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::statement::LineKind;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    fn date(s: &str) -> CalendarDate {
        CalendarDate::parse(s).unwrap()
    }

    const LONG_DESCRIPTION: &str = "Computed tomography of the chest with contrast, including three-dimensional reconstruction and the radiologist's report";

    /// A statement of `lines` lines, charges, payments and adjustments in turn; the second line
    /// has a description that wraps, the fifth one with parentheses and a backslash, every third
    /// a department that wraps.
    fn sample(lines: usize) -> StatementDocument {
        let kinds = [LineKind::Charge, LineKind::Payment, LineKind::Adjustment];
        let lines: Vec<Line> = (0..lines)
            .map(|i| {
                let kind = kinds[i % 3];
                let cents = 1_000 + i as i64 * 1_371;
                Line {
                    kind,
                    date: date(&format!("2026-10-{:02}", 1 + i % 28)),
                    department: if i % 3 == 2 { "Diagnostic Imaging and Interventional Radiology".into() } else { "Family Medicine".into() },
                    description: match i {
                        1 => LONG_DESCRIPTION.into(),
                        // What PDF strings must escape, left to pdf-writer's `Str`.
                        4 => r"Lipid panel (fasting) \ repeat ) (".into(),
                        _ => format!("Service item {i}"),
                    },
                    amount: Money(if kind == LineKind::Charge { cents } else { -cents / 3 }),
                }
            })
            .collect();
        let sum = |k: LineKind| Money(lines.iter().filter(|l| l.kind == k).map(|l| l.amount.cents()).sum());
        let mut totals = Totals {
            previous_balance: Money(2_000),
            charges: sum(LineKind::Charge),
            payments: sum(LineKind::Payment),
            adjustments: sum(LineKind::Adjustment),
            amount_due: Money::ZERO,
        };
        totals.amount_due = Money(totals.previous_balance.cents() + totals.charges.cents() + totals.payments.cents() + totals.adjustments.cents());
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
    fn widths_and_encoding() {
        // From the AFM files: "Statement" is 4 834 units in Helvetica-Bold, 4 558 in Helvetica.
        assert_eq!(text_width("Statement", style(Face::Bold, 1000.0)), 4_834.0);
        assert_eq!(text_width("Statement", style(Face::Regular, 1000.0)), 4_558.0);
        assert_eq!(text_width("é", BODY), text_width("e", BODY));
        assert_eq!(glyph('é'), Glyph::Latin(0xe9));
        assert_eq!(glyph('–'), Glyph::Latin(0x96));
        assert_eq!(glyph('€'), Glyph::Latin(0x80));
        assert_eq!(glyph('→'), Glyph::Symbol(0xae));
        assert_eq!(glyph('王'), Glyph::Latin(b'?'));
        assert_eq!(glyph('\u{7}'), Glyph::Latin(b'?'));
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

    #[test]
    fn the_widest_dates_and_amounts_fit_the_box() {
        // A month's period fits as it is; the widest (September is the widest month) shrinks a
        // little.
        let inner = RIGHT - BOX_LEFT - 2.0 * BOX_PAD;
        assert_eq!(fitted(VALUE, "October 1, 2026 – October 31, 2026", inner), VALUE);
        assert!(fitted(VALUE, "September 30, 2025 – September 30, 2026", inner).size >= 7.5, "the period stays readable");
        let widest = Money(-crate::billing::money::MAX_CENTS).to_string();
        assert!(text_width(&widest, TABLE) < RIGHT - (COL_KIND + text_width("Adjustment", TABLE) + 8.0), "amounts clear the kind column");
    }
}
