//! Password hashing with argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane; SPEC
//! R-ENR-4). Hashing is CPU-bound for tens of milliseconds, so it runs on the blocking pool,
//! at most one per core at a time: a burst of sign-ins queues instead of starving every other
//! request of the async threads.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A hash of nothing in particular, verified against when a user ID is unknown, so that an
    /// unknown ID takes as long to refuse as a wrong password.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2().hash_password(password.as_bytes(), &salt).expect("argon2 hashing does not fail with valid parameters").to_string()
}

pub fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

impl PasswordHasher {
    pub fn new() -> PasswordHasher {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        PasswordHasher { permits: Arc::new(Semaphore::new(cores)), dummy_hash: hash_blocking("no account has this password").into() }
    }

    pub async fn hash(&self, password: String) -> String {
        let _permit = self.permits.acquire().await.expect("semaphore never closed");
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await.expect("hashing task panicked")
    }

    /// Verifies `password` against `hash`, or against the dummy hash when there is none.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let _permit = self.permits.acquire().await.expect("semaphore never closed");
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&password, &hash)).await.expect("verification task panicked");
        ok && known
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

    #[test]
    fn hashes_are_argon2id_at_the_owasp_minimum() {
        let h = hash_blocking("a long enough passphrase");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("a long enough passphrase", &h));
        assert!(!verify_blocking("a long enough passphrasE", &h));
        assert!(!verify_blocking("x", "not a hash"));
    }
}
