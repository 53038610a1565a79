use super::*;

const NO_INFO: PersonalInfo<'static> = PersonalInfo { names: &[], user_id: "", date_of_birth: None };

fn alice() -> PersonalInfo<'static> {
    PersonalInfo { names: &["Alice Johnson", "Al"], user_id: "alicej", date_of_birth: Some("1952-03-14") }
}

fn problems(password: &str) -> Vec<Problem> {
    check(password, &alice())
}

// Length

#[test]
fn exactly_eight_characters_is_enough() {
    assert_eq!(check_without_list("tulip-kx", &NO_INFO), vec![]);
    assert_eq!(check_without_list("tulip-k", &NO_INFO), vec![Problem::TooShort]);
    assert_eq!(check_without_list("", &NO_INFO), vec![Problem::TooShort]);
}

#[test]
fn up_to_128_characters_allowed_129_refused() {
    let unit = "Orchard lamp, river stone; ";
    let long: String = unit.chars().cycle().take(MAX_LEN).collect();
    assert_eq!(long.chars().count(), 128);
    assert_eq!(check_without_list(&long, &NO_INFO), vec![]);
    let too_long: String = unit.chars().cycle().take(MAX_LEN + 1).collect();
    assert_eq!(check_without_list(&too_long, &NO_INFO), vec![Problem::TooLong]);
    assert_eq!(check(&too_long, &NO_INFO), vec![Problem::TooLong]);
    // Even a huge input is answered at once, with only that problem.
    let huge = "a".repeat(1_000_000);
    assert_eq!(check(&huge, &alice()), vec![Problem::TooLong]);
}

#[test]
fn length_counts_characters_not_bytes() {
    // Seven characters but far more than eight bytes.
    let seven = "ĉiĝ🌷🌻🌼🌹";
    assert_eq!(seven.chars().count(), 7);
    assert!(seven.len() > 8);
    assert_eq!(check_without_list(seven, &NO_INFO), vec![Problem::TooShort]);
    // Each emoji is one character: 7 + 1 = 8.
    assert_eq!(check_without_list("ĉiĝ🌷🌻🌼🌹🍀", &NO_INFO), vec![]);
    assert_eq!(check_without_list("🌷🌻🌼🌹🍀🍁🍂🍄", &NO_INFO), vec![]);
}

#[test]
fn any_characters_are_allowed_and_nothing_is_required() {
    // Spaces, only lower-case letters, no digits or symbols: all fine.
    assert_eq!(problems("purple turtle dances"), vec![]);
    assert_eq!(problems("correcthorsebatterystaple"), vec![]);
    assert_eq!(problems("   green   tea   "), vec![]);
    assert_eq!(problems("Ünïcödé Çafé ☕ tôt"), vec![]);
    assert_eq!(problems("ЗимняяВишня"), vec![]);
}

// Common passwords

#[test]
fn common_passwords_are_refused_ignoring_case() {
    assert!(is_common("password"));
    assert!(is_common("PassWord"));
    assert!(is_common("12345678"));
    assert!(is_common("qwertyuiop"));
    assert!(is_common("iloveyou"));
    assert_eq!(check("Password", &NO_INFO), vec![Problem::Common]);
    assert_eq!(check("sunshine", &NO_INFO), vec![Problem::Common]);
}

#[test]
fn common_password_with_digits_or_symbols_tacked_on_is_refused() {
    assert!(is_common("password123!"));
    assert!(is_common("Password123!"));
    assert!(is_common("sunshine2024"));
    assert!(is_common("dragon!!"));
    assert!(is_common("football 1"));
    assert_eq!(check("password123!", &NO_INFO), vec![Problem::Common]);
}

#[test]
fn stripping_needs_four_characters_left() {
    // "abc" (3 characters left) is not looked up, so this is not refused as common.
    assert!(!is_common("abc12345678!"));
    // "love" (4) is.
    assert!(is_common("love2024!!"));
}

#[test]
fn uncommon_passwords_pass() {
    assert!(!is_common("tulip-kx"));
    assert!(!is_common("purple turtle dances"));
    assert!(!is_common("123password")); // only trailing digits are taken off
    assert!(!is_common(""));
}

#[test]
fn short_common_password_reports_both_in_order() {
    assert_eq!(check("monkey", &NO_INFO), vec![Problem::TooShort, Problem::Common]);
}

