//! Random identifiers and secrets. Ids that appear in URLs are 128 random bits so that one
//! cannot be guessed from another; secrets (session and device tokens) are 256 bits and only
//! their SHA-256 is stored, so a copy of the database opens no session.

use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use crate::ids::new_id;

/// A new secret token for a cookie: 256 bits, URL-safe base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
