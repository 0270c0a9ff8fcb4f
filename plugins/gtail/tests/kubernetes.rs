//! The README's Kubernetes recipe ("Kubernetes: container logs"), its config blocks read from
//! README.md so the README cannot drift from what runs here.
//!
//! With `FLUENT_BIT_BIN` set (prints `skipped` otherwise): each of the four configs (classic and
//! YAML; per-file tags and `rewrite_tag`) passes `--dry-run` as written (only the plugin path
//! replaced), and runs on three container logs laid out as the kubelet lays them out, under a
//! `var/log/containers/` relative to Fluent Bit's working directory, so the tags are exactly the
//! ones a node gives (`kube.var.log.containers.<pod>_<namespace>_<container>-<id>.log`). Every line
//! arrives once, joined as written below, under its file's tag, and the same config with the native
//! `tail` gives the same records (timestamps included). Where this Fluent Bit has the `kubernetes`
//! filter (the official images do), it stays in the pipeline, fed pod metadata from files
//! (`Kube_Meta_Preload_Cache_Dir`) instead of an API server, and must name each record's pod,
//! namespace and container from the tag; where it has not, its section is taken out and the test
//! says so.
//!
//! Without `FLUENT_BIT_BIN`, flb-host (Fluent Bit's proxy ABI, `--no-direct-append` as a host
//! without `flb_input_log_append`) shows why the `rewrite_tag` variant exists: the per-file config
//! loses its tags there, and the `rewrite_tag` config's input gives the same records with or without
//! direct append.

mod common;

use common::{fb, gstdout_so, gtail_so, TempDir};
use flb_host::{host_bin, workspace_root};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SECTION: &str = "### Kubernetes: container logs";
/// What the README names, and what each test puts in its place.
const README_PLUGIN: &str = "/fluent-bit/plugins/in_gtail.so";
const README_LOGS: &str = "/var/log/containers/";
const README_STATE: &str = "/var/lib/fluent-bit/";

// ---------------------------------------------------------------------------------------------
// The README's blocks

#[derive(Debug, Clone)]
struct Config {
    /// e.g. `classic, rewrite_tag`: for messages.
    name: String,
    yaml: bool,
    rewrite: bool,
    text: String,
}

/// The section's fenced blocks: the classic plugins file, and the four configs.
fn readme() -> (String, Vec<Config>) {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let start = readme.find(SECTION).unwrap_or_else(|| panic!("README.md has no {SECTION:?}"));
    let rest = &readme[start + SECTION.len()..];
    let end = ["\n## ", "\n### "].iter().filter_map(|h| rest.find(h)).min().unwrap_or(rest.len());
    let mut plugins = None;
    let mut configs = Vec::new();
    let mut lines = rest[..end].lines();
    while let Some(l) = lines.next() {
        let Some(lang) = l.strip_prefix("```") else { continue };
        let body: String = lines.by_ref().take_while(|b| !b.starts_with("```")).map(|b| format!("{b}\n")).collect();
        let yaml = lang == "yaml";
        if !yaml && body.contains("[PLUGINS]") && !body.contains("[INPUT]") {
            plugins = Some(body);
        } else if (yaml && body.contains("pipeline:")) || (!yaml && body.contains("[INPUT]")) {
            let rewrite = body.contains("rewrite_tag");
            let name =
                format!("{}, {}", if yaml { "YAML" } else { "classic" }, if rewrite { "rewrite_tag" } else { "tags" });
            configs.push(Config { name, yaml, rewrite, text: body });
        }
    }
    let plugins = plugins.expect("the section's plugins.conf block");
    let kinds: Vec<(bool, bool)> = configs.iter().map(|c| (c.yaml, c.rewrite)).collect();
    assert_eq!(kinds, [(false, false), (true, false), (false, true), (true, true)], "the section's four configs");
    for c in &configs {
        for s in [README_LOGS, README_STATE, "kubernetes", "stdout"] {
            assert!(c.text.contains(s), "{}: no {s}:\n{}", c.name, c.text);
        }
        let plugin =
            if c.yaml { c.text.contains(README_PLUGIN) } else { c.text.contains("Plugins_File  plugins.conf") };
        assert!(plugin, "{}: does not load gtail:\n{}", c.name, c.text);
    }
    assert!(plugins.contains(README_PLUGIN), "{plugins}");
    (plugins, configs)
}

