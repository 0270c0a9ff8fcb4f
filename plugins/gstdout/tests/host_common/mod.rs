//! What the flb-host tests of gstdout (host.rs, faults.rs) share: the plugin paths, the pipeline
//! they run, the summary line they read and the pipe fill they watch.

use flb_host::{rust_plugin, s, summary_fields};
use std::collections::BTreeMap;

pub fn gstdout() -> String {
    s(&rust_plugin("out-gstdout", "out_gstdout"))
}

pub fn sdktest_in() -> String {
    s(&rust_plugin("in-sdktest", "in_sdktest"))
}

/// sdktest_in (`records` per collect, tag `t`) into gstdout (`props`), then the host options.
pub fn pipeline_args(records: u64, props: &[&str], extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec!["-e".into(), sdktest_in(), "-e".into(), gstdout()];
    a.extend(["-i", "sdktest_in", "-t", "t", "-p"].map(String::from));
    a.push(format!("records={records}"));
    a.extend(["-o", "gstdout", "-m", "t"].map(String::from));
    for kv in props {
        a.push("-p".into());
        a.push((*kv).into());
    }
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

/// The summary fields of `instance`, asserted present.
pub fn summary(stderr: &str, instance: &str) -> BTreeMap<String, String> {
    let m = summary_fields(stderr, instance);
    assert!(m.contains_key("records"), "no summary line for {instance}:\n{stderr}");
    m
}

/// Bytes waiting in the pipe behind `fd` (-1 when unknown).
pub fn pipe_queued(fd: i32) -> i64 {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD stores one int through a valid pointer; fd is our open pipe end.
    let r = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut n as *mut libc::c_int) };
    if r == 0 {
        i64::from(n)
    } else {
        -1
    }
}
