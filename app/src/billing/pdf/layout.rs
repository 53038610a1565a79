//! The statement's pages: their geometry, the drawing primitives (`Page`), and where each part
//! of a statement goes (the window envelope's address, the facts box, the line table, the
//! summary and how to pay).

use super::text::*;
use super::StatementDocument;
use crate::billing::money::Money;
use crate::billing::statement::{Delivery, Line, Totals};
use pdf_writer::{Content, Str};

// ---------------------------------------------------------------------------------------------
// Page geometry, in points (1/72 in). The origin is the bottom left corner.

pub(super) const PAGE_WIDTH: f32 = 612.0;
pub(super) const PAGE_HEIGHT: f32 = 792.0;
pub(super) const LEFT: f32 = 50.0;
pub(super) const RIGHT: f32 = PAGE_WIDTH - 50.0;
/// The top of the highest letters.
pub(super) const TOP: f32 = PAGE_HEIGHT - 50.0;
/// No baseline of the page's body goes below this; the footer sits under it.
pub(super) const BOTTOM: f32 = 62.0;
pub(super) const FOOTER_Y: f32 = 34.0;

/// A #10 window envelope shows, on a letter folded in three, about 1.75 in to 3.2 in from the
/// top and 0.875 in to 5.375 in from the left (and the letter moves a little inside). The
/// guarantor's name and address go there, and nothing else may: an account number or an amount
/// must not show through the window.
pub(super) const WINDOW_TOP: f32 = PAGE_HEIGHT - 1.75 * 72.0;
pub(super) const WINDOW_BOTTOM: f32 = PAGE_HEIGHT - 3.2 * 72.0;
pub(super) const WINDOW_RIGHT: f32 = 5.5 * 72.0;
pub(super) const ADDRESS_LEFT: f32 = 72.0;

/// The facts box (account, dates, amount due), top right and clear of the window.
pub(super) const BOX_LEFT: f32 = WINDOW_RIGHT;
pub(super) const BOX_PAD: f32 = 8.0;
/// The organisation's name, top left, wraps before it reaches the title.
pub(super) const ORGANISATION_WIDTH: f32 = 300.0;

/// The line table: date, department (wrapped), description (wrapped), kind, amount (flush
/// right). The widest amount allowed, -$100,000,000.00, still clears the kind column.
pub(super) const COL_DATE: f32 = LEFT;
pub(super) const COL_DEPARTMENT: f32 = 104.0;
pub(super) const DEPARTMENT_WIDTH: f32 = 104.0;
pub(super) const COL_DESCRIPTION: f32 = 216.0;
pub(super) const DESCRIPTION_WIDTH: f32 = 204.0;
pub(super) const COL_KIND: f32 = 428.0;
/// Between the wrapped lines of one row.
pub(super) const LEADING: f32 = 10.5;
/// From a row's last line to the next row's first: the rule between them sits 4.5 below.
pub(super) const ROW_PITCH: f32 = 14.0;

/// The summary and how to pay, side by side under the table.
pub(super) const PAY_WIDTH: f32 = BOX_LEFT - LEFT - 24.0;

// ---------------------------------------------------------------------------------------------
// Drawing.

/// One page being drawn.
pub(super) struct Page {
    pub(super) content: Content,
    /// The lowest baseline drawn so far: the layout keeps it at `BOTTOM` or above.
    pub(super) lowest: f32,
}

impl Page {
    pub(super) fn new() -> Page {
        Page { content: Content::new(), lowest: PAGE_HEIGHT }
    }

    pub(super) fn text(&mut self, x: f32, y: f32, style: Style, text: &str) {
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
pub(super) fn layout(d: &StatementDocument) -> Vec<Page> {
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
pub(super) fn first_page_top(p: &mut Page, d: &StatementDocument) -> f32 {
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
pub(super) fn facts_box(p: &mut Page, d: &StatementDocument, top: f32) -> f32 {
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
pub(super) fn due_label(t: &Totals) -> (&'static str, Money) {
    if t.amount_due.is_negative() {
        ("Credit balance", t.amount_due.abs())
    } else {
        ("Amount due", t.amount_due)
    }
}

/// Returns the first row's baseline.
pub(super) fn table_header(p: &mut Page, y: f32) -> f32 {
    p.shade(LEFT - 4.0, y - 5.0, RIGHT - LEFT + 8.0, 16.0, 0.9);
    p.text(COL_DATE, y, TABLE_HEAD, "Date");
    p.text(COL_DEPARTMENT, y, TABLE_HEAD, "Department");
    p.text(COL_DESCRIPTION, y, TABLE_HEAD, "Description");
    p.text(COL_KIND, y, TABLE_HEAD, "Kind");
    p.text_right(RIGHT, y, TABLE_HEAD, "Amount");
    y - 17.0
}

/// A continuation page's top; returns the baseline of what comes next.
pub(super) fn continued_top(p: &mut Page, d: &StatementDocument) -> f32 {
    let title = format!("{} · Statement of {} (continued)", d.organisation, d.statement_date.long());
    p.paragraph(LEFT, TOP - 8.0, RIGHT - LEFT, HEADING, 13.0, &title) - 26.0
}

/// A table row: the department and the description wrap within their columns.
pub(super) struct Row<'a> {
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
pub(super) fn closing(p: &mut Page, d: &StatementDocument, top: f32) {
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
