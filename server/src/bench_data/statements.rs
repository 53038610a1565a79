//! The statements part: billing accounts and their monthly statements, and the print queue.

use super::names::{CHARGES, STREETS};
use super::patients::Person;
use super::random::{draw, Choose, Rng, SEED_BILLING, SEED_PRINTED, SEED_QUEUE, SEED_STATEMENTS};
use super::rows::{t, Rows, INSERT_ACCOUNTS, INSERT_DELIVERY_CHANGES, INSERT_LINES, INSERT_STATEMENTS, V};
use super::times::{local_ms, office_hours, DAY, HOUR, MINUTE};
use super::{begin, count, BenchDataError, Clinic, Options, BATCH};
use app::billing::money::Money;
use app::billing::statement::{self, Line, LineKind, NewStatement, Totals};
use app::dates::CalendarDate;
use app::platform::tokens::new_id;
use jiff::civil::Date;
use jiff::Timestamp;

/// The share of billing accounts on paper statements.
const PAPER: f64 = 0.15;
/// The share of patients with a statement in this month's run (for the others the newest is
/// older).
const IN_LATEST_RUN: f64 = 0.3;
/// Months back that statements are spread over (more when a patient has more statements).
const STATEMENT_MONTHS: u32 = 36;

const PRINT_QUEUE: &str = "SELECT COUNT(*) AS n FROM statements WHERE delivery = 'paper' AND printed_at IS NULL";

/// Whether a patient's account is on paper, and whether they have a statement in this
/// month's run: drawn per patient, so they are known before the statements part runs.
pub(super) fn billing_profile(n: u32) -> (bool, bool) {
    let mut r = draw(SEED_BILLING, u64::from(n));
    (r.chance(PAPER), r.chance(IN_LATEST_RUN))
}

fn calendar_date(d: Date) -> CalendarDate {
    CalendarDate::new(i32::from(d.year()), d.month() as u32, d.day() as u32).expect("a date jiff made")
}

/// The first day of the month `back` months before `today`'s.
fn month_start(today: Date, back: u32) -> Date {
    let months = i32::from(today.year()) * 12 + i32::from(today.month()) - 1 - back as i32;
    Date::new(months.div_euclid(12) as i16, (months.rem_euclid(12) + 1) as i8, 1).unwrap_or(today)
}

/// A patient's statements, oldest first, each with its totals (checked by the billing rules):
/// `count` monthly statements over the last three years (longer when there are more), this
/// month's run among them when `latest`. Each pays the last balance (mostly in full, sometimes
/// in part or not at all) and charges a visit or two, usually with an insurance adjustment.
fn statement_history(rng: &mut Rng, count: u32, latest: bool, today: Date) -> Result<Vec<(NewStatement, Totals)>, statement::StatementError> {
    // Months back (1: last month's period, in this month's run), newest first.
    let window = STATEMENT_MONTHS.max(count + 1);
    let mut backs: Vec<u32> = Vec::with_capacity(count as usize);
    let mut want = count;
    if latest && want > 0 {
        backs.push(1);
        want -= 1;
    }
    let mut left = window - 1;
    for back in 2..=window {
        if want > 0 && (rng.next() % u64::from(left)) < u64::from(want) {
            backs.push(back);
            want -= 1;
        }
        left -= 1;
    }
    let mut history = Vec::with_capacity(backs.len());
    let mut previous = Money::ZERO;
    for &back in backs.iter().rev() {
        let start = month_start(today, back);
        let next = month_start(today, back - 1);
        let day = |rng: &mut Rng, from: i64, to: i64| calendar_date(Date::new(start.year(), start.month(), rng.range(from, to) as i8).unwrap_or(start));
        let mut lines: Vec<Line> = Vec::new();
        if previous.cents() > 0 {
            let paid = match rng.range(0, 10) {
                0 => 0,
                1 => (previous.cents() / 2 / 500 * 500).max(500).min(previous.cents()),
                _ => previous.cents(),
            };
            if paid > 0 {
                lines.push(Line {
                    kind: LineKind::Payment,
                    date: day(rng, 1, 15),
                    department: "Family Medicine".into(),
                    description: "Payment, thank you".into(),
                    amount: Money(-paid),
                });
            }
        }
        let mut charged = 0;
        for _ in 0..rng.range(1, 4) {
            let &(department, description, lo, hi) = rng.pick(CHARGES);
            let amount = rng.range(lo, hi) / 5 * 5;
            charged += amount;
            lines.push(Line {
                kind: LineKind::Charge,
                date: day(rng, 1, 20),
                department: department.into(),
                description: description.into(),
                amount: Money(amount),
            });
        }
        if rng.chance(0.7) {
            let adjustment = (charged * rng.range(30, 61) / 100).max(1);
            lines.push(Line {
                kind: LineKind::Adjustment,
                date: day(rng, 20, 29),
                department: "Family Medicine".into(),
                description: "Insurance contractual adjustment".into(),
                amount: Money(-adjustment),
            });
        }
        lines.sort_by_key(|l| l.date);
        let expected = Money(previous.cents() + lines.iter().map(|l| l.amount.cents()).sum::<i64>());
        let new = NewStatement {
            statement_date: calendar_date(next),
            period_start: calendar_date(start),
            period_end: calendar_date(next.yesterday().unwrap_or(next)),
            due_date: calendar_date(Date::new(next.year(), next.month(), 25).unwrap_or(next)),
            lines,
            expected_amount_due: expected,
        };
        let totals = statement::check(&new, previous)?;
        previous = totals.amount_due;
        history.push((new, totals));
    }
    Ok(history)
}

