//! The key that signs links to other sites, and the rules of a destination.
//!
//! The leaving page (`/leaving?to=…&sig=…`) shows a link to whatever `to` says, so without a
//! signature anyone could send a patient a portal address that ends on their own site (an open
//! redirect, the stuff of phishing). Only addresses the portal itself rendered carry a valid
//! HMAC-SHA256 of the destination, made with a 256-bit key derived from the server's secrets key
//! (`platform::sealing`, the file `PORTAL_SECRETS_KEY_FILE`): every app server has that file, so
//! all sign and check alike, and the key is nowhere in the database, so a copy of the database
//! (or someone able to write to it) cannot forge a leaving link.

use super::local_path;
use crate::platform::sealing::{Purpose, SealingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Longest destination the portal links to (browsers and servers handle far more; nothing
/// legitimate needs it).
pub const MAX_DESTINATION_LEN: usize = 2000;

/// The signing key. Its `Debug` never shows it.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(…)")
    }
}

impl LinkKey {
    /// The installation's key: the leaving-page subkey of the secrets key.
    pub fn from_secrets(key: &SealingKey) -> LinkKey {
        LinkKey(key.subkey(Purpose::LeavingLinks))
    }

    /// A key from bytes (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> LinkKey {
        LinkKey(bytes)
    }

    fn mac(&self, destination: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        // A purpose prefix: should the key ever sign anything else, those signatures cannot be
        // passed off as links.
        mac.update(b"portal leaving-page v1\n");
        mac.update(destination.as_bytes());
        mac
    }

    /// The signature of a destination, URL-safe base64.
    pub fn sign(&self, destination: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.mac(destination).finalize().into_bytes())
    }

    /// Whether `signature` is this key's for `destination` (compared in constant time).
    pub fn verify(&self, destination: &str, signature: &str) -> bool {
        use base64::Engine as _;
        let Ok(given) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature.trim()) else { return false };
        self.mac(destination).verify_slice(&given).is_ok()
    }
}

/// Why an address cannot be a link to another site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestinationError {
    NotAUrl,
    /// Not `http:` or `https:` (`javascript:`, `data:`, `file:` …).
    Scheme,
    /// A user name or password before the host (`https://bank.example@evil.example/`) makes
    /// the address read as another site's.
    Credentials,
    TooLong,
}

/// An address the portal may send people to: an absolute `http:` or `https:` URL with a host
/// and no credentials, in its normalised form (the form that is signed).
pub fn parse_destination(text: &str) -> Result<url::Url, DestinationError> {
    let text = text.trim();
    if text.len() > MAX_DESTINATION_LEN {
        return Err(DestinationError::TooLong);
    }
    let url = url::Url::parse(text).map_err(|_| DestinationError::NotAUrl)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DestinationError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(DestinationError::NotAUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(DestinationError::Credentials);
    }
    if url.as_str().len() > MAX_DESTINATION_LEN {
        return Err(DestinationError::TooLong);
    }
    Ok(url)
}

/// The leaving page's address for `destination`, signed; `back` is the portal page the link is
/// on (where the page's Back leads). `None` for an address that is not a valid destination.
pub fn leaving_href(key: &LinkKey, destination: &str, back: &str) -> Option<String> {
    let url = parse_destination(destination).ok()?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("to", url.as_str());
    query.append_pair("sig", &key.sign(url.as_str()));
    if let Some(back) = local_path(back) {
        query.append_pair("back", back);
    }
    Some(format!("/leaving?{}", query.finish()))
}

/// What the leaving page found in its query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leaving {
    /// A destination the portal signed.
    Signed(url::Url),
    /// Missing, altered, forged, or not an http(s) address: the page refuses it (400).
    Refused,
}

/// Checks the leaving page's `to` and `sig`: the signature must be the portal's for exactly
/// this destination, and the destination must still be one the portal would link to.
pub fn check_leaving(key: &LinkKey, to: Option<&str>, sig: Option<&str>) -> Leaving {
    let (Some(to), Some(sig)) = (to, sig) else { return Leaving::Refused };
    if !key.verify(to, sig) {
        return Leaving::Refused;
    }
    match parse_destination(to) {
        // Signed strings are normalised ones; anything else was not made by `leaving_href`.
        Ok(url) if url.as_str() == to => Leaving::Signed(url),
        _ => Leaving::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> LinkKey {
        LinkKey::from_bytes([7; 32])
    }

    fn query_of(href: &str) -> Vec<(String, String)> {
        let q = href.strip_prefix("/leaving?").expect("a leaving-page link");
        url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    fn get<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
        q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_signed_link_checks_and_names_its_destination() {
        let href = leaving_href(&key(), "https://video.example.org/room/42?pin=1", "/visits").unwrap();
        let q = query_of(&href);
        assert_eq!(get(&q, "back"), Some("/visits"));
        match check_leaving(&key(), get(&q, "to"), get(&q, "sig")) {
            Leaving::Signed(url) => assert_eq!(url.host_str(), Some("video.example.org")),
            other => panic!("refused: {other:?}"),
        }
    }

    #[test]
    fn altered_forged_or_foreign_links_are_refused() {
        let href = leaving_href(&key(), "https://video.example.org/room/42", "/").unwrap();
        let q = query_of(&href);
        let sig = get(&q, "sig");
        assert_eq!(check_leaving(&key(), Some("https://evil.example/room/42"), sig), Leaving::Refused);
        assert_eq!(check_leaving(&key(), Some("https://video.example.org/room/43"), sig), Leaving::Refused);
        assert_eq!(check_leaving(&key(), get(&q, "to"), Some("AAAA")), Leaving::Refused);
        assert_eq!(check_leaving(&key(), get(&q, "to"), None), Leaving::Refused);
        assert_eq!(check_leaving(&LinkKey::from_bytes([8; 32]), get(&q, "to"), sig), Leaving::Refused);
        // A key signing a javascript: address (which the portal never does) still gets no link.
        let js = "javascript:alert(1)";
        assert_eq!(check_leaving(&key(), Some(js), Some(&key().sign(js))), Leaving::Refused);
    }

    #[test]
    fn only_http_and_https_addresses_with_a_host_and_no_credentials() {
        for bad in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "file:///etc/passwd",
            "ftp://x.example/",
            "/relative",
            "https://user:pw@bank.example@evil.example/",
            "https://bank.example@evil.example/",
            "",
        ] {
            assert!(parse_destination(bad).is_err(), "{bad} refused");
            assert!(leaving_href(&key(), bad, "/").is_none(), "{bad} gets no link");
        }
        assert!(parse_destination(&format!("https://x.example/{}", "a".repeat(MAX_DESTINATION_LEN))).is_err());
        assert!(parse_destination("http://www.example.org/page").is_ok());
    }

    #[test]
    fn back_is_a_path_on_the_portal() {
        assert_eq!(local_path("/visits/abc"), Some("/visits/abc"));
        for bad in ["//evil.example", "/\\evil.example", "https://evil.example", "visits", "/a\nb"] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
        let href = leaving_href(&key(), "https://x.example/", "//evil.example").unwrap();
        assert!(get(&query_of(&href), "back").is_none());
    }
}
