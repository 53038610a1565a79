//! Secrets the server must read back (the authenticator-app keys: it computes the codes from
//! them) are sealed before they reach the database: AES-256-GCM under a key kept in a file
//! apart from the database (`PORTAL_SECRETS_KEY_FILE`). A copy of the database, or of a backup
//! of it, then gives away nothing that lets someone pass the second step.
//!
//! Each sealed value is bound to what it belongs to (`context`, e.g. the user's id), so a value
//! copied into another user's row does not open. The database keeps the key's fingerprint
//! (`portal_keys`): a server started with another key refuses to start instead of locking every
//! user with an authenticator app out.
//!
//! The same key is the root of the server's other keys: one subkey per purpose ([`Purpose`]),
//! derived with HMAC-SHA256, so that none of them is stored in the database and a value made for
//! one purpose is worth nothing for another. Low-entropy secrets the server only compares
//! (recovery codes, the typed user ID of a sign-in attempt) are kept as *keyed* digests
//! ([`SealingKey::keyed_digest`]): from a copy of the database alone they cannot be found by
//! trying every possibility.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of a sealed value (the format's version).
const PREFIX: &str = "v1:";
/// The prefix of a keyed digest (the format's version); digests stored before keying began are
/// plain hex.
const KEYED_PREFIX: &str = "k1:";

/// What a subkey of the secrets key is for. The labels are part of the derivation and never
/// change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The typed user ID of a sign-in attempt (`sign_in_attempts.login_key`).
    SignInUserId,
    /// Second-step recovery codes (`recovery_codes.code_hash`).
    RecoveryCode,
    /// Signatures of the leaving page's links (`external_links`).
    LeavingLinks,
    /// The links of the audit chain (`audit`).
    AuditChain,
    /// The opaque ids of medical record items in URLs (`record::convert::ItemKey`).
    RecordItemIds,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::SignInUserId => b"sign-in user id",
            Purpose::RecoveryCode => b"recovery code",
            Purpose::LeavingLinks => b"leaving-page links",
            Purpose::AuditChain => b"audit chain",
            Purpose::RecordItemIds => b"medical record item ids",
        }
    }
}
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

    /// The subkey for `purpose`: HMAC-SHA256 of the purpose's label under this key.
    pub fn subkey(&self, purpose: Purpose) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"portal subkey v1\n");
        mac.update(purpose.label());
        mac.finalize().into_bytes().into()
    }

    /// What the database keeps of a low-entropy `secret` compared for `purpose` (bound to
    /// `context`, e.g. the user it belongs to): `k1:` and the hex of an HMAC under the purpose's
    /// subkey. Equal inputs give equal digests, so the database can look it up.
    pub fn keyed_digest(&self, purpose: Purpose, context: &str, secret: &str) -> String {
        self.rekey_digest(purpose, context, &super::tokens::digest(secret))
    }

    /// The keyed digest of a secret of which only the plain SHA-256 (hex, `tokens::digest`) is
    /// known: what the server stores in place of the plain digests kept before keying began. The
    /// keyed digest is defined over the plain one, so old rows can be converted without the
    /// secret.
    pub fn rekey_digest(&self, purpose: Purpose, context: &str, plain_digest: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.subkey(purpose)).expect("HMAC takes any key length");
        for part in [context, plain_digest] {
            // Length-prefixed, so that a context cannot run into the digest.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        format!("{KEYED_PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
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

/// Whether a stored digest is keyed (digests stored before keying began are plain hex).
pub fn is_keyed_digest(stored: &str) -> bool {
    stored.starts_with(KEYED_PREFIX)
}

/// The SQL pattern (`LIKE`) of keyed digests, for finding the plain ones left to convert.
pub const KEYED_DIGEST_PATTERN: &str = "k1:%";

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
    fn subkeys_differ_per_purpose_and_per_key() {
        let key = SealingKey::from_bytes([3; 32]);
        let all = [Purpose::SignInUserId, Purpose::RecoveryCode, Purpose::LeavingLinks, Purpose::AuditChain];
        for (i, a) in all.iter().enumerate() {
            assert_ne!(key.subkey(*a), [3; 32], "never the secrets key itself");
            assert_ne!(key.subkey(*a), SealingKey::from_bytes([4; 32]).subkey(*a), "another key, another subkey");
            for b in &all[i + 1..] {
                assert_ne!(key.subkey(*a), key.subkey(*b), "{a:?} and {b:?}");
            }
        }
    }

    /// A keyed digest cannot be recomputed from the secret alone (the database's plain SHA-256
    /// of a recovery code could be found by trying all codes; the keyed one needs the key), and
    /// a plain digest stored before keying converts to the same keyed digest.
    #[test]
    fn keyed_digests_need_the_key_and_convert_plain_ones() {
        let key = SealingKey::from_bytes([5; 32]);
        let d = key.keyed_digest(Purpose::RecoveryCode, "user-1", "ABCDEFGHJ0");
        assert!(is_keyed_digest(&d) && !is_keyed_digest(&crate::platform::tokens::digest("ABCDEFGHJ0")));
        assert!(!d.contains(&crate::platform::tokens::digest("ABCDEFGHJ0")));
        assert_eq!(d, key.keyed_digest(Purpose::RecoveryCode, "user-1", "ABCDEFGHJ0"), "comparable");
        assert_ne!(d, SealingKey::from_bytes([6; 32]).keyed_digest(Purpose::RecoveryCode, "user-1", "ABCDEFGHJ0"));
        assert_ne!(d, key.keyed_digest(Purpose::SignInUserId, "user-1", "ABCDEFGHJ0"), "another purpose");
        assert_ne!(d, key.keyed_digest(Purpose::RecoveryCode, "user-2", "ABCDEFGHJ0"), "another user");
        assert_ne!(key.keyed_digest(Purpose::RecoveryCode, "ab", "c"), key.keyed_digest(Purpose::RecoveryCode, "a", "bc"));
        assert_eq!(key.rekey_digest(Purpose::RecoveryCode, "user-1", &crate::platform::tokens::digest("ABCDEFGHJ0")), d);
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
