//! SMART Backend Services (HL7 FHIR SMART App Launch 2.x, "Backend Services"): the signed JWT
//! with which the portal asks the EHR's token endpoint for an access token (client
//! credentials, `private_key_jwt`). RS384 with an RSA key or ES384 with a P-384 key, from a PEM
//! file. Signed with the OpenSSL the server already links; the JWT is written here (three
//! base64url parts), no JWT library.

use base64::Engine as _;
use openssl::bn::BigNumContext;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::sign::Signer;

/// The JWS algorithms the portal signs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    Rs384,
    Es384,
}

impl Alg {
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs384 => "RS384",
            Alg::Es384 => "ES384",
        }
    }
}

/// The portal's private key for client assertions. Its `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey {
    key: PKey<Private>,
    alg: Alg,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, …)", self.alg.as_str())
    }
}

impl SigningKey {
    /// Reads a private key (PKCS#8, or traditional RSA / EC PEM). RSA keys of at least 2048
    /// bits sign RS384; P-384 keys sign ES384; anything else is refused with the reason.
    pub fn from_pem(pem: &[u8]) -> Result<SigningKey, String> {
        let key = PKey::private_key_from_pem(pem).map_err(|_| "it does not hold a PEM private key".to_string())?;
        let alg = match key.id() {
            Id::RSA => {
                if key.bits() < 2048 {
                    return Err(format!("its RSA key has {} bits; at least 2048 are needed", key.bits()));
                }
                Alg::Rs384
            }
            Id::EC => {
                let curve = key.ec_key().ok().and_then(|k| k.group().curve_name());
                if curve != Some(Nid::SECP384R1) {
                    return Err("its EC key is not on the P-384 curve (ES384 needs P-384)".into());
                }
                Alg::Es384
            }
            _ => return Err("it holds neither an RSA nor an EC (P-384) key".into()),
        };
        Ok(SigningKey { key, alg })
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The JWS signature of `data`: RSASSA-PKCS1-v1_5 with SHA-384, or ECDSA P-384 with SHA-384
    /// as the 96 bytes `r || s` that JWS wants (OpenSSL gives DER).
    fn sign(&self, data: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let mut signer = Signer::new(MessageDigest::sha384(), &self.key)?;
        signer.update(data)?;
        let signature = signer.sign_to_vec()?;
        match self.alg {
            Alg::Rs384 => Ok(signature),
            Alg::Es384 => {
                let sig = EcdsaSig::from_der(&signature)?;
                let mut out = sig.r().to_vec_padded(48)?;
                out.extend(sig.s().to_vec_padded(48)?);
                Ok(out)
            }
        }
    }

    /// The public half as a JWK (for the EHR's registration of the portal, and the tests).
    pub fn public_jwk(&self, key_id: &str) -> serde_json::Value {
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        match self.alg {
            Alg::Rs384 => {
                let rsa = self.key.rsa().expect("an RSA key");
                serde_json::json!({"kty": "RSA", "alg": "RS384", "use": "sig", "kid": key_id, "n": b64(rsa.n().to_vec()), "e": b64(rsa.e().to_vec())})
            }
            Alg::Es384 => {
                let ec = self.key.ec_key().expect("an EC key");
                let mut ctx = BigNumContext::new().expect("OpenSSL context");
                let (mut x, mut y) = (openssl::bn::BigNum::new().expect("bignum"), openssl::bn::BigNum::new().expect("bignum"));
                ec.public_key().affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx).expect("a point on the curve");
                serde_json::json!({
                    "kty": "EC", "crv": "P-384", "alg": "ES384", "use": "sig", "kid": key_id,
                    "x": b64(x.to_vec_padded(48).expect("48 bytes")), "y": b64(y.to_vec_padded(48).expect("48 bytes")),
                })
            }
        }
    }
}

/// How long a client assertion is good for. SMART allows at most five minutes; three leave
/// room for a clock that runs a little ahead of the EHR's.
pub const ASSERTION_LIFETIME_SECS: i64 = 180;

