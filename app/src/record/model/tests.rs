//! The rules a patient reads by: flags in words from interpretation and range together,
//! one-sided ranges, comparators and units, statuses.

use super::*;

fn amount(v: f64, unit: &str) -> ResultValue {
    ResultValue::Amount(Amount::plain(v, Some(unit)))
}

fn range(low: Option<f64>, high: Option<f64>, unit: &str) -> ReferenceRange {
    ReferenceRange { low: low.map(|l| Amount::plain(l, Some(unit))), high: high.map(|h| Amount::plain(h, Some(unit))), text: None }
}

#[test]
fn a_value_outside_its_range_is_flagged_whatever_the_lab_called_it() {
    let a1c = range(Some(4.0), Some(5.6), "%");
    assert_eq!(Flag::derive(&["H"], &amount(8.6, "%"), Some(&a1c)), Flag::High);
    assert_eq!(Flag::derive(&[], &amount(8.6, "%"), Some(&a1c)), Flag::High, "no interpretation: the range decides");
    assert_eq!(Flag::derive(&[], &amount(3.2, "%"), Some(&a1c)), Flag::Low);
    assert_eq!(Flag::derive(&[], &amount(5.0, "%"), Some(&a1c)), Flag::Normal);
    // A lab's "normal" beside a number outside the printed range would mislead: High.
    assert_eq!(Flag::derive(&["N"], &amount(8.6, "%"), Some(&a1c)), Flag::High);
    // The lab's "high" for a value the range calls normal (an age-specific range, say) stays.
    assert_eq!(Flag::derive(&["H"], &amount(5.0, "%"), Some(&a1c)), Flag::High);
}

#[test]
fn a_critical_call_is_never_softened_and_keeps_its_direction() {
    let k = range(Some(3.5), Some(5.1), "mmol/L");
    assert_eq!(Flag::derive(&["HH"], &amount(6.4, "mmol/L"), Some(&k)), Flag::CriticalHigh);
    assert_eq!(Flag::derive(&["LL"], &amount(2.1, "mmol/L"), Some(&k)), Flag::CriticalLow);
    // "Critical abnormal" without a direction, and the range says which way.
    assert_eq!(Flag::derive(&["AA"], &amount(6.4, "mmol/L"), Some(&k)), Flag::CriticalHigh);
    assert_eq!(Flag::derive(&["AA"], &amount(2.0, "mmol/L"), Some(&k)), Flag::CriticalLow);
    assert_eq!(Flag::derive(&["AA"], &ResultValue::Text("Positive".into()), None), Flag::Critical);
    assert_eq!(Flag::derive(&["HH", "N"], &amount(6.4, "mmol/L"), Some(&k)), Flag::CriticalHigh, "the worst of several codes");
    for f in [Flag::CriticalHigh, Flag::CriticalLow, Flag::Critical] {
        assert!(f.is_critical() && f.is_abnormal());
        assert!(f.words().unwrap().starts_with("Critical"), "{f:?} says critical in words");
    }
}

#[test]
fn values_far_outside_are_high_or_low_not_critical_unless_the_lab_says_so() {
    let k = range(Some(3.5), Some(5.1), "mmol/L");
    // The range alone never invents a critical value: critical limits are the lab's to set.
    assert_eq!(Flag::derive(&[], &amount(51.0, "mmol/L"), Some(&k)), Flag::High);
    assert_eq!(Flag::derive(&[], &amount(1e12, "mmol/L"), Some(&k)), Flag::High);
    assert_eq!(Flag::derive(&[], &amount(-40.0, "mmol/L"), Some(&k)), Flag::Low);
    assert_eq!(Flag::derive(&[], &amount(f64::NAN, "mmol/L"), Some(&k)), Flag::None, "not a number: nothing to compare");
    assert_eq!(Flag::derive(&[], &amount(f64::INFINITY, "mmol/L"), Some(&k)), Flag::None);
}

