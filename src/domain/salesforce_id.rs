//! Salesforce record Ids.
//!
//! An Id is 15 case-sensitive characters, or 18 case-insensitive ones whose last three
//! encode the case of the first fifteen. Everything inside the emulator holds the
//! canonical 18-character form, so both forms of one Id compare equal.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tinystr::TinyAsciiStr;

const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A valid Salesforce record Id, held in its canonical 18-character form. As ASCII checked
/// once, when it is made: every record written and every answer and event payload reads a few
/// as `&str`, which from bytes would check them again each time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SalesforceId(TinyAsciiStr<18>);

// Hashed as one slice of bytes: tinystr's own hash feeds the hasher a byte at a time, about
// 300 instructions per Id on every lookup of the org's users and records. Equal Ids have equal
// bytes, so this agrees with `Eq`.
impl Hash for SalesforceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().as_bytes().hash(state);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be 15 or 18 characters long, not {0}")]
    Length(usize),
    #[error("may hold only letters and digits")]
    Character,
    #[error("has a checksum that does not match its first 15 characters")]
    Checksum,
}

impl SalesforceId {
    /// Parses a 15- or 18-character Id.
    ///
    /// An 18-character Id whose letters were all upper- or all lower-cased (as spreadsheets
    /// and case-insensitive systems do) is re-cased from its checksum. One with mixed case is
    /// taken as written, so its checksum must match.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let bytes = input.as_bytes();
        if !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return Err(IdError::Character);
        }
        let mut id = [0u8; 18];
        match bytes.len() {
            15 => {
                id[..15].copy_from_slice(bytes);
                let sum = checksum(&id[..15]);
                id[15..].copy_from_slice(&sum);
            }
            18 => {
                id.copy_from_slice(bytes);
                id[15..].make_ascii_uppercase();
                if is_mixed_case(&id[..15]) {
                    if checksum(&id[..15]) != id[15..] {
                        return Err(IdError::Checksum);
                    }
                } else {
                    recase(&mut id)?;
                }
            }
            other => return Err(IdError::Length(other)),
        }
        Ok(Self::of(id))
    }

    /// A new Id for an object with the given three-character key prefix. Like Salesforce's
    /// own, Ids grow over time: the twelve characters after the prefix are, in base 62, the
    /// seconds since 2020 above a process-wide counter that starts at random. So the Ids of
    /// one process never repeat, new records go to the end of the indexes that hold their Ids
    /// (not to random pages, which cost a page write each), and two processes sharing a
    /// database collide only if their counters started within one run of Ids of each other.
    pub fn generate(key_prefix: &str) -> Self {
        const COUNTER_BITS: u32 = 39;
        const EPOCH_2020: u64 = 1_577_836_800;
        static NEXT: LazyLock<AtomicU64> =
            LazyLock::new(|| AtomicU64::new(uuid::Uuid::new_v4().as_u64_pair().0));
        debug_assert!(
            key_prefix.len() == 3 && key_prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        );
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs().saturating_sub(EPOCH_2020))
            .min(u64::from(u32::MAX));
        let counter = NEXT.fetch_add(1, Ordering::Relaxed) & ((1 << COUNTER_BITS) - 1);
        // At most 32 + 39 = 71 bits: twelve base-62 digits hold 71.4.
        let mut value = (u128::from(seconds) << COUNTER_BITS) | u128::from(counter);
        let mut id = [0u8; 18];
        id[..3].copy_from_slice(key_prefix.as_bytes());
        for byte in id[3..15].iter_mut().rev() {
            *byte = BASE62[(value % 62) as usize];
            value /= 62;
        }
        let sum = checksum(&id[..15]);
        id[15..].copy_from_slice(&sum);
        Self::of(id)
    }

    /// The Id of these letters and digits.
    fn of(id: [u8; 18]) -> Self {
        Self(TinyAsciiStr::try_from_utf8(&id).expect("an Id is made of ASCII letters and digits"))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The three characters that name the object type (`003` for Contact, ...).
    pub fn key_prefix(&self) -> &str {
        &self.as_str()[..3]
    }
}

fn is_mixed_case(body: &[u8]) -> bool {
    body.iter().any(u8::is_ascii_uppercase) && body.iter().any(u8::is_ascii_lowercase)
}

