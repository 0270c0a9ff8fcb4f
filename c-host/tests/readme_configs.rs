//! Every Fluent Bit config the READMEs show starts: classic blocks (`[INPUT]` ...) in flb-host's 5.1
//! profile when they use only our plugins, and every classic and YAML block in a real Fluent Bit
//! 5.1.1 when `FLUENT_BIT_BIN` is set, with `FLUENT_BIT_VERSION=5.1.1` as its official image sets
//! it, so our keys are checked by Fluent Bit itself: a key the README misspells fails here.
//!
//! Paths are moved into a temporary directory (`/opt/fluent-bit/plugins/` to our built plugins,
//! `/var/log/` and `/var/lib/fluent-bit/` to scratch directories), nothing else is changed.

use flb_host::*;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The READMEs whose config examples users copy.
const READMES: [&str; 4] =
    ["README.md", "plugins/gdummy/README.md", "plugins/gstdout/README.md", "plugins/gtail/README.md"];

#[derive(Debug)]
struct Block {
    readme: &'static str,
    line: usize,
    yaml: bool,
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.readme, self.line)
    }
}

/// The README section whose configs need the `kubernetes` filter, which starts only beside an API
/// server: plugins/gtail/tests/kubernetes.rs runs them, with the filter fed from files.
const KUBERNETES_SECTION: &str = "### Kubernetes: container logs";

/// Fenced blocks that are Fluent Bit configs: classic ones with a section header, YAML ones with a
/// `pipeline:`. A classic block holding only `[PLUGINS]` is the plugins file of the block after it.
fn blocks() -> Vec<Block> {
    let mut out = Vec::new();
    for readme in READMES {
        let text = std::fs::read_to_string(workspace_root().join(readme)).expect("readme");
        let mut lines = text.lines().enumerate();
        let mut kubernetes = false;
        while let Some((n, l)) = lines.next() {
            if l.starts_with('#') {
                kubernetes = l == KUBERNETES_SECTION || (kubernetes && l.starts_with("####"));
            }
            let Some(lang) = l.strip_prefix("```") else { continue };
            let mut body = String::new();
            for (_, b) in lines.by_ref() {
                if b.starts_with("```") {
                    break;
                }
                body.push_str(b);
                body.push('\n');
            }
            let classic = lang == "text" && ["[INPUT]", "[OUTPUT]", "[PLUGINS]"].iter().any(|s| body.contains(s));
            let yaml = lang == "yaml" && body.contains("pipeline:");
            if (classic || yaml) && !kubernetes {
                out.push(Block { readme, line: n + 1, yaml, text: body });
            }
        }
    }
    out
}

struct Scratch {
    dir: PathBuf,
    plugins: PathBuf,
}