#[test]
fn one_sided_ranges_compare_on_their_one_side_inclusively() {
    // Total cholesterol "< 200 mg/dL" given as a high of 200; eGFR "≥ 60" as a low of 60.
    let chol = range(None, Some(200.0), "mg/dL");
    assert_eq!(Flag::derive(&[], &amount(198.0, "mg/dL"), Some(&chol)), Flag::Normal);
    assert_eq!(Flag::derive(&[], &amount(200.0, "mg/dL"), Some(&chol)), Flag::Normal, "FHIR bounds are inclusive");
    assert_eq!(Flag::derive(&[], &amount(231.0, "mg/dL"), Some(&chol)), Flag::High);
    assert_eq!(Flag::derive(&[], &amount(12.0, "mg/dL"), Some(&chol)), Flag::Normal, "no low bound: nothing is low");
    let egfr = range(Some(60.0), None, "mL/min/{1.73_m2}");
    assert_eq!(Flag::derive(&[], &amount(48.0, "mL/min/{1.73_m2}"), Some(&egfr)), Flag::Low);
    assert_eq!(Flag::derive(&[], &amount(95.0, "mL/min/{1.73_m2}"), Some(&egfr)), Flag::Normal);
    assert_eq!(chol.text(), "≤ 200 mg/dL");
    assert_eq!(egfr.text(), "≥ 60 mL/min/{1.73_m2}");
    assert_eq!(range(Some(4.0), Some(5.6), "%").text(), "4–5.6 %");
    let worded = ReferenceRange { text: Some("< 200 mg/dL".into()), ..chol.clone() };
    assert_eq!(worded.text(), "< 200 mg/dL", "the lab's own words win");
}

#[test]
fn a_value_with_a_comparator_is_placed_only_when_it_is_certain() {
    let crp = range(None, Some(5.0), "mg/L");
    let less = |v: f64| ResultValue::Amount(Amount { value: v, comparator: Some(Comparator::Less), unit: Some("mg/L".into()), unit_code: Some("mg/L".into()) });
    let more =
        |v: f64| ResultValue::Amount(Amount { value: v, comparator: Some(Comparator::Greater), unit: Some("mg/L".into()), unit_code: Some("mg/L".into()) });
    assert_eq!(Flag::derive(&[], &less(3.0), Some(&crp)), Flag::Normal, "< 3 is under 5");
    assert_eq!(Flag::derive(&[], &more(300.0), Some(&crp)), Flag::High, "> 300 is over 5");
    assert_eq!(Flag::derive(&[], &more(5.0), Some(&crp)), Flag::High, "> 5 is over an inclusive 5");
    assert_eq!(Flag::derive(&[], &more(2.0), Some(&crp)), Flag::None, "> 2 could be either side of 5");
    let ferritin = range(Some(15.0), Some(150.0), "mg/L");
    assert_eq!(Flag::derive(&[], &less(10.0), Some(&ferritin)), Flag::Low, "< 10 is below 15");
    assert_eq!(Flag::derive(&[], &less(50.0), Some(&ferritin)), Flag::None, "< 50 could be below 15 or not");
    assert_eq!(less(3.0).text(), "< 3 mg/L");
}

#[test]
fn a_range_in_another_unit_or_missing_flags_nothing_by_itself() {
    let mg = range(Some(70.0), Some(99.0), "mg/dL");
    assert_eq!(Flag::derive(&[], &amount(5.4, "mmol/L"), Some(&mg)), Flag::None, "mmol/L against mg/dL: not compared");
    assert_eq!(Flag::derive(&["H"], &amount(9.4, "mmol/L"), Some(&mg)), Flag::High, "the interpretation still counts");
    assert_eq!(Flag::derive(&[], &amount(5.4, "mmol/L"), None), Flag::None, "no range, no interpretation");
    assert_eq!(Flag::derive(&["N"], &amount(5.4, "mmol/L"), None), Flag::Normal);
    // Half a range in the right unit and half in another: not compared at all.
    let mixed = ReferenceRange { low: Some(Amount::plain(3.9, Some("mmol/L"))), high: Some(Amount::plain(99.0, Some("mg/dL"))), text: None };
    assert_eq!(Flag::derive(&[], &amount(150.0, "mmol/L"), Some(&mixed)), Flag::None);
    // Text-only ranges ("Negative") flag nothing themselves; the interpretation does.
    let negative = ReferenceRange { low: None, high: None, text: Some("Negative".into()) };
    assert_eq!(Flag::derive(&["A"], &ResultValue::Text("Positive".into()), Some(&negative)), Flag::Abnormal);
    assert_eq!(Flag::derive(&[], &ResultValue::Text("Positive".into()), Some(&negative)), Flag::None);
    assert_eq!(Flag::derive(&["POS"], &ResultValue::Text("Detected".into()), None), Flag::Abnormal);
    assert_eq!(Flag::derive(&["NEG"], &ResultValue::Text("Negative".into()), None), Flag::Normal);
    assert_eq!(Flag::derive(&["IND"], &ResultValue::Text("Indeterminate".into()), None), Flag::None, "IND says nothing about normal");
}

