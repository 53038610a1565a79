//! Checking a new password as a form gives it (twice), and naming what is wrong in a way that
//! can travel in a redirect (`?error=pw-common`, a notice code) without the password itself.

use super::policy::Problem;
use crate::layout::{NoticeCode, NoticeKind};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NewPasswordProblem {
    Rule(Problem),
    /// The two copies differ.
    Mismatch,
}

const RULES: [(Problem, &str); 7] = [
    (Problem::TooShort, "pw-short"),
    (Problem::TooLong, "pw-long"),
    (Problem::Common, "pw-common"),
    (Problem::ContainsName, "pw-name"),
    (Problem::ContainsUserId, "pw-userid"),
    (Problem::ContainsBirthDate, "pw-birthdate"),
    (Problem::Repetitive, "pw-repetitive"),
];

impl NewPasswordProblem {
    pub fn code(self) -> &'static str {
        match self {
            NewPasswordProblem::Mismatch => "pw-mismatch",
            NewPasswordProblem::Rule(p) => RULES.iter().find(|(r, _)| *r == p).map(|(_, c)| *c).unwrap_or("pw-other"),
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            NewPasswordProblem::Mismatch => "The two passwords you typed are not the same. Please type them again.",
            NewPasswordProblem::Rule(p) => p.message(),
        }
    }
}

/// A problem travels back to the form's page as a notice (`?error=pw-…`), shown as it is or
/// after the page's words (activation says "Password: …").
impl NoticeCode for NewPasswordProblem {
    const ALL: &'static [Self] = &[
        NewPasswordProblem::Rule(Problem::TooShort),
        NewPasswordProblem::Rule(Problem::TooLong),
        NewPasswordProblem::Rule(Problem::Common),
        NewPasswordProblem::Rule(Problem::ContainsName),
        NewPasswordProblem::Rule(Problem::ContainsUserId),
        NewPasswordProblem::Rule(Problem::ContainsBirthDate),
        NewPasswordProblem::Rule(Problem::Repetitive),
        NewPasswordProblem::Mismatch,
    ];
    fn code(self) -> &'static str {
        NewPasswordProblem::code(self)
    }
    fn message(self) -> &'static str {
        NewPasswordProblem::message(self)
    }
    fn kind(self) -> NoticeKind {
        NoticeKind::Error
    }
}

/// Every rule of R-ENR-4 (including the common-password list), then that both copies match.
#[cfg(feature = "ssr")]
pub fn check(password: &str, again: &str, names: &[&str], user_id: &str, date_of_birth: Option<&str>) -> Result<(), NewPasswordProblem> {
    let info = super::policy::PersonalInfo { names, user_id, date_of_birth };
    if let Some(p) = super::policy::check(password, &info).into_iter().next() {
        return Err(NewPasswordProblem::Rule(p));
    }
    if password != again {
        return Err(NewPasswordProblem::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_travels_as_a_code() {
        for (p, _) in RULES {
            let problem = NewPasswordProblem::Rule(p);
            assert!(<NewPasswordProblem as NoticeCode>::ALL.contains(&problem));
            assert_eq!(NewPasswordProblem::parse(NoticeKind::Error, problem.code()), Some(problem));
        }
        assert_eq!(NewPasswordProblem::parse(NoticeKind::Error, "pw-mismatch"), Some(NewPasswordProblem::Mismatch));
        assert_eq!(NewPasswordProblem::parse(NoticeKind::Error, "hunter2"), None);
    }
}