/// The `kubernetes` filter's section taken out (a Fluent Bit built without it).
fn without_kubernetes(text: &str, yaml: bool) -> String {
    if yaml {
        let lines: Vec<&str> = text.lines().collect();
        let Some(i) = lines.iter().position(|l| l.trim() == "- name: kubernetes") else { return text.into() };
        let indent = lines[i].len() - lines[i].trim_start().len();
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].len() - lines[j].trim_start().len() <= indent)
            .unwrap_or(lines.len());
        // A `filters:` left without an item goes too (YAML would read it as a scalar).
        let parent = i.checked_sub(1).filter(|&k| lines[k].trim() == "filters:");
        let lone = parent.filter(|&k| {
            lines
                .get(end)
                .is_none_or(|l| l.len() - l.trim_start().len() <= lines[k].len() - lines[k].trim_start().len())
        });
        lines[..lone.unwrap_or(i)].iter().chain(&lines[end..]).map(|l| format!("{l}\n")).collect()
    } else {
        let mut out = String::new();
        for section in text.split_inclusive('\n').fold(Vec::<String>::new(), |mut v, l| {
            if l.starts_with('[') || v.is_empty() {
                v.push(String::new());
            }
            if let Some(last) = v.last_mut() {
                last.push_str(l);
            }
            v
        }) {
            let is_kube = section.lines().any(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w.len() == 2 && w[0].eq_ignore_ascii_case("name") && w[1] == "kubernetes"
            });
            if !is_kube {
                out.push_str(&section);
            }
        }
        out
    }
}

/// Keys added to the `kubernetes` filter, after its name line with the same indentation: pod
/// metadata from files, and an API server URL nothing listens on (plain HTTP: no CA file needed).
fn kubernetes_offline(text: &str, yaml: bool, meta: &Path) -> String {
    let mut out = String::new();
    let mut added = false;
    for l in text.lines() {
        out.push_str(l);
        out.push('\n');
        let t = l.trim_start();
        let indent = &l[..l.len() - t.len()];
        if yaml && t == "- name: kubernetes" {
            out.push_str(&format!("{indent}  kube_url: http://127.0.0.1:1\n"));
            out.push_str(&format!("{indent}  kube_meta_preload_cache_dir: {}\n", meta.display()));
            added = true;
        } else if !yaml && t.split_whitespace().collect::<Vec<_>>() == ["Name", "kubernetes"] {
            out.push_str(&format!("{indent}Kube_URL  http://127.0.0.1:1\n"));
            out.push_str(&format!("{indent}Kube_Meta_Preload_Cache_Dir  {}\n", meta.display()));
            added = true;
        }
    }
    assert!(added, "no kubernetes filter to configure:\n{text}");
    out
}

/// `Name gtail` → `Name tail`: the same config with the native input.
fn with_native_tail(text: &str, yaml: bool) -> String {
    let mut n = 0;
    let out: String = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            let native = if yaml {
                (t == "- name: gtail").then(|| l.replacen("gtail", "tail", 1))
            } else {
                (t.split_whitespace().collect::<Vec<_>>() == ["Name", "gtail"]).then(|| l.replacen("gtail", "tail", 1))
            };
            n += usize::from(native.is_some());
            format!("{}\n", native.unwrap_or_else(|| l.to_string()))
        })
        .collect();
    assert_eq!(n, 1, "one gtail input:\n{text}");
    out
}

// ---------------------------------------------------------------------------------------------
// Fluent Bit

/// Whether this Fluent Bit build has the `kubernetes` filter (`-h` lists the plugins built in).
fn has_kubernetes_filter(fb: &str) -> bool {
    let o = Command::new(fb).arg("-h").output().expect("fluent-bit -h");
    let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    let has = text.lines().any(|l| l.split_whitespace().next() == Some("kubernetes"));
    if !has {
        println!("note: {fb} has no kubernetes filter: its section is taken out of the configs");
    }
    has
}

