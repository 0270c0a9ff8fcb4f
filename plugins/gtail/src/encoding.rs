//! `unicode.encoding` and `generic.encoding`: files in another encoding become UTF-8 records, as
//! native converts them. Lines are found in the file's own encoding (a UTF-16 newline is two bytes)
//! and each line is converted on its own, so offsets stay byte offsets in the file.

use encoding_rs::Encoding as Codec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Bytes pass unchanged (UTF-8 or anything ASCII-compatible).
    Raw,
    Utf16Le,
    Utf16Be,
    /// `unicode.encoding auto`: UTF-16 when the file starts with a byte order mark, else raw.
    Utf16Auto,
    /// An ASCII-compatible legacy encoding (`generic.encoding`): newlines are the byte 0x0A.
    Generic(&'static Codec),
}

/// `generic.encoding` names as native lists them (its help text spells one `Win2513`; both spellings
/// are taken).
const GENERIC: &[(&str, &Codec)] = &[
    ("shiftjis", encoding_rs::SHIFT_JIS),
    ("sjis", encoding_rs::SHIFT_JIS),
    ("uhc", encoding_rs::EUC_KR),
    ("cp949", encoding_rs::EUC_KR),
    ("gbk", encoding_rs::GBK),
    ("gb18030", encoding_rs::GB18030),
    ("big5", encoding_rs::BIG5),
    ("win866", encoding_rs::IBM866),
    ("win874", encoding_rs::WINDOWS_874),
    ("win1250", encoding_rs::WINDOWS_1250),
    ("win1251", encoding_rs::WINDOWS_1251),
    ("win1252", encoding_rs::WINDOWS_1252),
    ("win1253", encoding_rs::WINDOWS_1253),
    ("win2513", encoding_rs::WINDOWS_1253),
    ("win1254", encoding_rs::WINDOWS_1254),
    ("win1255", encoding_rs::WINDOWS_1255),
    ("win1256", encoding_rs::WINDOWS_1256),
];

