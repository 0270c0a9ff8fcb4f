//! Our Rust plugins through flb-host: every profile, the ASan build, and check mode.
//! Each test runs only when its workspace package exists (they are written concurrently);
//! otherwise it prints "skipped: ..." and passes.

use flb_host::*;
use std::time::Duration;

/// (package, library, plugin name, is_input)
struct Plugin {
    pkg: &'static str,
    lib: &'static str,
    name: &'static str,
}

const IN_SDKTEST: Plugin = Plugin { pkg: "in-sdktest", lib: "in_sdktest", name: "sdktest_in" };
const OUT_SDKTEST: Plugin = Plugin { pkg: "out-sdktest", lib: "out_sdktest", name: "sdktest_out" };
const IN_GDUMMY: Plugin = Plugin { pkg: "in-gdummy", lib: "in_gdummy", name: "gdummy" };
const OUT_GSTDOUT: Plugin = Plugin { pkg: "out-gstdout", lib: "out_gstdout", name: "gstdout" };

fn available(pl: &Plugin) -> Option<String> {
    let dir = match pl.pkg {
        "in-gdummy" => "gdummy",
        "out-gstdout" => "gstdout",
        other => other,
    };
    if !rust_package_exists(dir) {
        println!("skipped: package {} not in the workspace yet", pl.pkg);
        return None;
    }
    Some(s(&rust_plugin(pl.pkg, pl.lib)))
}

fn pipeline(input: &Plugin, output: &Plugin, asan: bool, abi: &str) {
    let (Some(i), Some(o)) = (available(input), available(output)) else {
        return;
    };
    let args = [
        "-e", &i, "-e", &o, "-i", input.name, "-t", "rs", "-o", output.name, "-m", "rs",
        "--interval", "0.1", "--flush", "0.2", "--duration", "1.0", "--abi", abi,
    ];
    let run = if asan {
        run_with(
            &host_asan_bin(),
            &args,
            &[("ASAN_OPTIONS", "detect_leaks=1:exitcode=23")],
            Duration::from_secs(60),
        )
    } else {
        run_host(&args)
    };
    assert_eq!(run.code, Some(0), "{} -> {} abi {abi}: {}", input.pkg, output.pkg, run.all());
    assert!(!run.stderr.contains("Sanitizer"), "{}", run.all());
    let m = summary_fields(&run.stderr, &format!("{}.0", output.name));
    assert!(field(&m, "records_ok") > 0, "{}", run.all());
    assert_eq!(field(&m, "errors"), 0, "{}", run.all());
    let m = summary_fields(&run.stderr, &format!("{}.0", input.name));
    assert_eq!(field(&m, "invalid"), 0, "{}", run.all());
}

fn check(pl: &Plugin, abi: &str) {
    let Some(so) = available(pl) else {
        return;
    };
    let run = run_host(&["check", &so, "--abi", abi]);
    assert_eq!(run.code, Some(0), "check {} abi {abi}: {}", pl.pkg, run.all());
}

#[test]
fn sdktest_pipeline_every_profile() {
    for abi in ["1.9", "2.2", "4.1", "5.1"] {
        pipeline(&IN_SDKTEST, &OUT_SDKTEST, false, abi);
    }
}

#[test]
fn sdktest_pipeline_every_profile_asan() {
    for abi in ["1.9", "2.2", "4.1", "5.1"] {
        pipeline(&IN_SDKTEST, &OUT_SDKTEST, true, abi);
    }
}

#[test]
fn sdktest_check_passes() {
    for abi in ["2.2", "5.1"] {
        check(&IN_SDKTEST, abi);
        check(&OUT_SDKTEST, abi);
    }
}

#[test]
fn gdummy_into_gstdout_every_profile() {
    for abi in ["1.9", "2.2", "4.1", "5.1"] {
        pipeline(&IN_GDUMMY, &OUT_GSTDOUT, false, abi);
    }
    pipeline(&IN_GDUMMY, &OUT_GSTDOUT, true, "5.1");
}

#[test]
fn gdummy_and_gstdout_check() {
    check(&IN_GDUMMY, "5.1");
    check(&OUT_GSTDOUT, "5.1");
}