#[test]
fn units_compare_by_ucum_code_or_as_written() {
    let mmhg = Amount { value: 120.0, comparator: None, unit: Some("mmHg".into()), unit_code: Some("mm[Hg]".into()) };
    let same_code = Amount { value: 140.0, comparator: None, unit: Some("mm Hg".into()), unit_code: Some("mm[Hg]".into()) };
    let written = Amount { value: 140.0, comparator: None, unit: Some("mmHg".into()), unit_code: None };
    let other = Amount { value: 140.0, comparator: None, unit: Some("kPa".into()), unit_code: Some("kPa".into()) };
    let bare = Amount { value: 140.0, comparator: None, unit: None, unit_code: None };
    assert!(mmhg.same_unit(&same_code));
    assert!(mmhg.same_unit(&written));
    assert!(!mmhg.same_unit(&other));
    assert!(mmhg.same_unit(&bare), "a bound without a unit is taken in the value's");
}

#[test]
fn every_flag_but_none_has_words_and_words_never_rely_on_colour() {
    let all = [Flag::CriticalHigh, Flag::CriticalLow, Flag::Critical, Flag::High, Flag::Low, Flag::Abnormal, Flag::Normal];
    for f in all {
        assert!(f.words().is_some_and(|w| !w.is_empty()), "{f:?}");
    }
    assert_eq!(Flag::None.words(), None);
    assert_eq!(Flag::High.words(), Some("High"));
    assert_eq!(Flag::CriticalLow.words(), Some("Critically low"));
    // Severity orders the flags a panel shows as its worst.
    assert_eq!(Flag::Normal.worse(Flag::High), Flag::High);
    assert_eq!(Flag::High.worse(Flag::CriticalLow), Flag::CriticalLow);
    assert_eq!(Flag::Abnormal.worse(Flag::None), Flag::Abnormal);
}

#[test]
fn statuses_read_in_words_and_entered_in_error_is_never_shown() {
    assert_eq!(ResultStatus::of_fhir("preliminary"), Some(ResultStatus::Preliminary));
    assert_eq!(ResultStatus::of_fhir("corrected"), Some(ResultStatus::Corrected));
    assert_eq!(ResultStatus::of_fhir("amended"), Some(ResultStatus::Amended));
    assert_eq!(ResultStatus::of_fhir("cancelled"), Some(ResultStatus::Cancelled));
    assert_eq!(ResultStatus::of_fhir("registered"), Some(ResultStatus::Pending));
    assert_eq!(ResultStatus::of_fhir("entered-in-error"), None);
    assert_eq!(ResultStatus::of_fhir("bogus"), Some(ResultStatus::Unknown));
    assert_eq!(MedicationStatus::of_fhir("entered-in-error"), None);
    assert!(MedicationStatus::Active.is_current() && MedicationStatus::OnHold.is_current());
    assert!(!MedicationStatus::Stopped.is_current() && !MedicationStatus::Completed.is_current());
    assert!(IssueStatus::of_fhir("recurrence").is_active());
    assert!(!IssueStatus::of_fhir("resolved").is_active());
    assert!(IssueStatus::of_fhir("").is_active(), "an issue without a status is listed as active, not hidden");
}

#[test]
fn numbers_read_as_the_lab_wrote_them() {
    assert_eq!(number_text(120.0), "120");
    assert_eq!(number_text(8.6), "8.6");
    assert_eq!(number_text(0.004), "0.004");
    assert_eq!(number_text(-3.0), "-3");
    assert_eq!(Amount::plain(6.4, Some("mmol/L")).text(), "6.4 mmol/L");
    assert_eq!(ResultValue::Missing(Some("Specimen unsatisfactory".into())).text(), "No value (Specimen unsatisfactory)");
}

#[test]
fn item_ids_accept_only_their_own_shape() {
    assert!(ItemId::parse("0123456789abcdef0123456789abcdef").is_some());
    assert!(ItemId::parse("0123456789ABCDEF0123456789abcdef").is_none());
    assert!(ItemId::parse("alice-obs-20261123-a1c").is_none(), "an EHR id is never an item id");
    assert!(ItemId::parse("").is_none());
}
