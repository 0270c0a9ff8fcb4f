//! Compiles the C host (src/*.c) into two executables, the shim libraries both load under --abi 5.1
//! (shim/exports.c -> libflbhost_exports.so and shim/configmap.c -> libflbhost_configmap.so,
//! beside them), and the C test plugins
//! (tests/plugins/*.c; the tracer plugins of tests/fixtures are built by the tests) into .so files,
//! all in OUT_DIR, and exports their paths to the crate as compile-time env vars.
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn c_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c" || x == "h"))
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn run(mut cmd: Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("cannot run the C compiler for {what}: {e}"));
    assert!(status.success(), "C compile of {what} failed: {cmd:?}");
}

fn compiler() -> Command {
    let mut b = cc::Build::new();
    b.cargo_metadata(false).warnings(false).opt_level(2).debug(true);
    b.get_compiler().to_command()
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let src_dir = manifest.join("src");
    let shim_dir = manifest.join("shim");
    let plugin_dir = manifest.join("tests").join("plugins");
    println!("cargo:rerun-if-changed={}", src_dir.display());
    println!("cargo:rerun-if-changed={}", shim_dir.display());
    println!("cargo:rerun-if-changed={}", plugin_dir.display());
    println!("cargo:rerun-if-changed=build.rs");

    let all = c_files(&src_dir);
    for f in &all {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let sources: Vec<&PathBuf> = all.iter().filter(|p| p.extension().is_some_and(|x| x == "c")).collect();
    let common = ["-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-pthread", "-rdynamic"];

    // Next to both executables: the host finds them relative to /proc/self/exe.
    for (src, lib) in [("exports.c", "libflbhost_exports.so"), ("configmap.c", "libflbhost_configmap.so")] {
        let shim_src = shim_dir.join(src);
        println!("cargo:rerun-if-changed={}", shim_src.display());
        let mut cmd = compiler();
        cmd.args(["-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-o"])
            .arg(out.join(lib))
            .arg(&shim_src);
        run(cmd, lib);
    }

    let host = out.join("flb-host");
    let mut cmd = compiler();
    cmd.args(common).arg("-o").arg(&host).args(&sources).args(["-ldl", "-lm"]);
    run(cmd, "flb-host");

    let asan = out.join("flb-host-asan");
    let mut cmd = compiler();
    cmd.args(common)
        .args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-DFLB_HOST_NO_INTERPOSE"])
        .arg("-o")
        .arg(&asan)
        .args(&sources)
        .args(["-ldl", "-lm"]);
    run(cmd, "flb-host-asan");

    let plugins_out = out.join("plugins");
    fs::create_dir_all(&plugins_out).expect("create OUT_DIR/plugins");
    for f in c_files(&plugin_dir) {
        println!("cargo:rerun-if-changed={}", f.display());
        if f.extension().is_some_and(|x| x != "c") {
            continue;
        }
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("plugin");
        let so = plugins_out.join(format!("{stem}.so"));
        let mut cmd = compiler();
        cmd.args(["-O1", "-g", "-shared", "-fPIC", "-Wall", "-Werror", "-o"])
            .arg(&so)
            .arg(&f)
            .args(["-lpthread", "-ldl"]);
        run(cmd, stem);
    }

    println!("cargo:rustc-env=FLB_HOST_BIN={}", host.display());
    println!("cargo:rustc-env=FLB_HOST_ASAN_BIN={}", asan.display());
    println!("cargo:rustc-env=FLB_TEST_PLUGIN_DIR={}", plugins_out.display());
}
