//! The messages part: conversations in threads, and which of them stay open.

use super::names::{PATIENT_SENTENCES, STAFF_SENTENCES, SUBJECTS};
use super::patients::Person;
use super::random::{draw, Choose, Rng, SEED_MESSAGES, SEED_OPEN, SEED_WHO};
use super::rows::{t, Rows, INSERT_MESSAGES, INSERT_THREADS, V};
use super::times::{office_hours, waking_hours, DAY, HOUR, MINUTE, YEAR};
use super::{begin, count, BenchDataError, Clinic, Options, BATCH};
use app::messaging::server::calendar;
use app::platform::tokens::new_id;

/// Messages in a thread: patient, staff, patient, staff, patient.
const THREAD_LEN: u32 = 5;
/// The share of threads with Dr. Lee; the others are with the nurse line.
const WITH_DOCTOR: f64 = 0.6;

const OPEN_FOR_PROVIDER: &str = "SELECT COUNT(*) AS n FROM messages WHERE assigned_provider_id = $1 AND handled_at IS NULL AND author_kind = 'patient'";
const OPEN_FOR_POOL: &str = "SELECT COUNT(*) AS n FROM messages WHERE assigned_pool_id = $1 AND handled_at IS NULL AND author_kind = 'patient'";

/// One message before it is stored.
struct Msg {
    from_patient: bool,
    body: String,
    sent_at: i64,
    opened_at: Option<i64>,
    handled_at: Option<i64>,
    read_at: Option<i64>,
}

fn body(rng: &mut Rng, sentences: &[&str], min: usize, max: usize) -> String {
    let n = rng.range(min as i64, max as i64 + 1) as usize;
    let mut parts: Vec<&str> = Vec::with_capacity(n);
    while parts.len() < n {
        let s = *rng.pick(sentences);
        if !parts.contains(&s) {
            parts.push(s);
        }
    }
    parts.join(" ")
}

/// Whether a thread is with Dr. Lee (else the nurse line).
fn with_doctor(n: u32, thread: u32) -> bool {
    draw(SEED_WHO, (u64::from(n) << 32) | u64::from(thread)).chance(WITH_DOCTOR)
}

/// The lengths of a patient's threads.
fn thread_lens(messages_per_patient: u32) -> impl Iterator<Item = u32> {
    let full = messages_per_patient / THREAD_LEN;
    let rest = messages_per_patient % THREAD_LEN;
    std::iter::repeat_n(THREAD_LEN, full as usize).chain((rest > 0).then_some(rest))
}

/// What the messages part loaded; the open counts are counted after loading, the demo's
/// included.
pub(super) struct Counts {
    pub(super) threads: u64,
    pub(super) messages: u64,
    pub(super) open_for_drlee: i64,
    pub(super) open_for_pools: i64,
}

