//! The authenticator-app code (RFC 6238 TOTP, as every authenticator app computes it: HMAC-SHA1,
//! 30-second steps, 6 digits) and the recovery codes. Pure rules; the database is `server.rs`.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
pub const DIGITS: u32 = 6;
/// Steps either side of now that are accepted: a phone's clock a little off still works.
pub const DRIFT_STEPS: i64 = 1;
pub const RECOVERY_CODES: usize = 10;

/// The shared secret: 160 random bits, as RFC 4226 recommends.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    pub fn generate() -> Secret {
        use rand::RngCore;
        let mut bytes = vec![0u8; 20];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Secret(bytes)
    }

    pub fn from_hex(hex_text: &str) -> Option<Secret> {
        hex::decode(hex_text).ok().filter(|b| !b.is_empty()).map(Secret)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Base32 (RFC 4648, no padding): how authenticator apps take the secret when typed.
    pub fn base32(&self) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = String::new();
        let mut buffer: u32 = 0;
        let mut bits = 0;
        for &b in &self.0 {
            buffer = (buffer << 8) | b as u32;
            bits += 8;
            while bits >= 5 {
                out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
                bits -= 5;
            }
        }
        if bits > 0 {
            out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
        }
        out
    }

    /// The secret in groups of four, for typing it by hand.
    pub fn base32_grouped(&self) -> String {
        let b = self.base32();
        b.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect::<Vec<_>>().join(" ")
    }
}

/// The step (30-second window) a moment falls in.
pub fn step_of(now_ms: i64) -> i64 {
    now_ms.div_euclid(1000) / STEP_SECS
}

/// The code for a step (RFC 4226 dynamic truncation).
pub fn code_at(secret: &Secret, step: i64) -> u32 {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&secret.0).expect("HMAC takes any key length");
    mac.update(&(step as u64).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary = ((digest[offset] as u32 & 0x7f) << 24) | ((digest[offset + 1] as u32) << 16) | ((digest[offset + 2] as u32) << 8) | digest[offset + 3] as u32;
    binary % 10u32.pow(DIGITS)
}

/// The step whose code `typed` is, if it is one of the accepted steps around now and later than
/// `last_used_step` (each code works once: a code seen once, or an older one, is refused).
pub fn verify(secret: &Secret, typed: &str, now_ms: i64, last_used_step: i64) -> Option<i64> {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    if digits.len() != DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u32 = digits.parse().ok()?;
    let now = step_of(now_ms);
    (now - DRIFT_STEPS..=now + DRIFT_STEPS).filter(|s| *s > last_used_step).find(|s| code_at(secret, *s) == value)
}

/// What the app is told when the QR code is scanned.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &Secret) -> String {
    let enc = |s: &str| -> String {
        s.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
    };
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        secret.base32(),
        enc(issuer)
    )
}

/// Ten recovery codes: 10 characters of Crockford base-32 (50 bits) each, written in two groups.
pub fn new_recovery_codes() -> Vec<String> {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: String = (0..10).map(|_| ALPHABET[rand::rngs::OsRng.gen_range(0..32)] as char).collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect()
}

/// A recovery code as typed, in the form it is stored (digest of): upper case, no spaces or
/// dashes, the letters people confuse with digits read as digits.
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    let cleaned: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (cleaned.len() == 10 && cleaned.bytes().all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b))).then_some(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, the secret "12345678901234567890"; 6-digit codes are the last
    /// six digits of the 8-digit ones there.
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = Secret(b"12345678901234567890".to_vec());
        for (t, code) in
            [(59i64, 287_082u32), (1_111_111_109, 81_804), (1_111_111_111, 50_471), (1_234_567_890, 5_924), (2_000_000_000, 279_037), (20_000_000_000, 353_130)]
        {
            assert_eq!(code_at(&secret, step_of(t * 1000)), code, "T = {t}");
        }
    }

    #[test]
    fn a_code_works_within_the_drift_and_only_once() {
        let secret = Secret(b"12345678901234567890".to_vec());
        let now = 1_234_567_890_000;
        let step = step_of(now);
        let code = format!("{:06}", code_at(&secret, step));
        assert_eq!(verify(&secret, &code, now, 0), Some(step));
        assert_eq!(verify(&secret, &code, now, step), None, "used once: refused");
        let previous = format!("{:06}", code_at(&secret, step - 1));
        assert_eq!(verify(&secret, &previous, now, 0), Some(step - 1), "30 s late still works");
        assert_eq!(verify(&secret, &previous, now, step), None, "older than the last used: refused");
        let old = format!("{:06}", code_at(&secret, step - 3));
        assert_eq!(verify(&secret, &old, now, 0), None, "a minute and a half late: refused");
        assert_eq!(verify(&secret, &format!("{} {}", &code[..3], &code[3..]), now, 0), Some(step), "spaces are fine");
        assert_eq!(verify(&secret, "12345", now, 0), None);
        assert_eq!(verify(&secret, "abcdef", now, 0), None);
    }

    #[test]
    fn base32_and_the_uri_are_what_apps_expect() {
        assert_eq!(Secret(b"12345678901234567890".to_vec()).base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(Secret(b"f".to_vec()).base32(), "MY");
        let uri = otpauth_uri("Riverside Clinic", "alice", &Secret(b"12345678901234567890".to_vec()));
        assert_eq!(
            uri,
            "otpauth://totp/Riverside%20Clinic:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Riverside%20Clinic&algorithm=SHA1&digits=6&period=30"
        );
        let s = Secret::generate();
        assert_eq!(s.0.len(), 20);
        assert_eq!(Secret::from_hex(&s.to_hex()), Some(s));
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_forgivingly() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(normalise_recovery_code(c).map(|n| n.len()), Some(10));
            assert_eq!(normalise_recovery_code(&c.to_lowercase()), normalise_recovery_code(c));
        }
        assert_eq!(normalise_recovery_code("abcde-fghjo"), Some("ABCDEFGHJ0".into()));
        assert_eq!(normalise_recovery_code("short"), None);
        assert_eq!(normalise_recovery_code("ABCDE-FGHJU"), None, "U is not in the alphabet");
    }
}