/// A directory with our plugins under the names the READMEs use, and scratch log and db folders.
fn scratch(tag: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("flb-readme-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plugins = dir.join("plugins");
    for d in [&plugins, &dir.join("log/app"), &dir.join("lib")] {
        std::fs::create_dir_all(d).expect("scratch dir");
    }
    for (pkg, lib) in [("in-gdummy", "in_gdummy"), ("out-gstdout", "out_gstdout"), ("in-gtail", "in_gtail")] {
        std::os::unix::fs::symlink(rust_plugin(pkg, lib), plugins.join(format!("{lib}.so"))).expect("symlink");
    }
    std::fs::write(dir.join("log/app/a.log"), "hello\n").expect("log");
    Scratch { dir, plugins }
}

fn localise(text: &str, sc: &Scratch) -> String {
    text.replace("/opt/fluent-bit/plugins/", &format!("{}/", sc.plugins.display()))
        .replace("/var/lib/fluent-bit/", &format!("{}/lib/", sc.dir.display()))
        .replace("/var/log/", &format!("{}/log/", sc.dir.display()))
}

/// The config files to run: each config block, with the plugins file written beside it.
fn configs(sc: &Scratch) -> Vec<(String, PathBuf, bool)> {
    let mut out = Vec::new();
    for (i, b) in blocks().iter().enumerate() {
        let body = localise(&b.text, sc);
        if !b.yaml && body.contains("[PLUGINS]") && !body.contains("[INPUT]") {
            std::fs::write(sc.dir.join("plugins.conf"), body).expect("plugins.conf");
            continue;
        }
        let path = sc.dir.join(format!("c{i}.{}", if b.yaml { "yaml" } else { "conf" }));
        std::fs::write(&path, body).expect("config");
        out.push((b.at(), path, b.yaml));
    }
    out
}

/// Our plugins on the command line, for configs that do not load them themselves.
fn externals(sc: &Scratch) -> Vec<String> {
    ["in_gdummy", "out_gstdout", "in_gtail"]
        .iter()
        .flat_map(|l| ["-e".to_string(), sc.plugins.join(format!("{l}.so")).display().to_string()])
        .collect()
}

fn loads_plugins(path: &Path) -> bool {
    let t = std::fs::read_to_string(path).unwrap_or_default();
    t.contains("Plugins_File") || t.contains("plugins:")
}

/// The plugin names a config uses (`Name x` in classic, `name: x` in YAML), lowercased.
fn plugin_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace().filter(|w| *w != "-");
            let k = w.next()?.to_ascii_lowercase();
            (k == "name" || k == "name:").then(|| w.next().map(str::to_ascii_lowercase)).flatten()
        })
        .collect()
}

#[test]
fn the_readmes_show_configs_for_every_plugin() {
    let all = blocks();
    for name in ["gdummy", "gstdout", "gtail"] {
        assert!(
            all.iter().any(|b| plugin_names(&b.text).iter().any(|n| n == name)),
            "no config block uses {name}: {all:?}"
        );
    }
    assert!(all.iter().any(|b| b.yaml), "no YAML example");
}

#[test]
fn readme_classic_configs_of_our_plugins_start_in_flb_host() {
    let sc = scratch("host");
    let mut ran = 0;
    for (at, path, yaml) in configs(&sc) {
        let text = std::fs::read_to_string(&path).expect("config");
        // flb-host has our plugins only: a block with a native one (stdout, rewrite_tag) runs in
        // the real Fluent Bit test below.
        let native = plugin_names(&text).iter().any(|n| !["gdummy", "gstdout", "gtail"].contains(&n.as_str()));
        if yaml || native {
            continue;
        }
        let p = s(&path);
        let mut args: Vec<String> = if loads_plugins(&path) { Vec::new() } else { externals(&sc) };
        args.extend(["-c", &p, "--duration", "1.5", "--abi", "5.1"].map(String::from));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_with(&host_bin(), &refs, &[], Duration::from_secs(60));
        assert_eq!(run.code, Some(0), "{at}: {}\n{}", text, run.all());
        assert!(!run.stderr.contains("[error]"), "{at}: {}", run.all());
        ran += 1;
    }
    assert!(ran >= 2, "only {ran} README configs ran in flb-host");
}

#[test]
fn readme_configs_start_in_a_real_fluent_bit_when_available() {
    let Some(fb) = fluent_bit_bin() else {
        return;
    };
    let sc = scratch("fb");
    for (at, path, _yaml) in configs(&sc) {
        let mut args = if loads_plugins(&path) { Vec::new() } else { externals(&sc) };
        args.extend(["-c".to_string(), s(&path)]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ended =
            run_then_term(&fb, &args, &[("FLUENT_BIT_VERSION", "5.1.1")], Some(&sc.dir), Duration::from_secs(3));
        let (err, text) = (&ended.stderr, std::fs::read_to_string(&path).unwrap_or_default());
        assert!(!ended.by_itself, "{at}: Fluent Bit stopped by itself ({:?})\n{text}\n{err}", ended.code);
        assert_eq!(ended.code, Some(0), "{at}\n{text}\n{err}");
        assert!(!err.contains("[error]"), "{at}\n{text}\n{err}");
    }
}