#[test]
fn the_list_is_about_ten_thousand_lower_case_lines() {
    let lines: Vec<&str> = common::LIST.lines().collect();
    assert!((9_000..=11_000).contains(&lines.len()), "{} lines", lines.len());
    for line in &lines {
        assert!(!line.trim().is_empty());
        assert_eq!(*line, line.to_lowercase());
    }
    assert!(common::list().len() > 9_000);
}

// Personal information

#[test]
fn a_name_part_is_refused_ignoring_case() {
    assert_eq!(problems("MyNameIsALICE!"), vec![Problem::ContainsName]);
    assert_eq!(problems("johnson-garden-party"), vec![Problem::ContainsName]);
    let info = PersonalInfo { names: &["Mary-Jo O'Brien"], ..NO_INFO };
    assert_eq!(check_without_list("obrien rocks", &info), vec![Problem::ContainsName]);
    assert_eq!(check_without_list("I love Mary songs", &info), vec![Problem::ContainsName]);
}

#[test]
fn name_parts_under_three_characters_are_ignored() {
    // "Al" and "Jo" are too short to count: "always" and "joyful" are fine.
    assert_eq!(problems("always joyful river"), vec![]);
    let info = PersonalInfo { names: &["Jo Li", "Ed"], ..NO_INFO };
    assert_eq!(check_without_list("jolly lime edges", &info), vec![]);
    // A three-letter name counts.
    let info = PersonalInfo { names: &["Kim Alvarez"], ..NO_INFO };
    assert_eq!(check_without_list("skimming stones", &info), vec![Problem::ContainsName]);
}

#[test]
fn the_user_id_is_refused_ignoring_case() {
    assert_eq!(problems("xxALICEJ-garden"), vec![Problem::ContainsName, Problem::ContainsUserId]);
    let info = PersonalInfo { user_id: "drlee", ..NO_INFO };
    assert_eq!(check_without_list("TheDrLee2024", &info), vec![Problem::ContainsUserId]);
    // User IDs under 3 characters are not looked for.
    let info = PersonalInfo { user_id: "ab", ..NO_INFO };
    assert_eq!(check_without_list("about a boat", &info), vec![]);
}

#[test]
fn each_written_form_of_the_birth_date_is_refused() {
    for form in [
        "19520314",
        "14031952",
        "03141952",
        "1952-03-14",
        "14/03/1952",
        "03/14/1952",
        "031452",
        "140352",
        "520314",
        "14.03.1952",
        "14.3.1952",
        "3/14/1952",
        "3/14/52",
        "14-3-52",
        "1952/3/14",
        "March 14, 1952",
        "14 March 1952",
        "14 Mar 1952",
        "mar141952",
        "14th March 1952",
        "March 14th, 1952",
        "14th of March 1952",
        "3141952",
    ] {
        let password = format!("tea {form} cup");
        assert_eq!(check_without_list(&password, &alice()), vec![Problem::ContainsBirthDate], "{password}");
        let only_the_date = PersonalInfo { date_of_birth: Some("1952-03-14"), ..NO_INFO };
        assert!(check_without_list(form, &only_the_date).contains(&Problem::ContainsBirthDate), "{form}");
    }
}

#[test]
fn other_dates_and_the_year_alone_are_not_the_birth_date() {
    assert_eq!(problems("tea 1952 cup river"), vec![]);
    assert_eq!(problems("tea 15/03/1952 cup"), vec![]);
    assert_eq!(problems("tea 19530314 cup"), vec![]);
    assert_eq!(problems("March 15, 1952 tea"), vec![]);
    // Short run-together forms do not count (1 January 1952 would be "1152").
    let info = PersonalInfo { date_of_birth: Some("1952-01-01"), ..NO_INFO };
    assert_eq!(check_without_list("room 1152 upstairs", &info), vec![]);
    assert_eq!(check_without_list("born 1/1/52 upstairs", &info), vec![Problem::ContainsBirthDate]);
    assert_eq!(check_without_list("born 1st january 1952", &info), vec![Problem::ContainsBirthDate]);
}

#[test]
fn a_malformed_birth_date_is_ignored() {
    for dob in ["", "14/03/1952", "1952-3-14", "1952-13-01", "abcd-ef-gh"] {
        let info = PersonalInfo { date_of_birth: Some(dob), ..NO_INFO };
        assert_eq!(check_without_list("tea 19520314 cup", &info), vec![], "{dob}");
    }
    // A time after the date is ignored.
    let info = PersonalInfo { date_of_birth: Some("1952-03-14T00:00:00Z"), ..NO_INFO };
    assert_eq!(check_without_list("tea 19520314 cup", &info), vec![Problem::ContainsBirthDate]);
}