/// Loads the messages part.
pub(super) async fn load(clinic: &Clinic<'_>, options: &Options, people: &[Person]) -> Result<Counts, BenchDataError> {
    let (state, now, zone) = (clinic.state, clinic.now, &clinic.zone);
    let (drlee, nursekim, nurse_line) = (&clinic.drlee, &clinic.nursekim, &clinic.nurse_line);
    let cal = {
        let mut conn = state.db.pool.acquire().await?;
        calendar(&mut conn, &state.settings).await?
    };
    let reply_days = state.settings.messaging.reply_business_days;
    // Which threads stay open: of the threads that end with a patient's message, exactly as
    // many with Dr. Lee and with the nurse line as make the inboxes' totals.
    let (mut doctor_threads, mut pool_threads) = (0u64, 0u64);
    for n in 1..=options.patients {
        for (i, len) in thread_lens(options.messages_per_patient).enumerate() {
            if len % 2 == 1 {
                if with_doctor(n, i as u32) {
                    doctor_threads += 1;
                } else {
                    pool_threads += 1;
                }
            }
        }
    }
    let open_already = (count(state, OPEN_FOR_PROVIDER, Some(drlee)).await?, count(state, OPEN_FOR_POOL, Some(nurse_line)).await?);
    let mut open_doctor = Choose::new((i64::from(options.open_for_clinician) - open_already.0).max(0) as u64, doctor_threads, SEED_OPEN);
    let mut open_pool = Choose::new((i64::from(options.open_for_pool) - open_already.1).max(0) as u64, pool_threads, SEED_OPEN ^ 1);
    let year_ago = now - YEAR;
    let mut rng = Rng(SEED_MESSAGES);
    let (mut threads, mut messages) = (0u64, 0u64);
    let mut thread_rows = Rows::new(INSERT_THREADS, state.db.dialect);
    let mut message_rows = Rows::new(INSERT_MESSAGES, state.db.dialect);
    for batch in people.chunks(BATCH) {
        let mut tx = begin(state).await?;
        for p in batch {
            for (i, len) in thread_lens(options.messages_per_patient).enumerate() {
                let doctor = with_doctor(p.n, i as u32);
                let (to_provider, to_pool, staff) = if doctor { (Some(drlee), None, drlee) } else { (None, Some(nurse_line), nursekim) };
                let open = len % 2 == 1 && if doctor { open_doctor.next() } else { open_pool.next() };
                let (topic, subject) = *rng.pick(SUBJECTS);

                // The times, from the first message on; then the whole thread moved to end in
                // the past (an open one: in the last two weeks).
                let start = rng.range(year_ago, now);
                let mut at = waking_hours(&mut rng, zone, start);
                let mut thread: Vec<Msg> = Vec::with_capacity(len as usize);
                for i in 0..len {
                    let from_patient = i % 2 == 0;
                    if i > 0 {
                        at = if from_patient {
                            let later = at + rng.range(2 * HOUR, 3 * DAY);
                            waking_hours(&mut rng, zone, later)
                        } else {
                            let later = at + rng.range(HOUR, 30 * HOUR);
                            office_hours(&mut rng, zone, later)
                        };
                    }
                    let body = if from_patient { body(&mut rng, PATIENT_SENTENCES, 2, 5) } else { body(&mut rng, STAFF_SENTENCES, 2, 4) };
                    thread.push(Msg { from_patient, body, sent_at: at, opened_at: None, handled_at: None, read_at: None });
                }
                let end = thread.last().map(|m| m.sent_at).unwrap_or(now);
                let latest = if open { now - rng.range(HOUR, 14 * DAY) } else { now - rng.range(3 * DAY, 10 * DAY) };
                if end > latest || open {
                    let shift = end - latest;
                    for m in &mut thread {
                        m.sent_at -= shift;
                    }
                }
                // Who did what after each message.
                for i in 0..thread.len() {
                    let next_at = thread.get(i + 1).map(|m| m.sent_at);
                    let m = &mut thread[i];
                    if m.from_patient {
                        match next_at {
                            // The staff reply handled it.
                            Some(reply) => {
                                m.opened_at = Some(m.sent_at + (reply - m.sent_at) / 2);
                                m.handled_at = Some(reply);
                            }
                            None if !open => {
                                let handled = (m.sent_at + rng.range(10 * MINUTE, 2 * DAY)).min(now - MINUTE);
                                m.opened_at = Some(handled - rng.range(MINUTE, 10 * MINUTE).min(handled - m.sent_at));
                                m.handled_at = Some(handled);
                            }
                            None => {
                                if rng.chance(0.5) {
                                    m.opened_at = Some((m.sent_at + rng.range(10 * MINUTE, DAY)).min(now - MINUTE));
                                }
                            }
                        }
                    } else {
                        m.read_at = Some(match next_at {
                            Some(next) => m.sent_at + (next - m.sent_at) / 3,
                            None => (m.sent_at + rng.range(HOUR, 2 * DAY)).min(now - MINUTE),
                        });
                    }
                }

                let thread_id = new_id();
                let first_at = thread.first().map(|m| m.sent_at).unwrap_or(now);
                let last_at = thread.last().map(|m| m.sent_at).unwrap_or(now);
                thread_rows.push([t(&thread_id), t(&p.patient), V::Fixed(topic), V::Fixed(subject), V::Int(first_at), V::Int(last_at)]);
                messages += thread.len() as u64;
                for m in thread {
                    if m.from_patient {
                        message_rows.push([
                            V::Text(new_id()),
                            t(&thread_id),
                            t(&p.user),
                            V::Fixed("patient"),
                            V::Text(m.body),
                            V::Int(m.sent_at),
                            V::OptText(to_provider.cloned()),
                            V::OptText(to_pool.cloned()),
                            V::OptText(to_provider.cloned()),
                            V::OptText(to_pool.cloned()),
                            V::Int(cal.due_at_ms(m.sent_at, reply_days)),
                            V::OptInt(m.opened_at),
                            V::OptInt(m.handled_at),
                            V::OptText(m.handled_at.map(|_| staff.clone())),
                            V::OptInt(None),
                        ]);
                    } else {
                        message_rows.push([
                            V::Text(new_id()),
                            t(&thread_id),
                            t(staff),
                            V::Fixed("staff"),
                            V::Text(m.body),
                            V::Int(m.sent_at),
                            V::Null,
                            V::Null,
                            V::Null,
                            V::Null,
                            V::OptInt(None),
                            V::OptInt(None),
                            V::OptInt(None),
                            V::Null,
                            V::OptInt(m.read_at),
                        ]);
                    }
                }
                threads += 1;
            }
        }
        thread_rows.flush(&mut tx).await?;
        message_rows.flush(&mut tx).await?;
        tx.commit().await?;
    }
    let open_for_drlee = count(state, OPEN_FOR_PROVIDER, Some(drlee)).await?;
    let open_for_pools = count(state, OPEN_FOR_POOL, Some(nurse_line)).await?;
    Ok(Counts { threads, messages, open_for_drlee, open_for_pools })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_of_five_and_the_rest() {
        assert_eq!(thread_lens(50).collect::<Vec<_>>(), vec![5; 10]);
        assert_eq!(thread_lens(7).collect::<Vec<_>>(), vec![5, 2]);
        assert_eq!(thread_lens(0).count(), 0);
    }
}
