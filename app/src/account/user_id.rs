//! The rules of a user ID (SPEC R-ENR-3): unique without regard to letter case, 4 to 64
//! characters of letters, digits and `. _ - @`, starting with a letter or digit. Pure, so the
//! page can say what is wrong as the patient types.

use serde::{Deserialize, Serialize};

pub const MIN_LEN: usize = 4;
pub const MAX_LEN: usize = 64;
pub const RULES: &str = "4 to 64 characters: letters, numbers and . _ - @, starting with a letter or number. \
    Capital letters do not matter.";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserIdProblem {
    TooShort,
    TooLong,
    BadCharacter,
    BadStart,
    Taken,
}

impl UserIdProblem {
    pub fn message(self) -> &'static str {
        match self {
            UserIdProblem::TooShort => "Use at least 4 characters.",
            UserIdProblem::TooLong => "Use at most 64 characters.",
            UserIdProblem::BadCharacter => "Use only letters, numbers and . _ - @ (no spaces).",
            UserIdProblem::BadStart => "Start with a letter or a number.",
            UserIdProblem::Taken => "That user ID is taken. Please choose another.",
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            UserIdProblem::TooShort => "userid-short",
            UserIdProblem::TooLong => "userid-long",
            UserIdProblem::BadCharacter => "userid-chars",
            UserIdProblem::BadStart => "userid-start",
            UserIdProblem::Taken => "userid-taken",
        }
    }
}

/// A problem travels back to the activation page as a notice (`?error=userid-…`).
impl crate::layout::NoticeCode for UserIdProblem {
    const ALL: &'static [Self] = &[UserIdProblem::TooShort, UserIdProblem::TooLong, UserIdProblem::BadCharacter, UserIdProblem::BadStart, UserIdProblem::Taken];
    fn code(self) -> &'static str {
        UserIdProblem::code(self)
    }
    fn message(self) -> &'static str {
        UserIdProblem::message(self)
    }
    fn kind(self) -> crate::layout::NoticeKind {
        crate::layout::NoticeKind::Error
    }
}

/// The user ID in its stored form (trimmed, lower case), or what is wrong with it.
pub fn check_user_id(typed: &str) -> Result<String, UserIdProblem> {
    let id = typed.trim().to_lowercase();
    let n = id.chars().count();
    if n < MIN_LEN {
        return Err(UserIdProblem::TooShort);
    }
    if n > MAX_LEN {
        return Err(UserIdProblem::TooLong);
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err(UserIdProblem::BadCharacter);
    }
    if !id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(UserIdProblem::BadStart);
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_follow_the_rules() {
        assert_eq!(check_user_id("  Dora.M  "), Ok("dora.m".into()));
        assert_eq!(check_user_id("dora@example.org"), Ok("dora@example.org".into()));
        assert_eq!(check_user_id("abc"), Err(UserIdProblem::TooShort));
        assert_eq!(check_user_id(&"a".repeat(65)), Err(UserIdProblem::TooLong));
        assert_eq!(check_user_id("dora m"), Err(UserIdProblem::BadCharacter));
        assert_eq!(check_user_id("dorä"), Err(UserIdProblem::BadCharacter));
        assert_eq!(check_user_id(".dora"), Err(UserIdProblem::BadStart));
        for p in [UserIdProblem::TooShort, UserIdProblem::Taken, UserIdProblem::BadStart] {
            assert_eq!(<UserIdProblem as crate::layout::NoticeCode>::parse(crate::layout::NoticeKind::Error, p.code()), Some(p));
        }
    }
}
