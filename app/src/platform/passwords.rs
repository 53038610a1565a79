//! Password hashing with argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane; SPEC
//! R-ENR-4). Hashing is CPU-bound for tens of milliseconds, so it runs on the blocking pool,
//! at most one per core at a time: a burst of sign-ins queues instead of starving every other
//! request of the async threads.
//!
//! Each hash needs 19 MiB of working memory. Allocated afresh for every sign-in, those blocks
//! were kept by the allocator's per-thread arenas after use (the soak test, issue 16, saw the
//! server's memory climb in 19 MiB steps after bursts of sign-ins), and zeroing them cost every
//! sign-in a few milliseconds. So the hasher keeps one buffer per hash that may run at once (the
//! semaphore's permits) and lends them out: memory stays at cores x 19 MiB, allocated once.

use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// Working memory for the hashes running now: never more buffers than permits, since a
    /// buffer is taken only under a permit.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
    /// A hash of nothing in particular, verified against when a user ID is unknown, so that an
    /// unknown ID takes as long to refuse as a wrong password.
    dummy_hash: Arc<str>,
}

fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Hashes a password with memory of its own (tools and tests; the portal uses [`PasswordHasher`]).
pub fn hash_blocking(password: &str) -> String {
    hash_with(password, &mut vec![Block::default(); params().block_count()])
}

/// Verifies a password with memory of its own (tools and tests; the portal uses [`PasswordHasher`]).
pub fn verify_blocking(password: &str, hash: &str) -> bool {
    verify_with(password, hash, &mut vec![Block::default(); params().block_count()])
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`, computed in
/// `memory` (the portal's parameters' block count).
fn hash_with(password: &str, memory: &mut [Block]) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).expect("a generated salt decodes");
    let hasher = argon2();
    let len = params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = Output::init_with(len, |out| Ok(hasher.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)?))
        .expect("argon2 hashing does not fail with valid parameters");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params()).expect("the portal's parameters encode"),
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string()
}

/// Whether `password` matches the stored PHC string `hash`. A hash made with the portal's
/// parameters is computed in `memory`; one made with others (an older policy) gets memory of its
/// own through the library. The comparison is the library's, in constant time.
fn verify_with(password: &str, hash: &str, memory: &mut [Block]) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    let (Ok(theirs), Some(expected), Some(salt)) = (Params::try_from(&parsed), parsed.hash, parsed.salt) else { return false };
    let ours = params();
    let same = parsed.algorithm == Algorithm::Argon2id.ident()
        && parsed.version == Some(Version::V0x13.into())
        && (theirs.m_cost(), theirs.t_cost(), theirs.p_cost()) == (ours.m_cost(), ours.t_cost(), ours.p_cost())
        && theirs.keyid().is_empty()
        && theirs.data().is_empty()
        && memory.len() == ours.block_count();
    if !same {
        return argon2().verify_password(password.as_bytes(), &parsed).is_ok();
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, theirs);
    match Output::init_with(expected.len(), |out| Ok(hasher.hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)?)) {
        Ok(computed) => computed == expected,
        Err(_) => false,
    }
}

impl PasswordHasher {
    pub fn new() -> PasswordHasher {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        PasswordHasher { permits: Arc::new(Semaphore::new(cores)), memory: Arc::default(), dummy_hash: hash_blocking("no account has this password").into() }
    }

    /// Runs `work` on the blocking pool with a buffer of argon2 memory, under a permit.
    async fn with_memory<R: Send + 'static>(&self, work: impl FnOnce(&mut [Block]) -> R + Send + 'static) -> R {
        let _permit = self.permits.acquire().await.expect("semaphore never closed");
        let taken = self.memory.lock().expect("memory list never poisoned").pop();
        let mut buffer = taken.unwrap_or_else(|| vec![Block::default(); params().block_count()]);
        let (result, buffer) = tokio::task::spawn_blocking(move || (work(&mut buffer), buffer)).await.expect("hashing task panicked");
        self.memory.lock().expect("memory list never poisoned").push(buffer);
        result
    }

    pub async fn hash(&self, password: String) -> String {
        self.with_memory(move |memory| hash_with(&password, memory)).await
    }

    /// Verifies `password` against `hash`, or against the dummy hash when there is none.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self.with_memory(move |memory| verify_with(&password, &hash, memory)).await;
        ok && known
    }

    /// How many buffers of working memory the hasher holds (for its tests).
    #[cfg(test)]
    fn buffers(&self) -> usize {
        self.memory.lock().expect("memory list never poisoned").len()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher as _;

    #[test]
    fn hashes_are_argon2id_at_the_owasp_minimum() {
        let h = hash_blocking("a long enough passphrase");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("a long enough passphrase", &h));
        assert!(!verify_blocking("a long enough passphrasE", &h));
        assert!(!verify_blocking("x", "not a hash"));
    }

    #[test]
    fn hashes_stored_before_and_after_the_memory_reuse_verify_either_way() {
        // Made by the library's own path, as every stored hash was before the hasher lent memory.
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let stored = argon2().hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert!(verify_blocking("correct horse battery", &stored));
        assert!(!verify_blocking("correct horse batterY", &stored));
        // Made now, checked by the library.
        let made = hash_blocking("correct horse battery");
        let parsed = PasswordHash::new(&made).unwrap();
        assert!(argon2().verify_password(b"correct horse battery", &parsed).is_ok());
        assert!(argon2().verify_password(b"correct horse batterY", &parsed).is_err());
    }

    #[test]
    fn a_hash_made_under_other_parameters_still_verifies() {
        let older = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let stored = older.hash_password(b"an older passphrase", &salt).unwrap().to_string();
        assert!(stored.contains("m=8192,t=1,p=1"), "{stored}");
        assert!(verify_blocking("an older passphrase", &stored));
        assert!(!verify_blocking("another passphrase", &stored));
        // A hash cut short or with its salt removed is refused, not verified against nothing.
        assert!(!verify_blocking("an older passphrase", &stored[..stored.rfind('$').unwrap()]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_sign_ins_uses_no_more_memory_than_one_buffer_per_permit() {
        let hasher = PasswordHasher::new();
        let permits = hasher.permits.available_permits();
        let hash = hasher.hash("a long enough passphrase".into()).await;
        let checks: Vec<_> = (0..permits * 4)
            .map(|i| {
                let (hasher, hash) = (hasher.clone(), hash.clone());
                let password = if i % 2 == 0 { "a long enough passphrase" } else { "a wrong passphrase" };
                tokio::spawn(async move { (i, hasher.verify(password.into(), Some(hash)).await) })
            })
            .collect();
        for check in checks {
            let (i, ok) = check.await.unwrap();
            assert_eq!(ok, i % 2 == 0, "check {i}");
        }
        assert!(!hasher.verify("a long enough passphrase".into(), None).await, "no account: refused");
        let held = hasher.buffers();
        assert!((1..=permits).contains(&held), "{held} buffers for {permits} permits");
    }
}
