//! The portal's own ids: 128 random bits in lower-case hex, so that one cannot be guessed from
//! another. Each kind is its own type (`id_type!`) with a private field: an id exists only
//! because it was parsed from a URL or form (`parse`), read from the database (checked again on
//! the way in, so a damaged row fails loudly instead of travelling on), or made here
//! (`new_random`). On the wire an id is its string, as before.
//!
//! Ids that come from elsewhere follow their own grammar and are not these: a FHIR resource id
//! is `record::fhir::is_resource_id`.

use std::fmt;

/// Our own id shape: 32 characters of `0-9 a-f`.
pub fn is_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A string that is not one of our ids (from the database or from JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidId;

impl fmt::Display for InvalidId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the value itself: it may have come from anywhere.
        f.write_str("not a portal id")
    }
}

impl std::error::Error for InvalidId {}

/// Declares an id type. The database parts (`sqlx` decode and encode, `new_random`) exist only
/// in the server build; the browser sees ids only through serde.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Ids come from URLs and forms: only our own shape is accepted.
            pub fn parse(s: &str) -> Option<$name> {
                $crate::ids::is_id(s).then(|| $name(s.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// A new id, never handed out before.
            #[cfg(feature = "ssr")]
            pub fn new_random() -> $name {
                $name($crate::ids::new_id())
            }

            /// An id derived from 128 bits that are already unguessable (a keyed hash).
            #[cfg(feature = "ssr")]
            pub fn from_bits(bits: [u8; 16]) -> $name {
                $name(::hex::encode(bits))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::ids::InvalidId;
            fn try_from(s: String) -> Result<$name, $crate::ids::InvalidId> {
                if $crate::ids::is_id(&s) {
                    Ok($name(s))
                } else {
                    Err($crate::ids::InvalidId)
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        #[cfg(feature = "ssr")]
        impl ::sqlx::Type<::sqlx::Any> for $name {
            fn type_info() -> <::sqlx::Any as ::sqlx::Database>::TypeInfo {
                <String as ::sqlx::Type<::sqlx::Any>>::type_info()
            }
            fn compatible(ty: &<::sqlx::Any as ::sqlx::Database>::TypeInfo) -> bool {
                <String as ::sqlx::Type<::sqlx::Any>>::compatible(ty)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Any> for $name {
            fn decode(value: <::sqlx::Any as ::sqlx::Database>::ValueRef<'r>) -> Result<$name, ::sqlx::error::BoxDynError> {
                let s = <String as ::sqlx::Decode<'r, ::sqlx::Any>>::decode(value)?;
                Ok($name::try_from(s)?)
            }
        }

        #[cfg(feature = "ssr")]
        impl<'q> ::sqlx::Encode<'q, ::sqlx::Any> for $name {
            fn encode_by_ref(&self, buf: &mut <::sqlx::Any as ::sqlx::Database>::ArgumentBuffer<'q>) -> Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <String as ::sqlx::Encode<'q, ::sqlx::Any>>::encode_by_ref(&self.0, buf)
            }
        }
    };
}

// Every kind of id is declared here, not in its feature, so that no other module can reach
// inside one (a private field is open to the module that declares it and its children); each
// feature re-exports its own (`messaging::ThreadId`, `patients::PatientId`, …).

id_type!(
    /// A user's internal id: 128 random bits in hex, never guessable from another one.
    UserId
);
id_type!(
    /// A patient record's id: 128 random bits in hex.
    PatientId
);
id_type!(
    /// A visit's id: 128 random bits in lower-case hex.
    VisitId
);
id_type!(
    /// A conversation between a patient and their care team.
    ThreadId
);
id_type!(MessageId);
id_type!(AttachmentId);
id_type!(PoolId);
id_type!(AbsenceId);
id_type!(
    /// A billing account's id (internal; people see its number).
    AccountId
);
id_type!(StatementId);
id_type!(
    /// An item of the record (a result, a panel, a visit, a document…) as URLs and forms name it:
    /// 32 hex characters, a keyed digest of the EHR's `Type/id`. It says nothing about the item
    /// (EHR ids can spell out a test and a date, `alice-obs-20261123-a1c`), is the same on every
    /// look (so "new since you last looked" can be remembered), and is resolved only among the
    /// signed-in patient's own record: another patient's item id is simply not found.
    ItemId
);

/// A new random id: 128 bits from the operating system's generator, as 32 hex characters.
#[cfg(feature = "ssr")]
pub fn new_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    id_type!(SampleId);

    #[test]
    fn only_our_shape_parses() {
        assert!(SampleId::parse("0123456789abcdef0123456789abcdef").is_some());
        assert!(SampleId::parse("0123456789ABCDEF0123456789ABCDEF").is_none());
        assert!(SampleId::parse("0123456789abcdef").is_none());
        assert!(SampleId::parse("0123456789abcdef0123456789abcdeg").is_none());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_wire_format_is_the_string() {
        let id = SampleId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"0123456789abcdef0123456789abcdef\"");
        assert_eq!(serde_json::from_str::<SampleId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SampleId>("\"not-an-id\"").is_err());
    }
}
