//! The rules every new password meets (SPEC R-ENR-4), and a rough strength estimate for the meter.
//!
//! What the rules are (following NIST SP 800-63B rather than old "composition" habits):
//! - at least [`MIN_LEN`] and at most [`MAX_LEN`] characters, counted as Unicode characters (an
//!   emoji is one); [`RECOMMENDED_LEN`] or more is recommended, never required;
//! - any characters at all: spaces, accents, emoji. There is **no** rule that a password must
//!   contain a digit, a capital or a symbol;
//! - not one of the most common passwords (server only: the list stays out of the WASM), also
//!   when a few digits or symbols are tacked on at the end ("password123!");
//! - not containing the person's own name, user ID or date of birth (in any common written form);
//! - not mere repetition or sequences ("aaaaaaaa", "12345678", "abcabcabc", "qwertyui").
//!
//! [`check_without_list`] runs in the browser (the strength meter) and on the server; [`check`]
//! adds the common-password list and runs only on the server, which is where the rules are
//! enforced. [`strength`] is only a hint for the meter and never a reason to refuse a password.

/// The fewest characters a password may have.
pub const MIN_LEN: usize = 8;
/// The length the page recommends: "15 or more characters is best".
pub const RECOMMENDED_LEN: usize = 15;
/// The most characters a password may have (SPEC: "up to at least 64"); also bounds the work the
/// checks do on whatever a form sends.
pub const MAX_LEN: usize = 128;

/// What the password is checked against besides the common list.
#[derive(Clone, Copy, Debug, Default)]
pub struct PersonalInfo<'a> {
    /// The person's names as written anywhere ("Alice", "Mary-Jo O'Brien"); each is split into
    /// parts, and parts shorter than 3 characters are ignored.
    pub names: &'a [&'a str],
    /// The user ID (ignored when shorter than 3 characters).
    pub user_id: &'a str,
    /// "YYYY-MM-DD"; anything else is ignored.
    pub date_of_birth: Option<&'a str>,
}

/// One rule a password breaks. The order of the variants is the order in which problems are
/// reported (the first one is what a page shows first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Problem {
    TooShort,
    TooLong,
    Common,
    ContainsName,
    ContainsUserId,
    ContainsBirthDate,
    Repetitive,
}

impl Problem {
    /// What to tell the person, in plain words.
    pub fn message(self) -> &'static str {
        match self {
            Problem::TooShort => "Use at least 8 characters.",
            Problem::TooLong => "Use no more than 128 characters.",
            Problem::Common => "Many people use this password, so it is easy to guess. Please choose a different one.",
            Problem::ContainsName => "Do not use your name in your password.",
            Problem::ContainsUserId => "Do not use your user ID in your password.",
            Problem::ContainsBirthDate => "Do not use your date of birth in your password.",
            Problem::Repetitive => "Avoid repeated or in-order characters, such as \"aaaa\" or \"1234\".",
        }
    }
}

/// A rough estimate of how hard a password is to guess, for the meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Strength {
    TooWeak,
    Weak,
    Fair,
    Strong,
}

impl Strength {
    pub fn label(self) -> &'static str {
        match self {
            Strength::TooWeak => "Too weak",
            Strength::Weak => "Weak",
            Strength::Fair => "Fair",
            Strength::Strong => "Strong",
        }
    }
}

/// Rules that need no list (usable in the browser): length, personal info, repetition like
/// "aaaaaaaa" / "12345678" sequences. Every problem found, in the order of [`Problem`].
pub fn check_without_list(password: &str, info: &PersonalInfo) -> Vec<Problem> {
    let len = password.chars().count();
    if len > MAX_LEN {
        // Nothing else is looked at: keeps the work bounded whatever is sent.
        return vec![Problem::TooLong];
    }
    let mut problems = Vec::new();
    if len < MIN_LEN {
        problems.push(Problem::TooShort);
    }
    let lower = password.to_lowercase();
    if contains_name(&lower, info.names) {
        problems.push(Problem::ContainsName);
    }
    if contains_user_id(&lower, info.user_id) {
        problems.push(Problem::ContainsUserId);
    }
    if info.date_of_birth.is_some_and(|dob| contains_birth_date(&lower, dob)) {
        problems.push(Problem::ContainsBirthDate);
    }
    if is_repetitive(&lower) {
        problems.push(Problem::Repetitive);
    }
    problems
}

