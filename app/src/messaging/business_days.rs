//! When a reply to a patient's message is due (SPEC R-MSG-3): at the close of business on the
//! third business day (configurable) after the day the message counts as received, in the
//! clinic's own time zone. Business days are Monday to Friday except the organisation's
//! holidays. A message sent after the close of business, or on a day the clinic is closed,
//! counts as received on the next business day.
//!
//! The due date is worked out once, when the message is sent, and kept with it: a holiday
//! added later changes the due dates of messages sent after, not the date a patient was
//! already shown.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::collections::BTreeSet;

/// The organisation's working calendar.
#[derive(Clone, Debug)]
pub struct BusinessCalendar {
    zone: TimeZone,
    closes_at: Time,
    holidays: BTreeSet<Date>,
}

impl BusinessCalendar {
    pub fn new(zone: TimeZone, closes_at: Time, holidays: impl IntoIterator<Item = Date>) -> BusinessCalendar {
        BusinessCalendar { zone, closes_at, holidays: holidays.into_iter().collect() }
    }

    pub fn is_business_day(&self, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && !self.holidays.contains(&day)
    }

    fn next_business_day(&self, mut day: Date) -> Date {
        loop {
            day = day.tomorrow().expect("a date before the year 9999");
            if self.is_business_day(day) {
                return day;
            }
        }
    }

    /// The business day on which a message sent at `sent_at` counts as received.
    pub fn received_on(&self, sent_at: Timestamp) -> Date {
        let local = sent_at.to_zoned(self.zone.clone());
        let day = local.date();
        if self.is_business_day(day) && local.time() < self.closes_at {
            day
        } else {
            self.next_business_day(day)
        }
    }

    /// The moment a reply is due: the close of business on the `business_days`-th business day
    /// after the day the message counts as received.
    pub fn due_at(&self, sent_at: Timestamp, business_days: u32) -> Timestamp {
        let mut day = self.received_on(sent_at);
        for _ in 0..business_days {
            day = self.next_business_day(day);
        }
        // A close of business that falls in a daylight-saving gap moves forward, as clocks do.
        day.to_datetime(self.closes_at).to_zoned(self.zone.clone()).map(|z| z.timestamp()).expect("a date the time zone database covers")
    }

