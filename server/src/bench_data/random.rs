//! The generator the data are drawn from, and its seeds.

/// The seeds of the generator's streams, one per part and per choice made before a part runs.
pub(super) const SEED_PATIENTS: u64 = 0x5eed_2026;
pub(super) const SEED_MESSAGES: u64 = 0x5eed_2026_0001;
pub(super) const SEED_STATEMENTS: u64 = 0x5eed_2026_0002;
pub(super) const SEED_RESULTS: u64 = 0x5eed_2026_0003;
pub(super) const SEED_WHO: u64 = 0x5eed_2026_0004;
pub(super) const SEED_OPEN: u64 = 0x5eed_2026_0005;
pub(super) const SEED_BILLING: u64 = 0x5eed_2026_0006;
pub(super) const SEED_QUEUE: u64 = 0x5eed_2026_0007;
pub(super) const SEED_PRINTED: u64 = 0x5eed_2026_0008;

/// A small, fast, reproducible generator (SplitMix64): the data need not be random, only varied.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// In `lo..hi`.
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo).max(1) as u64) as i64
    }
    /// In `lo..hi`, evenly.
    pub(super) fn real(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
    pub(super) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() as usize % items.len()]
    }
}

/// A draw that depends only on its seed and key (a patient, a thread), not on what was drawn
/// before: the choices made before a part runs (who a thread is with, paper or paperless) are
/// made again, the same, while it runs.
pub(super) fn draw(seed: u64, key: u64) -> Rng {
    let mut r = Rng(seed ^ key.wrapping_mul(0xd1b5_4a32_d192_ed03));
    r.next();
    r
}

/// Exactly `want` of `of` items, each equally likely, chosen one by one in order (selection
/// sampling, Knuth's algorithm S): the open counts and the print queue hit their numbers.
pub(super) struct Choose {
    want: u64,
    left: u64,
    rng: Rng,
}

impl Choose {
    pub(super) fn new(want: u64, of: u64, seed: u64) -> Choose {
        Choose { want: want.min(of), left: of, rng: Rng(seed) }
    }
    /// Whether the next item is chosen; call once per item, in order.
    pub(super) fn next(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        let chosen = self.rng.next() % self.left < self.want;
        self.left -= 1;
        if chosen {
            self.want -= 1;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choosing_hits_the_number_exactly() {
        for (want, of) in [(0, 10), (3, 10), (10, 10), (12, 10), (300, 12_000), (2_000, 8_000)] {
            let mut c = Choose::new(want, of, 7);
            let chosen = (0..of).filter(|_| c.next()).count() as u64;
            assert_eq!(chosen, want.min(of), "{want} of {of}");
        }
    }
}