/// All rules, including the common-password list (server only).
#[cfg(feature = "ssr")]
pub fn check(password: &str, info: &PersonalInfo) -> Vec<Problem> {
    let mut problems = check_without_list(password, info);
    if !problems.contains(&Problem::TooLong) && is_common(password) {
        // After the length problems, before the rest: the order of `Problem`.
        let at = problems.iter().take_while(|p| matches!(p, Problem::TooShort)).count();
        problems.insert(at, Problem::Common);
    }
    problems
}

/// Whether the password is on the list of common passwords, ignoring case, also once digits,
/// punctuation and spaces at its end are taken off ("Password123!" is "password"), as long as
/// at least 4 characters remain.
#[cfg(feature = "ssr")]
pub fn is_common(password: &str) -> bool {
    if password.chars().count() > MAX_LEN {
        return false;
    }
    let list = common::list();
    let lower = password.to_lowercase();
    if list.contains(lower.as_str()) {
        return true;
    }
    let stripped = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace());
    stripped.len() != lower.len() && stripped.chars().count() >= 4 && list.contains(stripped)
}

#[cfg(feature = "ssr")]
mod common {
    use std::collections::HashSet;
    use std::sync::OnceLock;

    /// About 10,000 of the most common passwords, most common first, one a line (lower case).
    /// Where it comes from: `COMMON-PASSWORDS-SOURCE.md`.
    pub(super) const LIST: &str = include_str!("common-passwords.txt");

    /// Built on first use.
    pub(super) fn list() -> &'static HashSet<String> {
        static SET: OnceLock<HashSet<String>> = OnceLock::new();
        SET.get_or_init(|| LIST.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_lowercase).collect())
    }
}

/// A rough estimate for the meter: length and variety of characters, penalised for personal info /
/// repetition; never a composition RULE, only a hint.
///
/// Length counts most: under 8 characters is "too weak", 15 or more (the recommendation) is
/// "strong". Each extra kind of character (capitals, digits, symbols or spaces, other letters)
/// counts like one more character; few different characters, or a well-known weak word inside,
/// lower the estimate. A password that breaks a rule (other than being too long) is "too weak".
pub fn strength(password: &str, info: &PersonalInfo) -> Strength {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Strength::TooWeak;
    }
    if len <= MAX_LEN && !check_without_list(password, info).is_empty() {
        return Strength::TooWeak;
    }
    let (mut lower, mut upper, mut digit, mut symbol, mut other) = (false, false, false, false, false);
    for c in password.chars() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' => upper = true,
            '0'..='9' => digit = true,
            c if c.is_ascii() => symbol = true,
            _ => other = true,
        }
    }
    let kinds = [lower, upper, digit, symbol, other].iter().filter(|k| **k).count();
    let mut score = len + kinds.saturating_sub(1);

    let lowered = password.to_lowercase();
    let mut distinct: Vec<char> = lowered.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    // "abab cdcd abab cdcd" is long, but made of five characters.
    score = score.min(2 * distinct.len() + 4);
    if WEAK_WORDS.iter().any(|w| lowered.contains(w)) {
        score = score.min(RECOMMENDED_LEN - 4);
    }
    match score {
        s if s < MIN_LEN => Strength::TooWeak,
        s if s < 12 => Strength::Weak,
        s if s < RECOMMENDED_LEN => Strength::Fair,
        _ => Strength::Strong,
    }
}

/// A handful of the most-guessed words, so that the meter (which has no list in the browser) does
/// not call "Password12345678" strong. The full list is checked on the server.
const WEAK_WORDS: &[&str] = &[
    "password", "passw0rd", "qwerty", "letmein", "welcome", "iloveyou", "abc123", "123456", "admin", "monkey", "dragon", "sunshine", "princess", "football",
    "baseball", "trustno1",
];

/// Whether a part of a name (3 characters or more) is in the password.
fn contains_name(lower: &str, names: &[&str]) -> bool {
    names.iter().any(|name| name.to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|part| part.chars().count() >= 3 && lower.contains(part)))
}

fn contains_user_id(lower: &str, user_id: &str) -> bool {
    let id = user_id.trim().to_lowercase();
    id.chars().count() >= 3 && lower.contains(&id)
}

