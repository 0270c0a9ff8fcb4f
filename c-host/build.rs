//! Compiles the C host into two executables (`flb-host`, `flb-host-asan`), the shim libraries both
//! load under --abi 5.1 (shim/NAME.c -> libflbhost_NAME.so, beside them), and the C test plugins
//! (tests/plugins/*.c; the tracer plugins of tests/fixtures are built by the tests) into .so files,
//! all in OUT_DIR, and exports their paths to the crate as compile-time env vars.
//!
//! Which sources and which flags come from `sources.mk`, the build definition `make host`
//! (host.mk) includes too: one list, one set of flags for both builds.
use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `NAME := words` assignments of sources.mk (a `\` at the end of a line continues it, `#`
/// starts a comment). Anything else is refused, so that the file stays what both builds read.
fn read_build_definition(path: &Path) -> BTreeMap<String, Vec<String>> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut vars = BTreeMap::new();
    let mut logical = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let (body, continued) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        logical.push_str(body);
        logical.push(' ');
        if continued {
            continue;
        }
        let stmt = std::mem::take(&mut logical);
        if stmt.trim().is_empty() {
            continue;
        }
        let (name, value) = stmt
            .split_once(":=")
            .unwrap_or_else(|| panic!("{}:{}: build.rs reads only `NAME := words` lines", path.display(), n + 1));
        assert!(
            !value.contains("$("),
            "{}:{}: build.rs does not expand make references; write the words out",
            path.display(),
            n + 1
        );
        vars.insert(name.trim().to_string(), value.split_whitespace().map(str::to_string).collect());
    }
    vars
}

fn words<'a>(vars: &'a BTreeMap<String, Vec<String>>, name: &str) -> &'a [String] {
    vars.get(name).unwrap_or_else(|| panic!("sources.mk does not define {name}"))
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => {
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == ext)).collect()
        }
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn run(mut cmd: Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run the C compiler for {what}: {e}"));
    assert!(status.success(), "C compile of {what} failed: {cmd:?}");
}

/// The C compiler cc-rs finds (CC, the target's default), with only the flags of sources.mk, as
/// `make` runs it.
fn compiler() -> Command {
    let tool = cc::Build::new().cargo_metadata(false).get_compiler();
    let mut cmd = Command::new(tool.path());
    for (k, v) in tool.get_envs() {
        cmd.env(k, v);
    }
    cmd
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let definition = manifest.join("sources.mk");
    let src_dir = manifest.join("src");
    let shim_dir = manifest.join("shim");
    let plugin_dir = manifest.join("tests").join("plugins");
    for p in [&definition, &src_dir, &shim_dir, &plugin_dir] {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
    let vars = read_build_definition(&definition);

    let sources: Vec<PathBuf> = words(&vars, "FLB_HOST_SRC_NAMES").iter().map(|n| src_dir.join(n)).collect();
    for f in files_with_ext(&src_dir, "c") {
        assert!(
            sources.contains(&f),
            "{} is not in FLB_HOST_SRC_NAMES of {}: list it there (make and cargo build from that list)",
            f.display(),
            definition.display()
        );
    }
    for f in sources.iter().chain(files_with_ext(&src_dir, "h").iter()) {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let cflags = words(&vars, "FLB_HOST_CFLAGS");
    let libs = words(&vars, "FLB_HOST_LIBS");

    // Next to both executables: the host finds them relative to /proc/self/exe.
    for name in words(&vars, "FLB_HOST_SHIM_NAMES") {
        let shim_src = shim_dir.join(format!("{name}.c"));
        let lib = format!("libflbhost_{name}.so");
        println!("cargo:rerun-if-changed={}", shim_src.display());
        let mut cmd = compiler();
        cmd.args(words(&vars, "FLB_HOST_SHIM_FLAGS")).arg("-o").arg(out.join(&lib)).arg(&shim_src);
        run(cmd, &lib);
    }

    let host = out.join("flb-host");
    let mut cmd = compiler();
    cmd.args(cflags).arg("-o").arg(&host).args(&sources).args(libs);
    run(cmd, "flb-host");

    let asan = out.join("flb-host-asan");
    let mut cmd = compiler();
    cmd.args(cflags).args(words(&vars, "FLB_HOST_ASAN_FLAGS")).arg("-o").arg(&asan).args(&sources).args(libs);
    run(cmd, "flb-host-asan");

    let plugins_out = out.join("plugins");
    fs::create_dir_all(&plugins_out).expect("create OUT_DIR/plugins");
    for f in files_with_ext(&plugin_dir, "h") {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    for f in files_with_ext(&plugin_dir, "c") {
        println!("cargo:rerun-if-changed={}", f.display());
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
        let so = plugins_out.join(format!("{stem}.so"));
        let mut cmd = compiler();
        cmd.args(words(&vars, "FLB_HOST_TEST_PLUGIN_FLAGS"))
            .arg("-o")
            .arg(&so)
            .arg(&f)
            .args(words(&vars, "FLB_HOST_TEST_PLUGIN_LIBS"));
        run(cmd, stem);
    }

    println!("cargo:rustc-env=FLB_HOST_BIN={}", host.display());
    println!("cargo:rustc-env=FLB_HOST_ASAN_BIN={}", asan.display());
    println!("cargo:rustc-env=FLB_TEST_PLUGIN_DIR={}", plugins_out.display());
}
