//! `unicode.encoding` and `generic.encoding` through flb-host: lines of UTF-16 and Shift_JIS files
//! arrive as UTF-8, newlines found in the file's own encoding, byte order marks skipped.

use flb_host::{run_host, rust_plugin, s};

fn lines(path: &std::path::Path, key: &str) -> Vec<String> {
    let (i, o) = (s(&rust_plugin("in-gtail", "in_gtail")), s(&rust_plugin("out-sdktest", "out_sdktest")));
    let p = format!("path={}", path.display());
    let r = run_host(&[
        "-e",
        &i,
        "-e",
        &o,
        "-i",
        "gtail",
        "-p",
        &p,
        "-p",
        key,
        "-p",
        "read_from_head=on",
        "-o",
        "sdktest_out",
        "-p",
        "fields=log",
        "-m",
        "*",
        "--interval",
        "0.2",
        "--flush",
        "0.2",
        "--max-records",
        "2",
        "--duration",
        "20",
    ]);
    assert_eq!(r.code, Some(0), "{}", r.all());
    r.stdout.lines().filter_map(|l| l.split_once(" log=").map(|(_, v)| v.to_string())).collect()
}

#[test]
fn utf16_and_shift_jis_files_become_utf8_records() {
    let d = std::env::temp_dir().join(format!("gtail-enc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("dir");
    // U+0A0A holds a 0x0A byte in UTF-16 that is not a newline; the CR before a newline goes.
    let text = "héllo \u{0a0a}\r\nsecond 😀\n";
    let mut le = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(d.join("le.log"), &le).expect("le");
    let mut be = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
    std::fs::write(d.join("be.log"), &be).expect("be");
    let want = vec!["héllo \u{0a0a}".to_string(), "second 😀".to_string()];
    assert_eq!(lines(&d.join("le.log"), "unicode.encoding=UTF-16LE"), want);
    assert_eq!(lines(&d.join("le.log"), "unicode.encoding=auto"), want, "auto reads the byte order mark");
    assert_eq!(lines(&d.join("be.log"), "unicode.encoding=auto"), want);
    // ログ行 / 二行目 in Shift_JIS.
    let sjis: &[u8] = b"\x83\x8d\x83\x4f\x8d\x73\n\x93\xf1\x8d\x73\x96\xda\n";
    std::fs::write(d.join("sjis.log"), sjis).expect("sjis");
    assert_eq!(
        lines(&d.join("sjis.log"), "generic.encoding=ShiftJIS"),
        vec!["ログ行".to_string(), "二行目".to_string()]
    );
    let _ = std::fs::remove_dir_all(&d);
}