/// A client assertion for `token_url`: `iss` = `sub` = the client id, `aud` = the token URL,
/// `exp` three minutes ahead, a `jti` never used before (128 random bits), `kid` in the header
/// so the EHR picks the right registered key.
pub fn client_assertion(key: &SigningKey, key_id: &str, client_id: &str, token_url: &str, now_secs: i64) -> Result<String, openssl::error::ErrorStack> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = serde_json::json!({"alg": key.alg().as_str(), "typ": "JWT", "kid": key_id});
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": now_secs,
        "exp": now_secs + ASSERTION_LIFETIME_SECS,
        "jti": crate::platform::tokens::new_id(),
    });
    let signing_input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = key.sign(signing_input.as_bytes())?;
    Ok(format!("{signing_input}.{}", b64(&signature)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::rsa::Rsa;
    use openssl::sign::Verifier;

    fn part(jwt: &str, n: usize) -> Vec<u8> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(jwt.split('.').nth(n).unwrap()).unwrap()
    }

    #[test]
    fn an_rs384_assertion_carries_the_claims_smart_requires_and_verifies() {
        let rsa = Rsa::generate(2048).unwrap();
        let pem = rsa.private_key_to_pem().unwrap();
        let key = SigningKey::from_pem(&pem).unwrap();
        assert_eq!(key.alg(), Alg::Rs384);
        let jwt = client_assertion(&key, "k1", "portal", "https://ehr.example.org/token", 1_000_000).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&part(&jwt, 0)).unwrap();
        assert_eq!(header, serde_json::json!({"alg": "RS384", "typ": "JWT", "kid": "k1"}));
        let claims: serde_json::Value = serde_json::from_slice(&part(&jwt, 1)).unwrap();
        assert_eq!(claims["iss"], "portal");
        assert_eq!(claims["sub"], "portal");
        assert_eq!(claims["aud"], "https://ehr.example.org/token");
        let exp = claims["exp"].as_i64().unwrap();
        assert!(exp > 1_000_000 && exp <= 1_000_000 + 300, "at most five minutes ahead");
        assert_eq!(claims["jti"].as_str().unwrap().len(), 32);
        let other = client_assertion(&key, "k1", "portal", "https://ehr.example.org/token", 1_000_000).unwrap();
        let other_claims: serde_json::Value = serde_json::from_slice(&part(&other, 1)).unwrap();
        assert_ne!(claims["jti"], other_claims["jti"], "every assertion has its own jti");

        let public = PKey::from_rsa(Rsa::from_public_components(rsa.n().to_owned().unwrap(), rsa.e().to_owned().unwrap()).unwrap()).unwrap();
        let mut v = Verifier::new(MessageDigest::sha384(), &public).unwrap();
        let signed = jwt.rsplit_once('.').unwrap().0;
        v.update(signed.as_bytes()).unwrap();
        assert!(v.verify(&part(&jwt, 2)).unwrap());
    }

    #[test]
    fn an_es384_signature_is_the_raw_96_bytes_and_verifies() {
        let group = EcGroup::from_curve_name(Nid::SECP384R1).unwrap();
        let ec = EcKey::generate(&group).unwrap();
        let key = SigningKey::from_pem(&ec.private_key_to_pem().unwrap()).unwrap();
        assert_eq!(key.alg(), Alg::Es384);
        let jwt = client_assertion(&key, "k2", "portal", "https://ehr.example.org/token", 1_000_000).unwrap();
        let sig = part(&jwt, 2);
        assert_eq!(sig.len(), 96);
        let der = EcdsaSig::from_private_components(openssl::bn::BigNum::from_slice(&sig[..48]).unwrap(), openssl::bn::BigNum::from_slice(&sig[48..]).unwrap())
            .unwrap()
            .to_der()
            .unwrap();
        let public = PKey::from_ec_key(EcKey::from_public_key(&group, ec.public_key()).unwrap()).unwrap();
        let mut v = Verifier::new(MessageDigest::sha384(), &public).unwrap();
        v.update(jwt.rsplit_once('.').unwrap().0.as_bytes()).unwrap();
        assert!(v.verify(&der).unwrap());
        let jwk = key.public_jwk("k2");
        assert_eq!(jwk["crv"], "P-384");
    }

    #[test]
    fn weak_or_unsuitable_keys_are_refused_with_the_reason() {
        let small = Rsa::generate(1024).unwrap().private_key_to_pem().unwrap();
        assert!(SigningKey::from_pem(&small).unwrap_err().contains("2048"));
        let p256 = EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap();
        assert!(SigningKey::from_pem(&p256.private_key_to_pem().unwrap()).unwrap_err().contains("P-384"));
        assert!(SigningKey::from_pem(b"not a key").is_err());
    }
}
