//! Base64 for `atob`/`btoa`, `Buffer` and the crypto API.
//!
//! Two decoders, because the web and Node disagree: `atob` follows the HTML
//! standard's forgiving-base64 (strict about characters and padding, lenient
//! about trailing bits), while Node's `Buffer.from(text, 'base64')` accepts
//! both alphabets, skips what it does not know and stops at the first `=`.

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes`: padded standard alphabet, or unpadded base64url.
pub fn base64_encode(bytes: &[u8], url_safe: bool) -> String {
    let alphabet = if url_safe { URL_SAFE } else { STANDARD };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        if !url_safe {
            out.push_str(&"=="[chunk.len() - 1..]);
        }
    }
    out
}

/// The 6-bit value of a character of either alphabet.
fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Packs 6-bit values into bytes; bits left over at the end are dropped.
fn pack(values: impl Iterator<Item = u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for value in values {
        acc = acc << 6 | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The HTML standard's forgiving-base64 decode (what `atob` does): ASCII
/// whitespace is removed, padding is optional but must be right, only the
/// standard alphabet is accepted. `None` when the text is not base64.
pub fn base64_decode_strict(text: &str) -> Option<Vec<u8>> {
    let mut data: Vec<u8> = text
        .bytes()
        .filter(|c| !matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' '))
        .collect();
    if data.len().is_multiple_of(4) {
        if data.ends_with(b"==") {
            data.truncate(data.len() - 2);
        } else if data.ends_with(b"=") {
            data.truncate(data.len() - 1);
        }
    }
    if data.len() % 4 == 1 {
        return None;
    }
    let values = data
        .iter()
        .map(|&c| match c {
            b'-' | b'_' => None,
            _ => sextet(c),
        })
        .collect::<Option<Vec<u8>>>()?;
    Some(pack(values.into_iter()))
}

/// Node's lenient decode (`Buffer.from(text, 'base64' | 'base64url')`):
/// both alphabets, anything else skipped, the end at the first `=`.
pub fn base64_decode_loose(text: &str) -> Vec<u8> {
    pack(text.bytes().take_while(|&c| c != b'=').filter_map(sextet))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors_round_trip() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes(), false), encoded);
            assert_eq!(base64_decode_strict(encoded).unwrap(), plain.as_bytes());
            assert_eq!(base64_decode_loose(encoded), plain.as_bytes());
        }
        assert_eq!(base64_encode(&[0xfb, 0xff], true), "-_8");
    }

    #[test]
    fn strict_follows_forgiving_base64() {
        assert_eq!(base64_decode_strict("aGVsbG9=").unwrap(), b"hello");
        assert_eq!(base64_decode_strict(" aGVs\nbG8 ").unwrap(), b"hello");
        assert!(base64_decode_strict("ab=").is_none());
        assert!(base64_decode_strict("a").is_none());
        assert!(base64_decode_strict("ab-_").is_none());
        assert!(base64_decode_strict("ab$c").is_none());
    }

    #[test]
    fn loose_follows_node() {
        assert_eq!(base64_decode_loose("ab$cd"), [0x69, 0xb7, 0x1d]);
        assert_eq!(base64_decode_loose("ab==cd"), [0x69]);
        assert_eq!(base64_decode_loose("-_8"), [0xfb, 0xff]);
    }
}
