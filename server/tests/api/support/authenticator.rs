//! A software passkey for the tests: what a phone's authenticator does, in a few lines, with
//! OpenSSL's P-256 ECDSA ("none" attestation, user present and verified). It lets the tests run
//! real WebAuthn ceremonies against the server on both databases, and forge the answers an
//! attacker would (a counter that went back, a passkey presented for another user).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use serde_cbor_2::Value;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub struct SoftPasskey {
    key: EcKey<Private>,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    pub user_handle: Vec<u8>,
    rp_id: String,
    origin: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).expect("base64url")
}

impl SoftPasskey {
    pub fn new(rp_id: &str, origin: &str) -> SoftPasskey {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut credential_id = vec![0u8; 16];
        openssl::rand::rand_bytes(&mut credential_id).unwrap();
        SoftPasskey { key: EcKey::generate(&group).unwrap(), credential_id, counter: 0, user_handle: Vec::new(), rp_id: rp_id.into(), origin: origin.into() }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false }).to_string().into_bytes()
    }

    fn auth_data(&self, attested: bool) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        // User present (0x01), user verified (0x04), attested credential data (0x40).
        data.push(if attested { 0x45 } else { 0x05 });
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0u8; 16]);
            data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
            let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
            let mut ctx = BigNumContext::new().unwrap();
            self.key.public_key().affine_coordinates(&group, &mut x, &mut y, &mut ctx).unwrap();
            let mut cose = BTreeMap::new();
            cose.insert(Value::Integer(1), Value::Integer(2)); // kty: EC2
            cose.insert(Value::Integer(3), Value::Integer(-7)); // alg: ES256
            cose.insert(Value::Integer(-1), Value::Integer(1)); // crv: P-256
            cose.insert(Value::Integer(-2), Value::Bytes(x.to_vec_padded(32).unwrap()));
            cose.insert(Value::Integer(-3), Value::Bytes(y.to_vec_padded(32).unwrap()));
            data.extend_from_slice(&serde_cbor_2::to_vec(&Value::Map(cose)).unwrap());
        }
        data
    }

    /// Answers the portal's creation options (`publicKey` of what the server gave).
    pub fn register(&mut self, options: &Json) -> Json {
        let pk = &options["publicKey"];
        self.user_handle = unb64(pk["user"]["id"].as_str().unwrap());
        let client_data = self.client_data("webauthn.create", pk["challenge"].as_str().unwrap());
        let mut attestation = BTreeMap::new();
        attestation.insert(Value::Text("fmt".into()), Value::Text("none".into()));
        attestation.insert(Value::Text("attStmt".into()), Value::Map(BTreeMap::new()));
        attestation.insert(Value::Text("authData".into()), Value::Bytes(self.auth_data(true)));
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&serde_cbor_2::to_vec(&Value::Map(attestation)).unwrap()),
                "clientDataJSON": b64(&client_data),
            },
            "extensions": {}
        })
    }

    /// Answers the portal's request options: the counter moves on by one, as a device's does.
    pub fn sign_in(&mut self, options: &Json) -> Json {
        self.counter += 1;
        self.answer(options, self.counter, &self.user_handle.clone())
    }

    /// An answer with a chosen counter and user handle (what a clone or a forger sends).
    pub fn answer(&self, options: &Json, counter: u32, user_handle: &[u8]) -> Json {
        let client_data = self.client_data("webauthn.get", options["publicKey"]["challenge"].as_str().unwrap());
        let mut me = SoftPasskey {
            key: self.key.clone(),
            credential_id: self.credential_id.clone(),
            counter,
            user_handle: user_handle.to_vec(),
            rp_id: self.rp_id.clone(),
            origin: self.origin.clone(),
        };
        me.counter = counter;
        let auth_data = me.auth_data(false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature = EcdsaSig::sign(&Sha256::digest(&signed), &self.key).unwrap().to_der().unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(&signature),
                "userHandle": b64(user_handle),
            },
            "extensions": {}
        })
    }
}
