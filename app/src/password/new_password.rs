//! Checking a new password as a form gives it (twice), and naming what is wrong in a way that
//! can travel in a redirect (`?error=pw-common`) without the password itself.

use super::policy::Problem;
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

    pub fn from_code(code: &str) -> Option<NewPasswordProblem> {
        if code == "pw-mismatch" {
            return Some(NewPasswordProblem::Mismatch);
        }
        RULES.iter().find(|(_, c)| *c == code).map(|(p, _)| NewPasswordProblem::Rule(*p))
    }

    pub fn message(self) -> &'static str {
        match self {
            NewPasswordProblem::Mismatch => "The two passwords you typed are not the same. Please type them again.",
            NewPasswordProblem::Rule(p) => p.message(),
        }
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
            assert_eq!(NewPasswordProblem::from_code(problem.code()), Some(problem));
        }
        assert_eq!(NewPasswordProblem::from_code("pw-mismatch"), Some(NewPasswordProblem::Mismatch));
        assert_eq!(NewPasswordProblem::from_code("hunter2"), None);
    }
}
