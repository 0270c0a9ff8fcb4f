//! Our Rust plugins through flb-host: every profile, the ASan build, and check mode. A package
//! that is not a workspace member fails the test. Under the ASan build any sanitizer report fails,
//! a LeakSanitizer report at exit included (nothing the plugins allocated may outlive `dlclose`;
//! c-host/lsan.supp names what of the host, ld.so or glibc is not counted, nothing of a plugin), and
//! LeakSanitizer is first proved to work ([`require_lsan`]). asan_plugins.rs runs every plugin's
//! check mode and more pipelines through the ASan build.

use flb_host::*;
use std::time::Duration;

/// (package, library, plugin name, is_input)
struct Plugin {
    pkg: &'static str,
    lib: &'static str,
    name: &'static str,
    /// properties for pipeline runs
    run_props: &'static [&'static str],
    /// properties for check mode
    check_props: &'static [&'static str],
}

const IN_SDKTEST: Plugin =
    Plugin { pkg: "in-sdktest", lib: "in_sdktest", name: "sdktest_in", run_props: &[], check_props: &[] };
const OUT_SDKTEST: Plugin =
    Plugin { pkg: "out-sdktest", lib: "out_sdktest", name: "sdktest_out", run_props: &[], check_props: &[] };
const IN_GDUMMY: Plugin = Plugin {
    pkg: "in-gdummy",
    lib: "in_gdummy",
    name: "gdummy",
    run_props: &["rate=20"],
    check_props: &["flush_on_startup=on"],
};
const OUT_GSTDOUT: Plugin =
    Plugin { pkg: "out-gstdout", lib: "out_gstdout", name: "gstdout", run_props: &[], check_props: &[] };

/// The release .so of a workspace plugin package (built on demand); a missing package is a failure.
fn plugin_so(pl: &Plugin) -> String {
    let dir = match pl.pkg {
        "in-gdummy" => "gdummy",
        "out-gstdout" => "gstdout",
        "in-sdktest" => "in-sdktest",
        "out-sdktest" => "out-sdktest",
        other => other,
    };
    if !rust_package_exists(dir) {
        panic!("package {} is not a workspace member", pl.pkg);
    }
    s(&rust_plugin(pl.pkg, pl.lib))
}

/// Every profile flb-host emulates.
const PROFILES: [&str; 5] = ["1.9", "2.0", "2.2", "4.1", "5.1"];

/// Fluent Bit before 2.1 decodes only legacy records `[time, {body}]`.
fn pre_2_1(abi: &str) -> bool {
    matches!(abi, "1.9" | "2.0")
}

/// Runs input -> output; under `asan`, through the ASan/UBSan build, where any sanitizer report
/// (a leak at exit included) fails.
fn pipeline(input: &Plugin, output: &Plugin, asan: bool, abi: &str) {
    let (i, o) = (plugin_so(input), plugin_so(output));
    let mut args: Vec<&str> = vec!["-e", &i, "-e", &o, "-i", input.name, "-t", "rs"];
    for kv in input.run_props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["-o", output.name, "-m", "rs"]);
    for kv in output.run_props {
        args.extend_from_slice(&["-p", kv]);
    }
    args.extend_from_slice(&["--interval", "0.1", "--flush", "0.2", "--duration", "1.0"]);
    args.extend_from_slice(&["--abi", abi]);
    // An ASan run checks leaks only where LeakSanitizer works: a missing one fails in CI.
    let run = if asan {
        require_lsan();
        run_asan(&args, &[], Duration::from_secs(60))
    } else {
        run_host(&args)
    };
    if let Some(report) = sanitizer_report(&run.stderr) {
        panic!("{} -> {} abi {abi}: sanitizer report:\n{report}\n\n{}", input.pkg, output.pkg, run.all());
    }
    assert_eq!(run.code, Some(0), "{} -> {} abi {abi}: {}", input.pkg, output.pkg, run.all());
    let m = summary_fields(&run.stderr, &format!("{}.0", output.name));
    assert!(field(&m, "records_ok") > 0, "{}", run.all());
    assert_eq!(field(&m, "errors"), 0, "{}", run.all());
    let m = summary_fields(&run.stderr, &format!("{}.0", input.name));
    assert_eq!(field(&m, "invalid"), 0, "{}", run.all());
}

