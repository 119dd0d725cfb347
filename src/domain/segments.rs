//! How a message body travels: its encoding and how many SMS segments it takes, as Twilio
//! counts them.
//!
//! GSM-7 when every character is in the GSM 03.38 basic table or its extension table (an
//! extension character is sent as an escape and the character: two septets); UCS-2 otherwise.
//! One segment holds 160 septets (GSM-7) or 70 UTF-16 code units (UCS-2); a longer message is
//! split into segments of 153 or 67, which give the rest to the header that joins them. A
//! character is never split between two segments: an escaped pair, or a UTF-16 surrogate pair
//! (an emoji), that would straddle a boundary starts the next segment.

picklist! {
    /// The character set a message is sent in.
    Encoding {
        Gsm7 => "GSM-7",
        Ucs2 => "UCS-2",
    }
}

impl Encoding {
    /// The units of one lone segment, and of each segment of a longer message.
    const fn capacity(self) -> (usize, usize) {
        match self {
            Self::Gsm7 => (160, 153),
            Self::Ucs2 => (70, 67),
        }
    }
}

/// A body's encoding and its number of segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segments {
    pub encoding: Encoding,
    pub count: u32,
}

/// The GSM 03.38 basic character set, in table order.
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table: each is sent as an escape and the character.
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// How many septets each ASCII character takes in GSM-7 (0: GSM-7 cannot carry it), from
/// the tables: most bodies are ASCII, and a lookup is cheaper than a search of the tables
/// for every character.
const ASCII_SEPTETS: [u8; 128] = {
    let mut septets = [0u8; 128];
    let tables = [(EXTENSION.as_bytes(), 2), (BASIC.as_bytes(), 1)];
    let mut t = 0;
    while t < tables.len() {
        let (bytes, size) = tables[t];
        let mut i = 0;
        while i < bytes.len() {
            // Bytes of 0x80 and up belong to the tables' other characters.
            if bytes[i] < 0x80 {
                septets[bytes[i] as usize] = size;
            }
            i += 1;
        }
        t += 1;
    }
    septets
};

/// How many septets the ASCII character `byte` takes in GSM-7; `None` when GSM-7 cannot
/// carry it.
fn ascii_septets(byte: u8) -> Option<usize> {
    match ASCII_SEPTETS[usize::from(byte & 0x7f)] {
        0 => None,
        size => Some(usize::from(size)),
    }
}