/// Restores the case of the first 15 characters from the checksum.
fn recase(id: &mut [u8; 18]) -> Result<(), IdError> {
    for chunk in 0..3 {
        let bits = CHECKSUM_ALPHABET
            .iter()
            .position(|&c| c == id[15 + chunk])
            .ok_or(IdError::Checksum)?;
        for position in 0..5 {
            let byte = &mut id[chunk * 5 + position];
            if bits & (1 << position) != 0 {
                if !byte.is_ascii_alphabetic() {
                    return Err(IdError::Checksum);
                }
                byte.make_ascii_uppercase();
            } else {
                byte.make_ascii_lowercase();
            }
        }
    }
    Ok(())
}

/// The three checksum characters of a 15-character Id: for each block of five characters,
/// a bit per upper-case letter, mapped onto `A-Z0-5`.
fn checksum(body: &[u8]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk, slot) in body.chunks(5).zip(&mut out) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        *slot = CHECKSUM_ALPHABET[bits];
    }
    out
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SalesforceId({})", self.as_str())
    }
}

impl std::str::FromStr for SalesforceId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for SalesforceId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SalesforceId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(|e| {
            serde::de::Error::custom(format!("`{raw}` is not a Salesforce Id: it {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salesforce_documented_example_gets_its_checksum() {
        let id = SalesforceId::parse("0036000000QKv5T").unwrap();
        assert_eq!(id.as_str(), "0036000000QKv5TAAT");
    }

    #[test]
    fn both_forms_of_one_id_are_equal() {
        assert_eq!(
            SalesforceId::parse("0036000000QKv5T").unwrap(),
            SalesforceId::parse("0036000000QKv5TAAT").unwrap()
        );
    }

    #[test]
    fn upper_or_lower_cased_18_character_id_is_recased() {
        let canonical = SalesforceId::parse("0036000000QKv5TAAT").unwrap();
        assert_eq!(
            SalesforceId::parse("0036000000QKV5TAAT").unwrap(),
            canonical
        );
        assert_eq!(
            SalesforceId::parse("0036000000qkv5taat").unwrap(),
            canonical
        );
    }

    #[test]
    fn mixed_case_id_with_a_wrong_checksum_is_rejected() {
        assert_eq!(
            SalesforceId::parse("0036000000QKv5TAAA"),
            Err(IdError::Checksum)
        );
    }

    #[test]
    fn checksum_marking_a_digit_as_upper_case_is_rejected() {
        // 'B' sets bit 0 of the first block, whose first character is the digit '0'.
        assert_eq!(
            SalesforceId::parse("0036000000qkv5tbat"),
            Err(IdError::Checksum)
        );
    }

    #[test]
    fn malformed_ids_are_rejected() {
        let cases = [
            ("", IdError::Length(0)),
            ("003", IdError::Length(3)),
            ("0036000000QKv5TA", IdError::Length(16)),
            ("0036000000QKv5TAATX", IdError::Length(19)),
            ("0036000000QK-5T", IdError::Character),
            ("0036000000QKé5", IdError::Character),
        ];
        for (input, expected) in cases {
            assert_eq!(SalesforceId::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn generated_ids_are_valid_and_keep_their_prefix() {
        for _ in 0..1000 {
            let id = SalesforceId::generate("a0S");
            assert_eq!(id.key_prefix(), "a0S");
            assert_eq!(SalesforceId::parse(id.as_str()), Ok(id));
            assert_eq!(SalesforceId::parse(&id.as_str()[..15]), Ok(id));
            assert_eq!(
                SalesforceId::parse(&id.as_str().to_ascii_lowercase()),
                Ok(id)
            );
        }
    }

    #[test]
    fn the_forms_of_one_id_hash_alike_and_other_ids_apart() {
        use std::hash::BuildHasher;
        let hasher = std::collections::hash_map::RandomState::new();
        let short = SalesforceId::parse("005Dn0000001Ada").unwrap();
        let long = SalesforceId::parse("005DN0000001ADAIAE").unwrap();
        assert_eq!(short, long);
        assert_eq!(hasher.hash_one(short), hasher.hash_one(long));
        let other = SalesforceId::parse("005Dn0000001Adb").unwrap();
        assert_ne!(hasher.hash_one(short), hasher.hash_one(other));
    }

    #[test]
    fn generated_ids_grow_and_never_repeat() {
        let ids: Vec<SalesforceId> = (0..10_000).map(|_| SalesforceId::generate("00T")).collect();
        // Within a process the counter only grows, so each Id is above the one before (the
        // counter may wrap once in 2^39 Ids: not within this test, but a second could tick).
        let rising = ids.windows(2).filter(|pair| pair[0] < pair[1]).count();
        assert!(
            rising >= ids.len() - 2,
            "{rising} of {} rose",
            ids.len() - 1
        );
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
