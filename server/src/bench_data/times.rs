//! Time units, and moments moved to when people act: staff in office hours, patients awake, the
//! laboratory in the morning.

use super::random::Rng;
use app::dates::CalendarDate;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub(super) const MINUTE: i64 = 60_000;
pub(super) const HOUR: i64 = 60 * MINUTE;
pub(super) const DAY: i64 = 24 * HOUR;
pub(super) const YEAR: i64 = 365 * DAY;

/// A moment moved into local opening hours (8:00 to 18:00 on a weekday): when staff work.
pub(super) fn office_hours(rng: &mut Rng, zone: &TimeZone, at: i64) -> i64 {
    let Ok(t) = Timestamp::from_millisecond(at) else { return at };
    let local = t.to_zoned(zone.clone());
    let mut day = local.date();
    let hour = local.hour();
    if hour >= 18 {
        day = day.tomorrow().unwrap_or(day);
    }
    let moved = !(8..18).contains(&hour);
    while matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
        day = day.tomorrow().unwrap_or(day);
    }
    if !moved && day == local.date() {
        return at;
    }
    let hour = rng.range(8, 12) as i8;
    let minute = rng.range(0, 60) as i8;
    day.at(hour, minute, 0, 0).to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(at)
}

/// A weekday morning (7:00 to 11:00) of the day of a moment, or of the Monday after: when the
/// laboratory draws blood.
pub(super) fn lab_morning(rng: &mut Rng, zone: &TimeZone, at: i64) -> i64 {
    let Ok(t) = Timestamp::from_millisecond(at) else { return at };
    let mut day = t.to_zoned(zone.clone()).date();
    while matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
        day = day.tomorrow().unwrap_or(day);
    }
    let hour = rng.range(7, 11) as i8;
    let minute = rng.range(0, 60) as i8;
    day.at(hour, minute, 0, 0).to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(at)
}

/// A moment moved out of the night (patients write between 7:00 and 23:00).
pub(super) fn waking_hours(rng: &mut Rng, zone: &TimeZone, at: i64) -> i64 {
    let Ok(t) = Timestamp::from_millisecond(at) else { return at };
    let local = t.to_zoned(zone.clone());
    if (7..23).contains(&local.hour()) {
        return at;
    }
    let day = if local.hour() >= 23 { local.date().tomorrow().unwrap_or(local.date()) } else { local.date() };
    let hour = rng.range(7, 10) as i8;
    let minute = rng.range(0, 60) as i8;
    day.at(hour, minute, 0, 0).to_zoned(zone.clone()).map(|z| z.timestamp().as_millisecond()).unwrap_or(at)
}

/// `hour`:00 local time on a day, in milliseconds.
pub(super) fn local_ms(zone: &TimeZone, day: CalendarDate, hour: i8) -> i64 {
    Date::new(day.year as i16, day.month as i8, day.day as i8)
        .ok()
        .and_then(|d| d.at(hour, 0, 0, 0).to_zoned(zone.clone()).ok())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0)
}