/// How many septets `c` takes in GSM-7; `None` when GSM-7 cannot carry it.
fn septets(c: char) -> Option<usize> {
    if c.is_ascii() {
        return ascii_septets(c as u8);
    }
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

impl Segments {
    /// The encoding and segments of `body`.
    pub fn of(body: &str) -> Self {
        if body.is_ascii() {
            Self::of_ascii(body.as_bytes())
        } else {
            Self::of_chars(body)
        }
    }

    /// [`Segments::of`] for an ASCII body, most bodies: one lookup per byte.
    fn of_ascii(body: &[u8]) -> Self {
        // Summed without a branch per byte: a size of 0 marks a character GSM-7 lacks.
        let (total, lacking) = body.iter().fold((0, false), |(total, lacking), &byte| {
            let size = ASCII_SEPTETS[usize::from(byte & 0x7f)];
            (total + usize::from(size), lacking | (size == 0))
        });
        if lacking {
            // Control characters GSM-7 lacks: one UTF-16 unit each.
            return Self {
                encoding: Encoding::Ucs2,
                count: count(body.iter().map(|_| 1), Encoding::Ucs2.capacity()),
            };
        }
        let (lone, _) = Encoding::Gsm7.capacity();
        let count = if total <= lone {
            1
        } else {
            count(
                body.iter().map(|&byte| ascii_septets(byte).unwrap_or(1)),
                Encoding::Gsm7.capacity(),
            )
        };
        Self {
            encoding: Encoding::Gsm7,
            count,
        }
    }

    /// [`Segments::of`], a character at a time.
    fn of_chars(body: &str) -> Self {
        if body.chars().all(|c| septets(c).is_some()) {
            let units = body.chars().map(|c| septets(c).unwrap_or(1));
            Self {
                encoding: Encoding::Gsm7,
                count: count(units, Encoding::Gsm7.capacity()),
            }
        } else {
            let units = body.chars().map(char::len_utf16);
            Self {
                encoding: Encoding::Ucs2,
                count: count(units, Encoding::Ucs2.capacity()),
            }
        }
    }
}

/// How many segments the characters of `units` (their sizes) fill, none split.
fn count(units: impl Iterator<Item = usize> + Clone, (lone, each): (usize, usize)) -> u32 {
    if units.clone().sum::<usize>() <= lone {
        return 1;
    }
    let mut segments = 1;
    let mut used = 0;
    for size in units {
        if used + size > each {
            segments += 1;
            used = 0;
        }
        used += size;
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(body: &str) -> (&'static str, u32) {
        let segments = Segments::of(body);
        (segments.encoding.as_str(), segments.count)
    }

    #[test]
    fn the_ascii_lookup_holds_the_tables_ascii_characters() {
        for byte in 0u8..128 {
            let c = char::from(byte);
            let expected = if BASIC.contains(c) {
                1
            } else if EXTENSION.contains(c) {
                2
            } else {
                0
            };
            assert_eq!(ASCII_SEPTETS[usize::from(byte)], expected, "{byte:#x}");
        }
    }

    #[test]
    fn the_ascii_way_counts_as_the_general_one() {
        for byte in 0u8..128 {
            let c = char::from(byte).to_string();
            for (n, m) in [
                (1, 0),
                (159, 1),
                (160, 0),
                (152, 2),
                (153, 153),
                (70, 1),
                (306, 1),
            ] {
                // The character after plain ones, and among escaped ones.
                for body in [
                    format!("{}{}", "a".repeat(n), c.repeat(m)),
                    format!("{}{}", c.repeat(n), "{".repeat(m)),
                ] {
                    assert_eq!(
                        Segments::of_ascii(body.as_bytes()),
                        Segments::of_chars(&body),
                        "{byte:#x} {n} {m}"
                    );
                }
            }
        }
    }

    #[test]
    fn gsm_7_fits_160_in_one_segment_then_153_each() {
        assert_eq!(of("Hello"), ("GSM-7", 1));
        assert_eq!(of(&"a".repeat(160)), ("GSM-7", 1));
        assert_eq!(of(&"a".repeat(161)), ("GSM-7", 2));
        assert_eq!(of(&"a".repeat(306)), ("GSM-7", 2));
        assert_eq!(of(&"a".repeat(307)), ("GSM-7", 3));
        // Every character of both tables is GSM-7.
        assert_eq!(Segments::of(BASIC).encoding, Encoding::Gsm7);
        assert_eq!(Segments::of(EXTENSION).encoding, Encoding::Gsm7);
    }

    #[test]
    fn an_extension_character_counts_two_and_is_not_split_at_a_segment_edge() {
        assert_eq!(of(&"€".repeat(80)), ("GSM-7", 1), "160 septets");
        assert_eq!(
            of(&format!("{}€", "a".repeat(159))),
            ("GSM-7", 2),
            "161 septets"
        );
        // 152 septets, then an escaped pair that would straddle the 153rd: it starts the second
        // segment, which then holds 2 + 152 = 154 > 153, so a third begins.
        assert_eq!(
            of(&format!("{}€{}", "a".repeat(152), "a".repeat(152))),
            ("GSM-7", 3)
        );
        // Without the split rule the same 306 septets would fill two segments exactly.
        assert_eq!(
            of(&format!("{}€{}", "a".repeat(151), "a".repeat(153))),
            ("GSM-7", 2)
        );
    }

    #[test]
    fn ucs_2_fits_70_in_one_segment_then_67_each_counted_in_utf_16_units() {
        assert_eq!(of("Grüße aus Köln ✓"), ("UCS-2", 1));
        assert_eq!(of(&"ж".repeat(70)), ("UCS-2", 1));
        assert_eq!(of(&"ж".repeat(71)), ("UCS-2", 2));
        assert_eq!(of(&"ж".repeat(134)), ("UCS-2", 2));
        assert_eq!(of(&"ж".repeat(135)), ("UCS-2", 3));
        // An emoji is two UTF-16 units.
        assert_eq!(of(&"😀".repeat(35)), ("UCS-2", 1));
        assert_eq!(of(&"😀".repeat(36)), ("UCS-2", 2));
        // 66 units, then an emoji that would straddle the 67th unit: it starts segment two.
        assert_eq!(
            of(&format!("{}😀{}", "ж".repeat(66), "ж".repeat(66))),
            ("UCS-2", 3)
        );
        assert_eq!(
            of(&format!("{}😀{}", "ж".repeat(65), "ж".repeat(65))),
            ("UCS-2", 2)
        );
    }

    #[test]
    fn one_character_outside_gsm_makes_the_whole_message_ucs_2() {
        assert_eq!(of(&format!("{}✓", "a".repeat(69))), ("UCS-2", 1));
        assert_eq!(of(&format!("{}✓", "a".repeat(70))), ("UCS-2", 2));
    }
}
