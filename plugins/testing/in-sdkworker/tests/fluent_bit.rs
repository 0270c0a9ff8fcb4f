//! Optional: the worker API in a real Fluent Bit (`FLUENT_BIT_BIN`, e.g. a 5.1.1 built outside the
//! checkout): with direct append, each source's records arrive under its own tag and route by
//! `Match`; without, under the instance tag. Prints `skipped` when the variable is unset.

use flb_host::{rust_plugin, s};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs Fluent Bit with `args` until stdout holds `lines` lines or 20 s pass, then SIGTERM.
fn fluent_bit(fb: &str, args: &[&str], lines: usize) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("flb-worker-{}-{lines}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let out_path = dir.join("stdout");
    let out = std::fs::File::create(&out_path).expect("stdout file");
    let child = Command::new(fb)
        .args(args)
        .env("FLUENT_BIT_VERSION", "5.1.1")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fluent-bit");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let n = std::fs::read_to_string(&out_path).map(|t| t.lines().count()).unwrap_or(0);
        if n >= lines {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let o = child.wait_with_output().expect("wait fluent-bit");
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (stdout, String::from_utf8_lossy(&o.stderr).into_owned())
}

fn per_tag(stdout: &str) -> BTreeMap<String, Vec<u64>> {
    let mut m: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for l in stdout.lines() {
        if let Some((tag, n)) = l.split_once(" n=") {
            m.entry(tag.to_string()).or_default().push(n.parse().unwrap_or(u64::MAX));
        }
    }
    m
}

#[test]
fn worker_records_reach_a_real_fluent_bit_under_their_tags() {
    let Ok(fb) = std::env::var("FLUENT_BIT_BIN") else {
        println!("skipped: FLUENT_BIT_BIN not set");
        return;
    };
    let (i, o) = (s(&rust_plugin("in-sdkworker", "in_sdkworker")), s(&rust_plugin("out-sdktest", "out_sdktest")));
    let common = ["-e", &i, "-e", &o, "-i", "sdkworker_in", "-p", "total=30000", "-p", "per_fill=1000"];

    let mut args = common.to_vec();
    args.extend_from_slice(&["-o", "sdktest_out", "-m", "worker.*", "-f", "1"]);
    let (stdout, stderr) = fluent_bit(&fb, &args, 30_000);
    let tags = per_tag(&stdout);
    assert_eq!(tags.keys().collect::<Vec<_>>(), ["worker.src0", "worker.src1", "worker.src2"], "{stderr}");
    for (tag, ns) in &tags {
        let src: u64 = tag.trim_start_matches("worker.src").parse().unwrap_or(u64::MAX);
        let mut u = ns.clone();
        u.sort_unstable();
        u.dedup();
        assert_eq!((u.len(), ns.len()), (10_000, 10_000), "{tag}: every record exactly once");
        assert!(ns.iter().all(|n| n % 3 == src), "{tag}");
    }
    assert!(stderr.contains("direct append on"), "{stderr}");
    assert!(stderr.contains("mismatches=0") && stderr.contains("worker_joined=true"), "{stderr}");

    let mut args = common.to_vec();
    args.extend_from_slice(&["-p", "direct=off", "-o", "sdktest_out", "-m", "*", "-f", "1"]);
    let (stdout, stderr) = fluent_bit(&fb, &args, 30_000);
    let tags = per_tag(&stdout);
    assert_eq!(tags.keys().collect::<Vec<_>>(), ["sdkworker_in.0"], "{stderr}");
    assert_eq!(tags["sdkworker_in.0"].len(), 30_000, "{stderr}");
    assert!(stderr.contains("mismatches=0") && stderr.contains("worker_joined=true"), "{stderr}");
}
