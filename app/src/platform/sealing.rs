//! Secrets the server must read back (the authenticator-app keys: it computes the codes from
//! them) are sealed before they reach the database: AES-256-GCM under a key kept in a file
//! apart from the database (`PORTAL_SECRETS_KEY_FILE`). A copy of the database, or of a backup
//! of it, then gives away nothing that lets someone pass the second step.
//!
//! Each sealed value is bound to what it belongs to (`context`, e.g. the user's id), so a value
//! copied into another user's row does not open. The database keeps the key's fingerprint
//! (`portal_keys`): a server started with another key refuses to start instead of locking every
//! user with an authenticator app out.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of a sealed value (the format's version).
const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The 256-bit sealing key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(…)")
    }
}

impl SealingKey {
    pub fn generate() -> SealingKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SealingKey(key)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> SealingKey {
        SealingKey(bytes)
    }

    /// The key as the key file holds it: 64 hexadecimal digits (surrounding white space allowed).
    pub fn from_hex(text: &str) -> Option<SealingKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(SealingKey(bytes.try_into().ok()?))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Names the key without revealing it (an HMAC of a fixed text), to recognise it later.
    pub fn fingerprint(&self) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"portal sealing-key fingerprint v1");
        hex::encode(mac.finalize().into_bytes())
    }

    /// `plain`, sealed for `context`: `v1:` and URL-safe base64 of nonce, ciphertext and tag.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let mut tag = [0u8; TAG_LEN];
        let sealed = encrypt_aead(Cipher::aes_256_gcm(), &self.0, Some(&nonce), context.as_bytes(), plain, &mut tag)
            .expect("AES-256-GCM with a 32-byte key and a 12-byte nonce");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out.extend_from_slice(&tag);
        format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
    }

    /// What `seal` sealed for this very `context` with this key; `None` for anything else
    /// (another key, another context, a changed byte, not a sealed value).
    pub fn open(&self, context: &str, stored: &str) -> Option<Vec<u8>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(stored.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < NONCE_LEN + TAG_LEN {
            return None;
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let (sealed, tag) = rest.split_at(rest.len() - TAG_LEN);
        decrypt_aead(Cipher::aes_256_gcm(), &self.0, Some(nonce), context.as_bytes(), sealed, tag).ok()
    }
}

/// Whether a stored value is sealed (values stored before sealing began are plain hex).
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = SealingKey::generate();
        let sealed = key.seal("totp:user-1", b"twenty bytes secret!");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("7477656e7479"), "not the hex of the secret");
        assert_eq!(key.open("totp:user-1", &sealed).as_deref(), Some(&b"twenty bytes secret!"[..]));
        assert_eq!(key.open("totp:user-2", &sealed), None, "another user's row");
        assert_eq!(SealingKey::generate().open("totp:user-1", &sealed), None, "another key");
        assert_ne!(key.seal("totp:user-1", b"twenty bytes secret!"), sealed, "a fresh nonce each time");
    }

    #[test]
    fn a_changed_byte_or_a_plain_value_does_not_open() {
        let key = SealingKey::from_bytes([7; 32]);
        let sealed = key.seal("c", b"secret");
        let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&sealed[3..]).unwrap();
        for i in 0..raw.len() {
            raw[i] ^= 1;
            let changed = format!("v1:{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw));
            assert_eq!(key.open("c", &changed), None, "byte {i}");
            raw[i] ^= 1;
        }
        assert_eq!(key.open("c", "00112233445566778899aabbccddeeff00112233"), None);
        assert_eq!(key.open("c", "v1:"), None);
        assert_eq!(key.open("c", "v1:!!"), None);
    }

    #[test]
    fn the_key_file_form_and_the_fingerprint() {
        let key = SealingKey::from_bytes([1; 32]);
        assert_eq!(SealingKey::from_hex(&format!(" {}\n", key.to_hex())).unwrap().fingerprint(), key.fingerprint());
        assert_ne!(SealingKey::from_bytes([2; 32]).fingerprint(), key.fingerprint());
        assert!(!key.fingerprint().contains(&key.to_hex()));
        assert!(SealingKey::from_hex("abcd").is_none());
        assert!(SealingKey::from_hex(&"zz".repeat(32)).is_none());
    }
}
