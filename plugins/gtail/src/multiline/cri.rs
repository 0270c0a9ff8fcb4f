//! The CRI log line (containerd, CRI-O): `<time> <stream> <P|F> <log>`, as Fluent Bit's `cri`
//! multiline parser reads it with the regex
//! `^(?<time>.+?) (?<stream>stdout|stderr) (?<_p>F|P) (?<log>.*)$`: the time is everything up to
//! the first ` stdout ` or ` stderr ` that is followed by `F ` or `P ` (it may hold spaces), and
//! the log is the rest, possibly empty.

/// One CRI line, borrowed from the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriLine<'a> {
    pub time: &'a [u8],
    pub stream: &'a [u8],
    /// `P`: a part; more follow until an `F`.
    pub partial: bool,
    pub log: &'a [u8],
}

/// The line's fields, or None when the regex would not match.
pub fn parse(line: &[u8]) -> Option<CriLine<'_>> {
    // The time is at least one byte, so the search for " stdout " starts at index 1. The shortest
    // time wins (lazy `.+?`).
    for sp in memchr::memchr_iter(b' ', line).filter(|&i| i >= 1) {
        let rest = &line[sp + 1..];
        let stream_len = if rest.starts_with(b"stdout ") || rest.starts_with(b"stderr ") { 6 } else { continue };
        let partial = match rest.get(stream_len + 1..stream_len + 3) {
            Some(b"F ") => false,
            Some(b"P ") => true,
            _ => continue,
        };
        return Some(CriLine { time: &line[..sp], stream: &rest[..stream_len], partial, log: &rest[stream_len + 3..] });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Option<(String, String, bool, String)> {
        let l = parse(s.as_bytes())?;
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        Some((s(l.time), s(l.stream), l.partial, s(l.log)))
    }

    #[test]
    fn lines_as_the_regex_reads_them() {
        let own = |t: &str, s: &str, p: bool, l: &str| Some((t.into(), s.into(), p, l.into()));
        assert_eq!(
            p("2024-01-01T00:00:00.1Z stdout F hello world"),
            own("2024-01-01T00:00:00.1Z", "stdout", false, "hello world")
        );
        assert_eq!(p("t stderr P part"), own("t", "stderr", true, "part"));
        assert_eq!(p("t stdout F "), own("t", "stdout", false, ""), "an empty log");
        assert_eq!(p("a b stdout F x stderr P y"), own("a b", "stdout", false, "x stderr P y"), "the shortest time");
        assert_eq!(
            p("t stdout X no stderr F yes"),
            own("t stdout X no", "stderr", false, "yes"),
            "the first place that matches"
        );
    }

    #[test]
    fn lines_the_regex_refuses() {
        for s in [
            "",
            "plain text",
            " stdout F x",
            "t stdout F",
            "t stdlog F x",
            "t stdout X x",
            "t stdout  F x",
            "t stdoutF x",
        ] {
            assert_eq!(p(s), None, "{s:?}");
        }
    }
}