/// Writes `config` (and `plugins.conf`) into `dir` and runs Fluent Bit there, as its official image
/// does (`FLUENT_BIT_VERSION=5.1.1`), until `want` records reached stdout (or 60 s), then a quiet
/// two seconds for any record too many, then SIGTERM. Returns the record lines and stderr.
fn run_fb(fb: &str, dir: &Path, config: &str, yaml: bool, plugins: &str, want: usize) -> (Vec<String>, String) {
    let file = dir.join(if yaml { "fluent-bit.yaml" } else { "fluent-bit.conf" });
    std::fs::write(&file, config).expect("config");
    std::fs::write(dir.join("plugins.conf"), plugins).expect("plugins.conf");
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut child = Command::new(fb)
        .arg("-c")
        .arg(&file)
        .current_dir(dir)
        .env("FLUENT_BIT_VERSION", "5.1.1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("start fluent-bit");
    let records = || records(&std::fs::read_to_string(&out).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline && records().len() < want && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let status = child.wait().expect("wait fluent-bit");
    let err = std::fs::read_to_string(&err).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "fluent-bit exit\n{config}\n{err}");
    (records(), err)
}

/// The native `stdout` output's records without their `[N] ` index: `tag: [[time, {}], {..}]`. It
/// prints strings raw, so a `log` ending in a newline goes on over the next line.
fn records(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        let head = l.split_once("] ").filter(|(n, r)| {
            n.strip_prefix('[').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                && r.contains(": [[")
        });
        match (head, out.last_mut()) {
            (Some((_, r)), _) => out.push(r.to_string()),
            (None, Some(last)) => {
                last.push('\n');
                last.push_str(l);
            }
            (None, None) => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The node: three containers' logs, and their pods' metadata

struct Pod {
    pod: &'static str,
    namespace: &'static str,
    container: &'static str,
    /// 64 hex digits, as a container id is (the kubernetes filter's tag regex requires 64).
    id: String,
    /// The `app` label, only in the pod's metadata file: its presence shows the lookup worked.
    app: &'static str,
}

impl Pod {
    fn file_name(&self) -> String {
        format!("{}_{}_{}-{}.log", self.pod, self.namespace, self.container, self.id)
    }

    fn tag(&self) -> String {
        format!("kube.var.log.containers.{}", self.file_name())
    }
}

fn pods() -> [Pod; 3] {
    [
        Pod { pod: "web-7d9f8b6c5-x2x9z", namespace: "default", container: "web", id: "0a1b".repeat(16), app: "shop" },
        Pod { pod: "db-0", namespace: "prod", container: "postgres", id: "9f8e".repeat(16), app: "pg" },
        Pod {
            pod: "api-5c6d7f-qq8wp",
            namespace: "kube-system",
            container: "server",
            id: "3c4d".repeat(16),
            app: "api",
        },
    ]
}

/// The CRI and Docker lines each pod's file holds, as a runtime writes them: whole lines, lines the
/// runtime split (CRI `P` parts until an `F`; Docker pieces without a newline), stdout and stderr
/// interleaved, a JSON log, and a split whose end never comes (emitted after the flush timeout).
fn logs() -> [&'static str; 3] {
    [
        concat!(
            "2024-05-01T10:00:00.000000001Z stdout F seq=1 a whole line\n",
            "2024-05-01T10:00:01.100000000Z stdout P seq=2 first part, \n",
            "2024-05-01T10:00:01.200000000Z stdout P second part, \n",
            "2024-05-01T10:00:01.300000000Z stdout F last part\n",
            "2024-05-01T10:00:02.000000000Z stderr F {\"seq\":3,\"level\":\"warn\",\"msg\":\"json on stderr\"}\n",
            "2024-05-01T10:00:03.000000000Z stdout P seq=4 interleaved \n",
            "2024-05-01T10:00:03.100000000Z stderr F seq=5 stderr between the parts\n",
            "2024-05-01T10:00:03.200000000Z stdout F end of 4\n",
        ),
        concat!(
            "2024-05-01T11:00:00.500000000Z stdout F seq=6 from another pod\n",
            "2024-05-01T11:00:01.000000000Z stdout P seq=7 a part whose end never comes\n",
        ),
        concat!(
            "{\"log\":\"seq=8 docker line\\n\",\"stream\":\"stdout\",\"time\":\"2024-05-01T12:00:00.250000000Z\"}\n",
            "{\"log\":\"seq=9 split by \",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:01.000000000Z\"}\n",
            "{\"log\":\"the runtime\\n\",\"stream\":\"stderr\",\"time\":\"2024-05-01T12:00:01.000000100Z\"}\n",
        ),
    ]
}

/// Each record expected: (pod index, time as the stdout output prints it, a part of the record).
/// The JSON log is merged into the record by the `kubernetes` filter (`Merge_Log On`, `Keep_Log
/// Off`) when it runs, else kept whole under `log`.
fn expected(kube: bool) -> Vec<(usize, &'static str, &'static str)> {
    let json = if kube {
        r#""level"=>"warn", "msg"=>"json on stderr""#
    } else {
        r#""log"=>"{"seq":3,"level":"warn","msg":"json on stderr"}""#
    };
    vec![
        (0, "1714557600.000000001", r#""stream"=>"stdout", "_p"=>"F", "log"=>"seq=1 a whole line""#),
        (0, "1714557601.100000000", r#""log"=>"seq=2 first part, second part, last part""#),
        (0, "1714557602.000000000", json),
        (0, "1714557603.000000000", r#""log"=>"seq=4 interleaved end of 4""#),
        (0, "1714557603.100000000", r#""stream"=>"stderr", "_p"=>"F", "log"=>"seq=5 stderr between the parts""#),
        (1, "1714561200.500000000", r#""log"=>"seq=6 from another pod""#),
        (1, "1714561201.000000000", r#""log"=>"seq=7 a part whose end never comes""#),
        (2, "1714564800.250000000", "\"log\"=>\"seq=8 docker line\n\", \"stream\"=>\"stdout\""),
        (2, "1714564801.000000000", "\"log\"=>\"seq=9 split by the runtime\n\", \"stream\"=>\"stderr\""),
    ]
}

/// A pod object as the API server returns it, reduced to what the filter reads.
fn pod_meta(p: &Pod) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{pod}","namespace":"{ns}","uid":"00000000-0000-0000-0000-00000000000{n}","labels":{{"app":"{app}"}}}},"spec":{{"nodeName":"node-1","containers":[{{"name":"{c}","image":"registry.example/{c}:1.0"}}]}},"status":{{"containerStatuses":[{{"name":"{c}","containerID":"containerd://{id}","image":"registry.example/{c}:1.0","imageID":"registry.example/{c}@sha256:{id}"}}]}}}}"#,
        pod = p.pod,
        ns = p.namespace,
        n = p.pod.len() % 10,
        app = p.app,
        c = p.container,
        id = p.id,
    )
}

/// A fresh node under `dir`: the logs in `var/log/containers/`, the metadata files, a state dir.
fn node(dir: &Path) {
    let containers = dir.join("var/log/containers");
    for d in [&containers, &dir.join("meta"), &dir.join("lib")] {
        std::fs::create_dir_all(d).expect("node dir");
    }
    for (p, text) in pods().iter().zip(logs()) {
        std::fs::write(containers.join(p.file_name()), text).expect("log");
        std::fs::write(dir.join("meta").join(format!("{}_{}.meta", p.namespace, p.pod)), pod_meta(p)).expect("meta");
    }
}

/// The README config for a run in `dir`: gtail's path, the logs relative to `dir` (so the tags are
/// a node's), the state in `dir/lib/`, and the `kubernetes` filter offline or taken out.
fn localise(text: &str, yaml: bool, dir: &Path, kube: bool) -> String {
    let t = text
        .replace(README_PLUGIN, &gtail_so())
        .replace(README_LOGS, "var/log/containers/")
        .replace(README_STATE, &format!("{}/", dir.join("lib").display()));
    if kube {
        kubernetes_offline(&t, yaml, &dir.join("meta"))
    } else {
        without_kubernetes(&t, yaml)
    }
}

/// Every expected record exactly once under its pod's tag, nothing else; with the filter, each
/// record names its pod, namespace, container and id (from the tag) and the pod's label (from the
/// metadata file found by them).
fn assert_records(recs: &[String], kube: bool, ctx: &str) {
    let pods = pods();
    let want = expected(kube);
    for (i, time, part) in &want {
        let tag = pods[*i].tag();
        let head = format!("{tag}: [[{time}, {{}}], {{");
        let n = recs.iter().filter(|r| r.starts_with(&head) && r.contains(part)).count();
        assert_eq!(n, 1, "{ctx}: {part} at {time} under {tag}: {n} times in\n{}", recs.join("\n"));
    }
    assert_eq!(recs.len(), want.len(), "{ctx}: records\n{}", recs.join("\n"));
    if kube {
        for r in recs {
            let p = pods.iter().find(|p| r.starts_with(&format!("{}: ", p.tag()))).expect("a pod's tag");
            for part in [
                format!(r#""pod_name"=>"{}""#, p.pod),
                format!(r#""namespace_name"=>"{}""#, p.namespace),
                format!(r#""container_name"=>"{}""#, p.container),
                format!(r#""docker_id"=>"{}""#, p.id),
                format!(r#""labels"=>{{"app"=>"{}"}}"#, p.app),
            ] {
                assert!(r.contains(&part), "{ctx}: no {part} in {r}");
            }
        }
    }
}

/// The README config `i` with gtail, then with the native tail, each on a fresh node.
fn run_readme_config(i: usize) {
    let Some(fb) = fb() else { return };
    let kube = has_kubernetes_filter(&fb);
    let (plugins, configs) = readme();
    let c = &configs[i];
    let plugins = plugins.replace(README_PLUGIN, &gtail_so());
    let want = expected(kube).len();
    let mut by_input = BTreeMap::new();
    for input in ["gtail", "tail"] {
        let d = TempDir::new(&format!("k8s-{i}-{input}"));
        node(d.path());
        let mut config = localise(&c.text, c.yaml, d.path(), kube);
        if input == "tail" {
            config = with_native_tail(&config, c.yaml);
        }
        let (recs, err) = run_fb(&fb, d.path(), &config, c.yaml, &plugins, want);
        let ctx = format!("{} with {input}\n{config}\n{err}", c.name);
        assert_records(&recs, kube, &ctx);
        assert!(!err.contains("[error]"), "{ctx}");
        if input == "gtail" {
            assert!(!err.contains("[ warn] [input:gtail"), "gtail warned: {ctx}");
        }
        let mut sorted = recs;
        sorted.sort();
        by_input.insert(input, sorted);
    }
    assert_eq!(by_input["gtail"], by_input["tail"], "{}: gtail's records against the native tail's", c.name);
}

#[test]
fn readme_kubernetes_configs_pass_dry_run() {
    let Some(fb) = fb() else { return };
    let kube = has_kubernetes_filter(&fb);
    let (plugins, configs) = readme();
    let d = TempDir::new("k8s-dry-run");
    std::fs::write(d.path().join("plugins.conf"), plugins.replace(README_PLUGIN, &gtail_so())).expect("plugins");
    for c in &configs {
        let mut text = c.text.replace(README_PLUGIN, &gtail_so());
        if !kube {
            text = without_kubernetes(&text, c.yaml);
        }
        let file = d.path().join(if c.yaml { "c.yaml" } else { "c.conf" });
        std::fs::write(&file, &text).expect("config");
        let o = Command::new(&fb)
            .arg("--dry-run")
            .arg("-c")
            .arg(&file)
            .current_dir(d.path())
            .env("FLUENT_BIT_VERSION", "5.1.1")
            .stdin(Stdio::null())
            .output()
            .expect("fluent-bit --dry-run");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{}\n{text}\n{err}", c.name);
        assert!(err.contains("configuration test is successful"), "{}\n{err}", c.name);
    }
    // A misspelt key fails the same check, so the pass above means the keys were checked.
    let c = &configs[0];
    let typo = c.text.replace(README_PLUGIN, &gtail_so()).replace("Skip_Long_Lines", "Skip_Long_Line");
    std::fs::write(d.path().join("typo.conf"), without_kubernetes(&typo, false)).expect("config");
    let o = Command::new(&fb)
        .args(["--dry-run", "-c", "typo.conf"])
        .current_dir(d.path())
        .env("FLUENT_BIT_VERSION", "5.1.1")
        .output()
        .expect("fluent-bit --dry-run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "a misspelt gtail key passed --dry-run: {err}");
    assert!(err.contains("skip_long_line"), "{err}");
}

#[test]
fn readme_classic_config_with_per_file_tags_in_fluent_bit() {
    run_readme_config(0);
}

#[test]
fn readme_yaml_config_with_per_file_tags_in_fluent_bit() {
    run_readme_config(1);
}

#[test]
fn readme_classic_config_with_rewrite_tag_in_fluent_bit() {
    run_readme_config(2);
}

#[test]
fn readme_yaml_config_with_rewrite_tag_in_fluent_bit() {
    run_readme_config(3);
}

// ---------------------------------------------------------------------------------------------
// Without direct append (flb-host)

/// The `[SERVICE]` and `[INPUT]` sections of a classic README config, localised, with gstdout
/// (whose default format prints records as the native `stdout` does) as the output.
fn input_only(text: &str, dir: &Path) -> String {
    let t = localise(text, false, dir, false);
    let mut out = String::new();
    let mut keep = false;
    for l in t.lines() {
        if l.starts_with('[') {
            keep = l == "[SERVICE]" || l == "[INPUT]";
        }
        if keep && !l.trim_start().starts_with("Plugins_File") {
            out.push_str(l);
            out.push('\n');
        }
    }
    out + "\n[OUTPUT]\n    Name   gstdout\n    Match  *\n"
}

/// flb-host runs `config` in `dir` until the 9 records were acknowledged (or 60 s).
fn run_host_config(dir: &Path, config: &str, direct: bool) -> (Vec<String>, String) {
    let file = dir.join("host.conf");
    std::fs::write(&file, config).expect("config");
    let (i, o, f) = (gtail_so(), gstdout_so(), flb_host::s(&file));
    let mut args = vec!["-e", &i, "-e", &o, "-c", &f, "--max-records", "9", "--duration", "60"];
    if !direct {
        args.push("--no-direct-append");
    }
    // In `dir`: the config's path is relative to it.
    let o = Command::new(host_bin()).args(&args).current_dir(dir).stdin(Stdio::null()).output().expect("flb-host");
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr).into_owned());
    assert_eq!(o.status.code(), Some(0), "{config}\n{stdout}\n{stderr}");
    let mut recs = records(&stdout);
    recs.sort();
    (recs, stderr)
}

#[test]
fn without_direct_append_only_the_rewrite_tag_variant_keeps_the_files_apart() {
    let (_, configs) = readme();
    let pods = pods();

    // Per-file tags need direct append: without it, every record is under the instance tag `kube.*`
    // (the kubernetes filter would find no pod in it), and gtail says what to do.
    let d = TempDir::new("k8s-host-tags");
    node(d.path());
    let (recs, err) = run_host_config(d.path(), &input_only(&configs[0].text, d.path()), false);
    assert_eq!(recs.len(), 9, "{}\n{err}", recs.join("\n"));
    assert!(recs.iter().all(|r| r.starts_with("kube.*: [[")), "{}", recs.join("\n"));
    assert!(err.contains("rewrite_tag"), "gtail does not point to rewrite_tag: {err}");

    // The rewrite_tag variant's input: the same records with and without direct append, under its
    // plain tag, each with the path rewrite_tag turns into the file's tag.
    let mut runs = Vec::new();
    for direct in [true, false] {
        let d = TempDir::new(&format!("k8s-host-rewrite-{direct}"));
        node(d.path());
        let (recs, err) = run_host_config(d.path(), &input_only(&configs[2].text, d.path()), direct);
        assert_eq!(recs.len(), 9, "direct append {direct}: {}\n{err}", recs.join("\n"));
        for p in &pods {
            let file = format!(r#""file"=>"var/log/containers/{}""#, p.file_name());
            let n = recs.iter().filter(|r| r.starts_with("containers: [[") && r.contains(&file)).count();
            let want = expected(false).iter().filter(|(i, _, _)| pods[*i].pod == p.pod).count();
            assert_eq!(n, want, "direct append {direct}: {file}\n{}", recs.join("\n"));
        }
        assert!(!err.contains("warn"), "direct append {direct}: {err}");
        runs.push(recs);
    }
    assert_eq!(runs[0], runs[1], "the rewrite_tag variant's input with and without direct append");
}