    /// [`Self::due_at`] for times kept as milliseconds since the Unix epoch.
    pub fn due_at_ms(&self, sent_at_ms: i64, business_days: u32) -> i64 {
        let sent = Timestamp::from_millisecond(sent_at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
        self.due_at(sent, business_days).as_millisecond()
    }

    /// The local calendar day of a moment, e.g. to show a due date as the clinic means it.
    pub fn local_date(&self, at_ms: i64) -> Date {
        Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(self.zone.clone()).date()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn new_york(holidays: &[Date]) -> BusinessCalendar {
        BusinessCalendar::new(TimeZone::get("America/New_York").unwrap(), time(17, 0, 0, 0), holidays.iter().copied())
    }

    /// A local wall-clock time in the calendar's zone.
    fn at(cal: &BusinessCalendar, day: Date, hour: i8, minute: i8) -> Timestamp {
        day.at(hour, minute, 0, 0).to_zoned(cal.zone.clone()).unwrap().timestamp()
    }

    fn local(cal: &BusinessCalendar, t: Timestamp) -> (Date, Time) {
        let z = t.to_zoned(cal.zone.clone());
        (z.date(), z.time())
    }

    // 2026-11-23 is a Monday.
    const MONDAY: Date = date(2026, 11, 23);

    #[test]
    fn three_business_days_from_a_weekday_morning() {
        let cal = new_york(&[]);
        let due = cal.due_at(at(&cal, MONDAY, 10, 0), 3);
        assert_eq!(local(&cal, due), (date(2026, 11, 26), time(17, 0, 0, 0)));
    }

    #[test]
    fn the_count_crosses_the_weekend() {
        let cal = new_york(&[]);
        // Thursday morning: Friday, Monday, Tuesday.
        let due = cal.due_at(at(&cal, date(2026, 11, 19), 9, 30), 3);
        assert_eq!(local(&cal, due).0, date(2026, 11, 24));
        // Friday just before the close counts as Friday.
        let due = cal.due_at(at(&cal, date(2026, 11, 20), 16, 59), 3);
        assert_eq!(local(&cal, due).0, date(2026, 11, 25));
    }

    #[test]
    fn after_hours_counts_from_the_next_business_day() {
        let cal = new_york(&[]);
        // At the close exactly, and late in the evening: received Tuesday, due Friday.
        assert_eq!(local(&cal, cal.due_at(at(&cal, MONDAY, 17, 0), 3)).0, date(2026, 11, 27));
        assert_eq!(local(&cal, cal.due_at(at(&cal, MONDAY, 23, 45), 3)).0, date(2026, 11, 27));
        // Friday evening: received Monday, due Thursday.
        assert_eq!(cal.received_on(at(&cal, date(2026, 11, 20), 18, 0)), MONDAY);
        assert_eq!(local(&cal, cal.due_at(at(&cal, date(2026, 11, 20), 18, 0), 3)).0, date(2026, 11, 26));
    }

    #[test]
    fn weekend_messages_count_from_monday() {
        let cal = new_york(&[]);
        for day in [date(2026, 11, 21), date(2026, 11, 22)] {
            for hour in [0, 9, 20] {
                assert_eq!(cal.received_on(at(&cal, day, hour, 0)), MONDAY);
                assert_eq!(local(&cal, cal.due_at(at(&cal, day, hour, 0), 3)).0, date(2026, 11, 26));
            }
        }
    }

    #[test]
    fn holidays_are_skipped_like_weekends() {
        // Thanksgiving (Thursday 26th) and the day after.
        let cal = new_york(&[date(2026, 11, 26), date(2026, 11, 27)]);
        // Monday: Tuesday, Wednesday, (closed Thu, Fri, weekend) Monday.
        assert_eq!(local(&cal, cal.due_at(at(&cal, MONDAY, 10, 0), 3)).0, date(2026, 11, 30));
        // Sent on the holiday itself: received the next business day (Monday the 30th).
        assert_eq!(cal.received_on(at(&cal, date(2026, 11, 26), 11, 0)), date(2026, 11, 30));
        assert_eq!(local(&cal, cal.due_at(at(&cal, date(2026, 11, 26), 11, 0), 3)).0, date(2026, 12, 3));
    }

    #[test]
    fn the_day_the_holiday_list_changes() {
        // The same message, before and after the clinic adds a closure: the new list moves the
        // due date of what is sent from then on; nothing else about the rule changes.
        let sent = |cal: &BusinessCalendar| at(cal, MONDAY, 10, 0);
        let before = new_york(&[]);
        let after = new_york(&[date(2026, 11, 25)]);
        assert_eq!(local(&before, before.due_at(sent(&before), 3)).0, date(2026, 11, 26));
        assert_eq!(local(&after, after.due_at(sent(&after), 3)).0, date(2026, 11, 27));
        // A holiday already behind the due date, or before the message, changes nothing.
        let past = new_york(&[date(2026, 11, 20), date(2026, 12, 1)]);
        assert_eq!(local(&past, past.due_at(sent(&past), 3)).0, date(2026, 11, 26));
    }

    #[test]
    fn time_zones_decide_the_day() {
        // 2026-11-24 03:30 UTC is Monday 22:30 in New York (after hours) but Tuesday 12:30 in
        // Sydney (within hours).
        let sent: Timestamp = "2026-11-24T03:30:00Z".parse().unwrap();
        let ny = new_york(&[]);
        assert_eq!(ny.received_on(sent), date(2026, 11, 24));
        assert_eq!(local(&ny, ny.due_at(sent, 3)).0, date(2026, 11, 27));
        let sydney = BusinessCalendar::new(TimeZone::get("Australia/Sydney").unwrap(), time(17, 0, 0, 0), []);
        assert_eq!(sydney.received_on(sent), date(2026, 11, 24));
        assert_eq!(local(&sydney, sydney.due_at(sent, 3)), (date(2026, 11, 27), time(17, 0, 0, 0)));
        // Close of business in New York is 22:00 UTC in winter, 21:00 UTC in summer.
        assert_eq!(ny.due_at(sent, 3).to_string(), "2026-11-27T22:00:00Z");
        let summer: Timestamp = "2026-07-06T14:00:00Z".parse().unwrap(); // Monday 10:00 EDT
        assert_eq!(ny.due_at(summer, 3).to_string(), "2026-07-09T21:00:00Z");
    }

    #[test]
    fn the_count_spans_a_daylight_saving_change() {
        let ny = new_york(&[]);
        // Friday 2027-03-12, 10:00 EST; clocks go forward on Sunday the 14th.
        let sent = at(&ny, date(2027, 3, 12), 10, 0);
        let due = ny.due_at(sent, 3);
        assert_eq!(local(&ny, due), (date(2027, 3, 17), time(17, 0, 0, 0)));
        assert_eq!(due.to_string(), "2027-03-17T21:00:00Z");
    }

    #[test]
    fn a_configured_number_of_days() {
        let cal = new_york(&[]);
        assert_eq!(local(&cal, cal.due_at(at(&cal, MONDAY, 10, 0), 0)).0, MONDAY);
        assert_eq!(local(&cal, cal.due_at(at(&cal, MONDAY, 10, 0), 1)).0, date(2026, 11, 24));
        assert_eq!(local(&cal, cal.due_at(at(&cal, MONDAY, 10, 0), 5)).0, date(2026, 11, 30));
    }

    #[test]
    fn milliseconds_round_trip() {
        let cal = new_york(&[]);
        let sent = at(&cal, MONDAY, 10, 0);
        assert_eq!(cal.due_at_ms(sent.as_millisecond(), 3), cal.due_at(sent, 3).as_millisecond());
        assert_eq!(cal.local_date(sent.as_millisecond()), MONDAY);
    }
}