// Repetition and sequences

#[test]
fn repetition_and_sequences_are_refused() {
    for password in [
        "aaaaaaaa",
        "AAAAAAAAAAAA",
        "12345678",
        "87654321",
        "abcdefgh",
        "qwertyui",
        "poiuytre",
        "asdfghjkl",
        "aaaa1234",
        "1234321a",
        "12345678xy",
        "78901234",
        "abababab",
        "abcabcabc",
        "passpass",
        "ab ab ab ab ",
        "        ",
        "🌷🌷🌷🌷🌷🌷🌷🌷",
        "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
    ] {
        assert!(check_without_list(password, &NO_INFO).contains(&Problem::Repetitive), "{password}");
    }
}

#[test]
fn ordinary_words_with_short_runs_are_not_repetitive() {
    for password in
        ["first street brewer", "abcess defend", "Tr0ub4dor&3", "Passw0rdPassw0rd", "mississippi", "bookkeeper", "aaa-river-stone", "1a2b3c4d5e", "tulip-kx"]
    {
        assert!(!check_without_list(password, &NO_INFO).contains(&Problem::Repetitive), "{password}");
    }
    // Too short for anything but length, yet not "repetitive".
    assert_eq!(check_without_list("Tom", &NO_INFO), vec![Problem::TooShort]);
}

#[test]
fn every_problem_has_a_plain_message() {
    let all =
        [Problem::TooShort, Problem::TooLong, Problem::Common, Problem::ContainsName, Problem::ContainsUserId, Problem::ContainsBirthDate, Problem::Repetitive];
    for p in all {
        assert!(p.message().ends_with('.'), "{p:?}");
    }
    assert_eq!(Problem::TooShort.message(), "Use at least 8 characters.");
}

// Strength (a hint only)

#[test]
fn strength_grows_with_length() {
    assert_eq!(strength("", &NO_INFO), Strength::TooWeak);
    assert_eq!(strength("tulip-k", &NO_INFO), Strength::TooWeak);
    assert_eq!(strength("tulipskx", &NO_INFO), Strength::Weak);
    assert_eq!(strength("tulipsbloom", &NO_INFO), Strength::Weak);
    assert_eq!(strength("tulipsinbloom", &NO_INFO), Strength::Fair);
    assert_eq!(strength("tulips in may", &NO_INFO), Strength::Fair);
    assert_eq!(strength("purple turtle dances", &NO_INFO), Strength::Strong);
    assert_eq!(strength("correcthorsebatterystaple", &NO_INFO), Strength::Strong);
    assert!(Strength::TooWeak < Strength::Weak && Strength::Fair < Strength::Strong);
}

#[test]
fn variety_helps_but_is_never_required() {
    assert_eq!(strength("tulipskx", &NO_INFO), Strength::Weak);
    assert_eq!(strength("Tulip-K9x", &NO_INFO), Strength::Fair);
    // Fifteen lower-case letters are strong without any digit or symbol.
    assert_eq!(strength("gardenlampriver", &NO_INFO), Strength::Strong);
}

#[test]
fn strength_is_penalised_for_personal_info_repetition_and_weak_words() {
    assert_eq!(strength("alice in the garden at dusk", &alice()), Strength::TooWeak);
    assert_eq!(strength("my id is alicej ok", &alice()), Strength::TooWeak);
    assert_eq!(strength("born 14/03/1952 in town", &alice()), Strength::TooWeak);
    assert_eq!(strength("aaaaaaaaaaaaaaaaaaaa", &NO_INFO), Strength::TooWeak);
    assert_eq!(strength("Password12345678", &NO_INFO), Strength::Weak);
    assert_eq!(strength("abab cdcd abab cdcd", &NO_INFO), Strength::Fair);
}

#[test]
fn labels() {
    assert_eq!(Strength::TooWeak.label(), "Too weak");
    assert_eq!(Strength::Strong.label(), "Strong");
}

#[test]
fn problems_and_strength_serialise() {
    let json = serde_json::to_string(&(Problem::ContainsBirthDate, Strength::Fair)).unwrap();
    assert_eq!(serde_json::from_str::<(Problem, Strength)>(&json).unwrap(), (Problem::ContainsBirthDate, Strength::Fair));
}