/// What the statements part loaded; the print queue is counted after loading, the demo's
/// included.
pub(super) struct Counts {
    pub(super) statements: u64,
    pub(super) statement_lines: u64,
    pub(super) print_queue: i64,
}

/// Loads the statements part.
pub(super) async fn load(clinic: &Clinic<'_>, options: &Options, people: &[Person]) -> Result<Counts, BenchDataError> {
    let (state, now, zone) = (clinic.state, clinic.now, &clinic.zone);
    let billing_staff = &clinic.billing_staff;
    let today = Timestamp::from_millisecond(now).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(zone.clone()).date();
    // This month's paper statements, of which the print queue's are chosen.
    let candidates =
        if options.statements_per_patient == 0 { 0 } else { (1..=options.patients).filter(|&n| billing_profile(n) == (true, true)).count() as u64 };
    let queued_already = count(state, PRINT_QUEUE, None).await?;
    let mut to_print = Choose::new((i64::from(options.print_queue) - queued_already).max(0) as u64, candidates, SEED_QUEUE);
    let mut queue_position: i64 = sqlx::query_scalar("SELECT last FROM print_queue_counter WHERE id = 1").fetch_one(&state.db.pool).await?;
    let mut rng = Rng(SEED_STATEMENTS);
    // When paper statements were printed: a stream of its own, since moving a time into office
    // hours draws a varying number of times and the amounts should not depend on it.
    let mut print_times = Rng(SEED_PRINTED);
    let (mut statements, mut statement_lines) = (0u64, 0u64);
    let mut accounts = Rows::new(INSERT_ACCOUNTS, state.db.dialect);
    let mut changes = Rows::new(INSERT_DELIVERY_CHANGES, state.db.dialect);
    let mut statement_rows = Rows::new(INSERT_STATEMENTS, state.db.dialect);
    let mut line_rows = Rows::new(INSERT_LINES, state.db.dialect);
    if options.statements_per_patient > 0 {
        for batch in people.chunks(BATCH) {
            let mut tx = begin(state).await?;
            for p in batch {
                let (paper, latest) = billing_profile(p.n);
                let delivery = if paper { "paper" } else { "paperless" };
                let history = statement_history(&mut rng, options.statements_per_patient, latest, today)?;
                let account = new_id();
                let first_period = history.first().map(|(s, _)| local_ms(zone, s.period_start, 0)).unwrap_or(p.created);
                let opened = p.created.min(first_period - DAY);
                let address = format!("{} {}\nRiverside, ST 00000", rng.range(1, 999), rng.pick(STREETS));
                accounts.push([
                    t(&account),
                    V::Text(format!("GB{:08}", p.n)),
                    t(&p.patient),
                    V::Text(address),
                    V::Fixed(delivery),
                    V::Int(opened),
                    t(billing_staff),
                ]);
                changes.push([V::Text(new_id()), t(&account), V::Int(opened), t(billing_staff), V::Fixed("opened"), V::Null, V::Fixed(delivery)]);
                let newest = history.len().saturating_sub(1);
                for (i, (s, totals)) in history.into_iter().enumerate() {
                    let id = new_id();
                    // The statement run posts overnight; a mailing house prints paper ones
                    // within a couple of days, except those still in the print queue.
                    let posted = (local_ms(zone, s.statement_date, 6) + rng.range(0, 2 * HOUR)).min(now - MINUTE);
                    let queued = paper && latest && i == newest && to_print.next();
                    let printed = (paper && !queued).then(|| {
                        let at = posted + print_times.range(2 * HOUR, 2 * DAY);
                        office_hours(&mut print_times, zone, at).min(now - MINUTE)
                    });
                    queue_position += 1;
                    statement_rows.push([
                        t(&id),
                        t(&account),
                        V::Text(s.statement_date.to_string()),
                        V::Text(s.period_start.to_string()),
                        V::Text(s.period_end.to_string()),
                        V::Text(s.due_date.to_string()),
                        V::Int(totals.previous_balance.cents()),
                        V::Int(totals.charges.cents()),
                        V::Int(totals.payments.cents()),
                        V::Int(totals.adjustments.cents()),
                        V::Int(totals.amount_due.cents()),
                        V::Fixed(delivery),
                        V::Int(posted),
                        t(billing_staff),
                        V::OptInt(printed),
                        V::OptText(printed.map(|_| billing_staff.clone())),
                        V::Int(queue_position),
                    ]);
                    statement_lines += s.lines.len() as u64;
                    for (position, line) in s.lines.into_iter().enumerate() {
                        line_rows.push([
                            t(&id),
                            V::Int(position as i64),
                            V::Fixed(line.kind.as_str()),
                            V::Text(line.date.to_string()),
                            V::Text(line.department),
                            V::Text(line.description),
                            V::Int(line.amount.cents()),
                        ]);
                    }
                    statements += 1;
                }
            }
            accounts.flush(&mut tx).await?;
            changes.flush(&mut tx).await?;
            statement_rows.flush(&mut tx).await?;
            line_rows.flush(&mut tx).await?;
            // The print queue's counter moves with the places given, as posting does.
            sqlx::query("UPDATE print_queue_counter SET last = $1 WHERE id = 1").bind(queue_position).execute(&mut *tx).await?;
            tx.commit().await?;
        }
    }
    let print_queue = count(state, PRINT_QUEUE, None).await?;
    Ok(Counts { statements, statement_lines, print_queue })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_follow_the_billing_rules_and_carry_the_balance() {
        let today = Date::new(2026, 11, 30).unwrap();
        let mut rng = Rng(1);
        for (count, latest) in [(10, true), (10, false), (1, true), (40, true), (0, false)] {
            let history = statement_history(&mut rng, count, latest, today).unwrap();
            assert_eq!(history.len(), count as usize);
            let mut previous = Money::ZERO;
            let mut last_date = None;
            for (s, totals) in &history {
                assert_eq!(totals.previous_balance, previous);
                assert!(totals.amount_due.cents() >= 0);
                assert!(last_date.is_none_or(|d| d < s.statement_date), "in date order, one a month");
                last_date = Some(s.statement_date);
                previous = totals.amount_due;
            }
            if count > 0 {
                let newest = &history[history.len() - 1].0;
                assert_eq!(newest.statement_date == CalendarDate::new(2026, 11, 1).unwrap(), latest);
            }
        }
    }
}