/// Runs check mode; every check must pass, `all-freed` (zero bytes left after unload) included.
fn check(pl: &Plugin, abi: &str) {
    let so = plugin_so(pl);
    let mut args = vec!["check", &so, "--abi", abi];
    for kv in pl.check_props {
        args.extend_from_slice(&["-p", kv]);
    }
    let run = run_host(&args);
    assert!(matches!(run.code, Some(0 | 1)), "check {} crashed: {}", pl.pkg, run.all());
    let fails: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(fails.is_empty(), "check {} abi {abi}: {}", pl.pkg, run.all());
    assert!(run.stdout.contains("PASS all-freed:"), "check {} abi {abi}: {}", pl.pkg, run.all());
    assert_eq!(run.code, Some(0), "check {} abi {abi}: {}", pl.pkg, run.all());
}

#[test]
fn sdktest_pipeline_every_profile() {
    for abi in PROFILES {
        pipeline(&IN_SDKTEST, &OUT_SDKTEST, false, abi);
    }
}

/// Under the ASan build, every profile: no ASan or UBSan error, and nothing the Rust plugins
/// allocated outlives `dlclose` (a LeakSanitizer report at the host's exit fails).
#[test]
fn sdktest_pipeline_every_profile_asan() {
    for abi in PROFILES {
        pipeline(&IN_SDKTEST, &OUT_SDKTEST, true, abi);
    }
}

#[test]
fn sdktest_check_passes_with_zero_bytes_left_under_every_profile() {
    for abi in PROFILES {
        for pl in [&IN_SDKTEST, &OUT_SDKTEST] {
            check(pl, abi);
        }
    }
}

#[test]
fn gdummy_into_gstdout_every_profile() {
    for abi in PROFILES.into_iter().filter(|a| !pre_2_1(a)) {
        pipeline(&IN_GDUMMY, &OUT_GSTDOUT, false, abi);
    }
    pipeline(&IN_GDUMMY, &OUT_GSTDOUT, true, "5.1");
}

#[test]
fn gdummy_and_gstdout_check() {
    for abi in PROFILES {
        check(&OUT_GSTDOUT, abi);
        if !pre_2_1(abi) {
            check(&IN_GDUMMY, abi);
        }
    }
}

/// The SDK writes what the host reads: the legacy form `[t, {body}]` where the host may be older
/// than 2.1 (no pre-register hook came: 1.9, 2.0), the modern form with metadata from 2.2 on. The
/// host refuses modern records under 1.9/2.0, so records arriving there prove the legacy form; the
/// metadata gstdout prints tells the two apart (legacy records have none).
#[test]
fn old_profiles_get_legacy_records_and_new_ones_modern_records() {
    let (i, o) = (plugin_so(&IN_GDUMMY), plugin_so(&OUT_GSTDOUT));
    for abi in PROFILES {
        let spec = format!(
            "-i gdummy -p dummy={{\"m\":\"x\"}} -p metadata={{\"k\":1}} -p rate=5 -t rs -o gstdout -m rs \
             --interval 0.1 --flush 0.2 --duration 0.8 --abi {abi}"
        );
        let run = run_host_v(&host_args(&[&i, &o], &spec));
        assert_eq!(run.code, Some(0), "abi {abi}: {}", run.all());
        let m = summary_fields(&run.stderr, "gdummy.0");
        assert_eq!(field(&m, "invalid"), 0, "abi {abi}: {}", run.all());
        let records = field(&m, "records");
        assert!(records > 0, "abi {abi}: {}", run.all());
        let lines: Vec<&str> = run.stdout.lines().filter(|l| l.contains(" rs: ")).collect();
        assert_eq!(lines.len() as u64, records, "abi {abi}: every record printed: {}", run.all());
        let meta = if pre_2_1(abi) { r#", {}], {"m"=>"x"}]"# } else { r#", {"k"=>1}], {"m"=>"x"}]"# };
        assert!(lines.iter().all(|l| l.ends_with(meta)), "abi {abi}: expected {meta}: {}", run.stdout);
        // rate 5 with a collect every 0.1 s: half the collects are empty, and 2.0 still calls
        // cleanup after them (with NULL): quietly accepted, no warning.
        assert!(field(&m, "empty") > 0, "abi {abi}: {}", run.all());
        assert!(!run.stderr.contains("did not hand over"), "abi {abi}: {}", run.all());
        let m = summary_fields(&run.stderr, "all:");
        assert_eq!(field(&m, "live_bytes"), 0, "abi {abi}: {}", run.all());
    }
}