const MONTHS: [&str; 12] = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/// Whether the date of birth ("YYYY-MM-DD") is in the password in a common written form:
/// 19520314, 14031952, 03141952, 520314, 140352, 031452, 1952-03-14, 14/03/1952, 03/14/1952,
/// 14.3.1952, 3/14/52, "March 14, 1952", "14 Mar 1952", "14th March 1952"…
fn contains_birth_date(lower: &str, date_of_birth: &str) -> bool {
    let Some((year, month, day)) = parse_date(date_of_birth) else { return false };
    // The password with only its letters and digits: "14/03/1952" and "March 14, 1952" become
    // "14031952" and "march141952".
    let compact: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();

    let yyyy = format!("{year:04}");
    let yy = format!("{:02}", year % 100);
    let months = [format!("{month:02}"), month.to_string()];
    let days = [format!("{day:02}"), day.to_string()];
    let month_name = MONTHS[month as usize - 1];
    let month_names = [month_name, &month_name[..3]];
    let ordinal = format!("{day}{}", ordinal_suffix(day));

    let mut compact_forms: Vec<String> = Vec::new();
    let mut separated_forms: Vec<String> = Vec::new();
    for y in [&yyyy, &yy] {
        for m in &months {
            for d in &days {
                for [a, b, c] in [[y, m, d], [d, m, y], [m, d, y]] {
                    compact_forms.push(format!("{a}{b}{c}"));
                    for sep in ['-', '/', '.', ' '] {
                        separated_forms.push(format!("{a}{sep}{b}{sep}{c}"));
                    }
                }
            }
        }
        for name in month_names {
            for d in days.iter().chain([&ordinal]) {
                compact_forms.push(format!("{d}{name}{y}"));
                compact_forms.push(format!("{name}{d}{y}"));
                compact_forms.push(format!("{d}of{name}{y}"));
            }
        }
    }
    // Short run-together forms ("1152" for 1 January 1952) would match far too much by chance.
    compact_forms.iter().any(|f| f.len() >= 6 && compact.contains(f.as_str())) || separated_forms.iter().any(|f| lower.contains(f.as_str()))
}

fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

/// "YYYY-MM-DD" (anything after the first ten characters, such as a time, is ignored).
fn parse_date(s: &str) -> Option<(u32, u32, u32)> {
    let s = s.trim();
    let s = s.get(..10).unwrap_or(s);
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// Whether the (lower-cased) password is mere repetition or sequences: a piece shorter than
/// [`MIN_LEN`] said over again ("abcabcabc", "passpass", "ab ab ab "), or little besides runs of
/// one character, counting order ("12345678", "87654321", "abcdefgh") and keyboard rows
/// ("qwertyui"): "aaaaaaaa", "aaaa1234", "1234321a", "12345678xy".
fn is_repetitive(lower: &str) -> bool {
    let chars: Vec<char> = lower.chars().collect();
    let n = chars.len();
    let periodic = (1..=n / 2).any(|p| p < MIN_LEN && (p..n).all(|i| chars[i] == chars[i - p]));
    if periodic {
        return true;
    }
    // Count what is left once each run of 3 or more is reduced to two "units" (its start and its
    // pattern); a password that is little more than runs is repetitive.
    let mut units = 0;
    let mut runs = 0;
    let mut i = 0;
    while i < n {
        let run = RELATIONS.iter().map(|rel| run_length(&chars[i..], *rel)).max().unwrap_or(1);
        if run >= 3 {
            units += 2;
            runs += 1;
            i += run;
        } else {
            units += 1;
            i += 1;
        }
    }
    runs > 0 && units <= 5
}

#[derive(Clone, Copy)]
enum Relation {
    Same,
    Up,
    Down,
    KeyRight,
    KeyLeft,
}

const RELATIONS: [Relation; 5] = [Relation::Same, Relation::Up, Relation::Down, Relation::KeyRight, Relation::KeyLeft];

const KEYBOARD_ROWS: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

/// How many characters from the start of `chars` each follow the one before by `rel`.
fn run_length(chars: &[char], rel: Relation) -> usize {
    if chars.is_empty() {
        return 0;
    }
    1 + chars.windows(2).take_while(|w| follows(w[0], w[1], rel)).count()
}

fn follows(a: char, b: char, rel: Relation) -> bool {
    match rel {
        Relation::Same => a == b,
        Relation::Up => next_in_order(a) == Some(b),
        Relation::Down => next_in_order(b) == Some(a),
        Relation::KeyRight => next_on_keyboard(a) == Some(b),
        Relation::KeyLeft => next_on_keyboard(b) == Some(a),
    }
}

/// The next character in counting order; "0" follows "9" ("7890").
fn next_in_order(c: char) -> Option<char> {
    if c == '9' {
        return Some('0');
    }
    char::from_u32(c as u32 + 1)
}

fn next_on_keyboard(c: char) -> Option<char> {
    KEYBOARD_ROWS.iter().find_map(|row| {
        let mut keys = row.chars().skip_while(|k| *k != c);
        keys.next().and_then(|_| keys.next())
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests;
