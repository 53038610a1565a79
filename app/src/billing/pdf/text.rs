//! Text on the statement PDF: the standard fonts' faces and the styles the statement uses,
//! the WinAnsi encoding, Adobe's advance widths, and wrapping to a column.

use pdf_writer::Name;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Face {
    Regular,
    Bold,
    /// Only for the arrow `→`, which WinAnsi lacks and the portal's directions use.
    Symbol,
}

impl Face {
    pub(super) fn resource(self) -> Name<'static> {
        match self {
            Face::Regular => Name(b"F1"),
            Face::Bold => Name(b"F2"),
            Face::Symbol => Name(b"F3"),
        }
    }

    pub(super) fn base_font(self) -> Name<'static> {
        match self {
            Face::Regular => Name(b"Helvetica"),
            Face::Bold => Name(b"Helvetica-Bold"),
            Face::Symbol => Name(b"Symbol"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Style {
    pub(super) face: Face,
    pub(super) size: f32,
}

pub(super) const fn style(face: Face, size: f32) -> Style {
    Style { face, size }
}

pub(super) const ORGANISATION: Style = style(Face::Bold, 16.0);
pub(super) const TITLE: Style = style(Face::Bold, 20.0);
pub(super) const BODY: Style = style(Face::Regular, 9.0);
pub(super) const BODY_BOLD: Style = style(Face::Bold, 9.0);
pub(super) const HEADING: Style = style(Face::Bold, 10.5);
pub(super) const ADDRESS: Style = style(Face::Regular, 10.0);
pub(super) const ADDRESS_NAME: Style = style(Face::Bold, 10.0);
pub(super) const LABEL: Style = style(Face::Regular, 8.5);
pub(super) const VALUE: Style = style(Face::Regular, 9.0);
pub(super) const TOTAL: Style = style(Face::Bold, 11.0);
pub(super) const TABLE: Style = style(Face::Regular, 8.5);
pub(super) const TABLE_HEAD: Style = style(Face::Bold, 8.5);
pub(super) const NOTE: Style = style(Face::Regular, 8.5);
pub(super) const FOOTER: Style = style(Face::Regular, 8.0);

// ---------------------------------------------------------------------------------------------
// Text: encoding and widths.

/// How a character is drawn: a byte of WinAnsi in Helvetica, or a byte of the Symbol font.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Glyph {
    Latin(u8),
    Symbol(u8),
}

/// WinAnsi is Latin-1 plus typographic marks in 0x80..0x9F; anything else (Chinese, Greek,
/// emoji…) cannot be drawn with the standard fonts and shows as `?`.
pub(super) fn glyph(c: char) -> Glyph {
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
pub(super) const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, //   ! " # $ % & ' ( ) * + , - . /
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0 … 9 : ; < = > ?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @ A … O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P … Z [ \ ] ^ _
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // ` a … o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,      // p … z { | } ~
];
#[rustfmt::skip]
pub(super) const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];
/// Latin-1 letters 0xC0..=0xFF measured as an ASCII letter of (nearly) the same width: an
/// accent does not change a letter's width (`é` is `e`); `Æ` is about a `W`, `×` a `+`.
pub(super) const LATIN1_LIKE: &[u8; 64] = b"AAAAAAWCEEEEIIIIDNOOOOO+OUUUUYPFaaaaaamceeeeIIIIdnooooo+ouuuuypy";

pub(super) fn advance(g: Glyph, face: Face) -> u32 {
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

pub(super) fn text_width(text: &str, style: Style) -> f32 {
    let units: u32 = text.chars().map(|c| advance(glyph(c), style.face)).sum();
    units as f32 * style.size / 1000.0
}

/// The style, made smaller if need be so that `text` fits `width` (only extreme values need
/// it: the longest dates, amounts in the millions).
pub(super) fn fitted(style: Style, text: &str, width: f32) -> Style {
    let natural = text_width(text, style);
    if natural <= width {
        style
    } else {
        Style { size: style.size * width / natural, ..style }
    }
}

/// Splits `text` into lines no wider than `width`, at spaces; a word longer than a line is cut.
pub(super) fn wrap(text: &str, style: Style, width: f32) -> Vec<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
