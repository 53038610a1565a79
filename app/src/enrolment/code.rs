//! Activation codes (SPEC R-ENR-3): 15 characters of Crockford's base-32 alphabet (75 random
//! bits), written in three groups of five, e.g. `7KQ2M-X9DHT-4RW8B`. The alphabet has no I, L,
//! O or U, and what people type is forgiven: case, spaces and dashes are ignored, and O, I and
//! L are read as 0, 1 and 1.

pub const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const LENGTH: usize = 15;

/// A code as the patient typed it, put into its one canonical form (no dashes, upper case);
/// none when it cannot be a code at all.
pub fn normalise(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(LENGTH);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == LENGTH).then_some(out)
}

/// `XXXXX-XXXXX-XXXXX`.
pub fn display(canonical: &str) -> String {
    canonical.as_bytes().chunks(5).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

/// A new code, in display form.
#[cfg(feature = "ssr")]
pub fn generate() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    let canonical: String = (0..LENGTH).map(|_| ALPHABET[rng.gen_range(0..32)] as char).collect();
    display(&canonical)
}

/// What the database keeps of a code.
#[cfg(feature = "ssr")]
pub fn digest(canonical: &str) -> String {
    crate::platform::tokens::digest(&format!("activation-code:{canonical}"))
}

/// Bits of randomness in a code.
pub fn entropy_bits() -> f64 {
    LENGTH as f64 * (ALPHABET.len() as f64).log2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_mistakes_are_forgiven() {
        assert_eq!(normalise("7kq2m-x9dht-4rw8b").as_deref(), Some("7KQ2MX9DHT4RW8B"));
        assert_eq!(normalise(" 7KQ2M X9DHT 4RW8B ").as_deref(), Some("7KQ2MX9DHT4RW8B"));
        assert_eq!(normalise("OOOOO-IIIII-LLLLL").as_deref(), Some("000001111111111"));
        assert_eq!(normalise("7KQ2M-X9DHT-4RW8"), None, "too short");
        assert_eq!(normalise("7KQ2M-X9DHT-4RW8BB"), None, "too long");
        assert_eq!(normalise("7KQ2M-X9DHT-4RW8U"), None, "U is not in the alphabet");
        assert_eq!(normalise("7KQ2M-X9DHT-4RW8é"), None);
    }

    #[test]
    fn codes_have_at_least_75_bits() {
        assert!(entropy_bits() >= 75.0);
        assert_eq!(display("7KQ2MX9DHT4RW8B"), "7KQ2M-X9DHT-4RW8B");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn generated_codes_are_valid_and_distinct() {
        let codes: std::collections::HashSet<String> = (0..1000).map(|_| generate()).collect();
        assert_eq!(codes.len(), 1000);
        for c in &codes {
            let canonical = normalise(c).expect("a generated code parses");
            assert_eq!(&display(&canonical), c);
        }
    }
}
