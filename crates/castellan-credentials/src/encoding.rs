//! Base64 (RFC 4648 standard alphabet, no padding) for the text forms of stored records. Thirty
//! lines here instead of a dependency for two functions.

/// The character of a 6-bit value.
fn char_of(value: u32) -> char {
    let byte = match value & 0x3f {
        v @ 0..=25 => b'A' + v as u8,
        v @ 26..=51 => b'a' + (v - 26) as u8,
        v @ 52..=61 => b'0' + (v - 52) as u8,
        62 => b'+',
        _ => b'/',
    };
    char::from(byte)
}

/// The 6-bit value of a character.
fn value_of(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Encodes `bytes` without padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut group = [0u8; 3];
        for (slot, &b) in group.iter_mut().zip(chunk) {
            *slot = b;
        }
        let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
        // A chunk of k bytes yields k + 1 characters.
        for i in 0..=chunk.len() {
            out.push(char_of(n >> (18 - 6 * i)));
        }
    }
    out
}

/// Decodes unpadded base64; `None` on any character outside the alphabet, an impossible length,
/// or non-zero trailing bits (so every byte string has exactly one accepted text form).
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        acc = (acc << 6) | value_of(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits: 0 (length % 4 == 0), 4 (== 2) or 2 (== 3); 6 means length % 4 == 1.
    (bits < 6 && acc == 0).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length() {
        let data: Vec<u8> = (0..=255u8).collect();
        for len in 0..40 {
            let bytes = &data[..len];
            let text = base64_encode(bytes);
            assert_eq!(base64_decode(&text).as_deref(), Some(bytes), "length {len}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fooba"), "Zm9vYmE");
    }

    #[test]
    fn rejects_bad_text() {
        assert_eq!(base64_decode("Zm9vYmE="), None);
        assert_eq!(base64_decode("Z"), None);
        assert_eq!(base64_decode("Zm9vYmF"), None, "non-zero trailing bits");
        assert_eq!(base64_decode("Zm9v YmE"), None);
    }
}