impl Encoding {
    pub fn from_config(unicode: Option<&str>, generic: Option<&str>) -> Result<Encoding, String> {
        match (unicode.filter(|s| !s.is_empty()), generic.filter(|s| !s.is_empty())) {
            (Some(_), Some(_)) => Err("set unicode.encoding or generic.encoding, not both".into()),
            (Some(u), None) => match u.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
                "utf16le" => Ok(Encoding::Utf16Le),
                "utf16be" => Ok(Encoding::Utf16Be),
                "auto" => Ok(Encoding::Utf16Auto),
                _ => Err(format!("unicode.encoding '{u}': expected UTF-16LE, UTF-16BE or auto")),
            },
            (None, Some(g)) => {
                let key = g.to_ascii_lowercase().replace(['-', '_'], "");
                GENERIC.iter().find(|(n, _)| *n == key).map(|(_, c)| Encoding::Generic(c)).ok_or_else(|| {
                    format!(
                        "generic.encoding '{g}': expected ShiftJIS, UHC, GBK, GB18030, Big5, Win866, Win874 or \
                         Win1250 to Win1256"
                    )
                })
            }
            (None, None) => Ok(Encoding::Raw),
        }
    }

    /// What a file with these first bytes is read as, and the byte order mark to skip at offset 0.
    pub fn for_file(self, head: &[u8]) -> (Encoding, &'static [u8]) {
        const LE: &[u8] = &[0xFF, 0xFE];
        const BE: &[u8] = &[0xFE, 0xFF];
        const UTF8: &[u8] = &[0xEF, 0xBB, 0xBF];
        match self {
            Encoding::Utf16Auto if head.starts_with(LE) => (Encoding::Utf16Le, LE),
            Encoding::Utf16Auto if head.starts_with(BE) => (Encoding::Utf16Be, BE),
            Encoding::Utf16Auto => (Encoding::Raw, UTF8),
            Encoding::Utf16Le => (self, LE),
            Encoding::Utf16Be => (self, BE),
            e => (e, b""),
        }
    }

    /// The end of the first line in `bytes` and the length of its newline.
    #[inline]
    pub fn find_newline(self, bytes: &[u8]) -> Option<(usize, usize)> {
        match self {
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let want: [u8; 2] = if self == Encoding::Utf16Le { [b'\n', 0] } else { [0, b'\n'] };
                let mut from = 0;
                // The newline's 0x0A byte sits at an even offset (LE) or odd (BE) from the line start.
                let odd = usize::from(self == Encoding::Utf16Be);
                while let Some(i) = memchr::memchr(b'\n', &bytes[from..]) {
                    let at = from + i;
                    if at % 2 == odd {
                        let start = at - odd;
                        if bytes.get(start..start + 2) == Some(&want[..]) {
                            return Some((start, 2));
                        }
                    }
                    from = at + 1;
                }
                None
            }
            _ => memchr::memchr(b'\n', bytes).map(|i| (i, 1)),
        }
    }

    /// Where a line longer than `max` bytes is cut: whole UTF-16 units, or a UTF-8 boundary.
    pub fn cut(self, bytes: &[u8], max: usize) -> usize {
        match self {
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let mut cut = max.min(bytes.len()) & !1;
                // Never between the two halves of a surrogate pair.
                let hi = |at: usize| {
                    let unit = if self == Encoding::Utf16Le { bytes[at + 1] } else { bytes[at] };
                    (0xD8..=0xDB).contains(&unit)
                };
                if cut >= 2 && hi(cut - 2) {
                    cut -= 2;
                }
                cut.max(2).min(bytes.len())
            }
            Encoding::Raw | Encoding::Utf16Auto => crate::lines::utf8_cut(bytes, max),
            Encoding::Generic(_) => max.min(bytes.len()),
        }
    }

    /// The line as UTF-8: `raw` itself, or its conversion in `out`.
    #[inline]
    pub fn decode<'a>(self, raw: &'a [u8], out: &'a mut String) -> &'a [u8] {
        let codec = match self {
            Encoding::Raw | Encoding::Utf16Auto => return raw,
            Encoding::Utf16Le => encoding_rs::UTF_16LE,
            Encoding::Utf16Be => encoding_rs::UTF_16BE,
            Encoding::Generic(c) => c,
        };
        out.clear();
        out.push_str(&codec.decode_without_bom_handling(raw).0);
        out.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn utf16_lines_are_found_on_whole_units() {
        // "ਊ" is U+0A0A: its bytes hold 0x0A but it is no newline.
        let le = utf16le("aਊb\nc\n");
        assert_eq!(Encoding::Utf16Le.find_newline(&le), Some((6, 2)));
        let mut s = String::new();
        assert_eq!(Encoding::Utf16Le.decode(&le[..6], &mut s), "aਊb".as_bytes());
        let be = utf16be("ਊ😀\nz");
        assert_eq!(Encoding::Utf16Be.find_newline(&be), Some((6, 2)));
        assert_eq!(Encoding::Utf16Be.decode(&be[..6], &mut s), "ਊ😀".as_bytes());
        assert_eq!(Encoding::Utf16Le.find_newline(&utf16le("no newline")), None);
    }

    #[test]
    fn byte_order_marks_and_auto() {
        assert_eq!(Encoding::Utf16Auto.for_file(&[0xFF, 0xFE, b'a', 0]), (Encoding::Utf16Le, &[0xFF, 0xFE][..]));
        assert_eq!(Encoding::Utf16Auto.for_file(&[0xFE, 0xFF, 0, b'a']), (Encoding::Utf16Be, &[0xFE, 0xFF][..]));
        // Without a UTF-16 mark the bytes pass unchanged, a UTF-8 mark skipped (as native).
        assert_eq!(Encoding::Utf16Auto.for_file(b"plain"), (Encoding::Raw, &[0xEF, 0xBB, 0xBF][..]));
        assert_eq!(Encoding::Utf16Le.for_file(b"ab"), (Encoding::Utf16Le, &[0xFF, 0xFE][..]));
        assert_eq!(Encoding::Raw.for_file(&[0xFF, 0xFE]), (Encoding::Raw, &[][..]));
    }

    #[test]
    fn generic_encodings_convert_each_line() {
        let e = Encoding::from_config(None, Some("ShiftJIS")).expect("sjis");
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("ログ行");
        let mut s = String::new();
        assert_eq!(e.find_newline(&[sjis.as_ref(), b"\n"].concat()), Some((sjis.len(), 1)));
        assert_eq!(e.decode(&sjis, &mut s), "ログ行".as_bytes());
        let e = Encoding::from_config(None, Some("Win1251")).expect("cp1251");
        assert_eq!(e.decode(&[0xCF, 0xF0, 0xE8], &mut s), "При".as_bytes());
        assert!(Encoding::from_config(None, Some("EBCDIC")).is_err());
        assert!(Encoding::from_config(Some("UTF-32"), None).is_err());
        assert!(Encoding::from_config(Some("auto"), Some("GBK")).is_err());
    }

    #[test]
    fn long_utf16_lines_are_cut_between_units_and_pairs() {
        let le = utf16le("ab😀c");
        assert_eq!(Encoding::Utf16Le.cut(&le, 5), 4, "whole units");
        assert_eq!(Encoding::Utf16Le.cut(&le, 6), 4, "not inside the surrogate pair");
        assert_eq!(Encoding::Utf16Le.cut(&le, 8), 8);
    }
}
