//! The FreeBSD CI files, which cannot run here: `.cirrus.yml` parses and
//! uses only keys Cirrus CI documents (its "Writing Tasks" guide: a task is
//! `task` or `NAME_task`; `name`, `matrix`, `freebsd_instance` with
//! `image_family`/`image`, `cpu`, `memory`, `disk`; `env`, `timeout_in`;
//! instructions `NAME_script`, `NAME_artifacts` with `path`, `always`), on
//! FreeBSD 14.x and 15.x images; the GitHub workflow runs a FreeBSD 14.x and
//! 15.x amd64 VM with vmactions/freebsd-vm and keeps the report whatever
//! happened (actionlint, in .ci/run, checks the rest of it); both run
//! `.ci/freebsd.sh`, which runs `cargo test` and the conformance command
//! as README gives it.

use yaml_rust2::{Yaml, YamlLoader};

fn load(path: &str) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(docs.len(), 1, "{path}: one document");
    docs.remove(0)
}

fn keys(y: &Yaml) -> Vec<String> {
    y.as_hash()
        .map(|h| h.keys().filter_map(|k| k.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Cirrus's documented task keys, and the instruction suffixes.
const CIRRUS_TASK_KEYS: &[&str] = &[
    "name",
    "matrix",
    "freebsd_instance",
    "env",
    "environment",
    "timeout_in",
    "always",
    "on_failure",
    "only_if",
    "skip",
    "depends_on",
    "allow_failures",
    "auto_cancellation",
];
const CIRRUS_SUFFIXES: &[&str] = &["_script", "_artifacts", "_cache", "_background_script"];
const CIRRUS_INSTANCE_KEYS: &[&str] =
    &["image_family", "image", "cpu", "memory", "disk", "platform"];

fn cirrus_key(k: &str) -> bool {
    CIRRUS_TASK_KEYS.contains(&k) || CIRRUS_SUFFIXES.iter().any(|s| k.ends_with(s))
}

#[test]
fn cirrus_file_parses_and_uses_documented_keys_on_freebsd_14_and_15() {
    let doc = load(".cirrus.yml");
    let tasks = keys(&doc);
    assert!(!tasks.is_empty());
    let mut families = Vec::new();
    for t in &tasks {
        assert!(t == "task" || t.ends_with("_task"), "{t}: not a task key");
        let task = &doc[t.as_str()];
        for k in keys(task) {
            assert!(cirrus_key(&k), "{t}: {k} is no key Cirrus documents");
        }
        let entries: Vec<&Yaml> = match task["matrix"].as_vec() {
            Some(v) => v.iter().collect(),
            None => vec![task],
        };
        for e in entries {
            for k in keys(e) {
                assert!(cirrus_key(&k), "{t}: matrix entry key {k}");
            }
            let inst = &e["freebsd_instance"];
            for k in keys(inst) {
                assert!(CIRRUS_INSTANCE_KEYS.contains(&k.as_str()), "{t}: freebsd_instance.{k}");
            }
            families.push(inst["image_family"].as_str().unwrap_or("").to_owned());
        }
        let scripts: Vec<String> =
            keys(task).into_iter().filter(|k| k.ends_with("_script")).collect();
        assert!(
            scripts.iter().any(|s| task[s.as_str()].as_str() == Some("sh .ci/freebsd.sh")),
            "{t}: no script runs .ci/freebsd.sh"
        );
        let always = &task["always"];
        let kept = keys(always).into_iter().any(|k| {
            k.ends_with("_artifacts")
                && always[k.as_str()]["path"].as_str() == Some("conformance-report.txt")
        });
        assert!(kept, "{t}: the report is not kept as an artefact under `always`");
    }
    assert!(families.iter().any(|f| f.starts_with("freebsd-14-")), "{families:?}");
    assert!(families.iter().any(|f| f.starts_with("freebsd-15-")), "{families:?}");
}

#[test]
fn github_workflow_runs_freebsd_14_and_15_amd64_and_keeps_the_report() {
    let doc = load(".github/workflows/freebsd.yml");
    let job = &doc["jobs"]["freebsd"];
    let releases: Vec<&str> = job["strategy"]["matrix"]["release"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(Yaml::as_str)
        .collect();
    assert!(releases.iter().any(|r| r.starts_with("14.")), "{releases:?}");
    assert!(releases.iter().any(|r| r.starts_with("15.")), "{releases:?}");
    let steps = job["steps"].as_vec().unwrap();
    let vm = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("vmactions/freebsd-vm@")))
        .expect("a vmactions/freebsd-vm step");
    assert_eq!(vm["with"]["run"].as_str(), Some("sh .ci/freebsd.sh"));
    assert_eq!(vm["with"]["arch"].as_str(), Some("x86_64"));
    let keep = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("actions/upload-artifact@")))
        .expect("an upload-artifact step");
    assert_eq!(keep["if"].as_str(), Some("always()"));
    assert_eq!(keep["with"]["path"].as_str(), Some("conformance-report.txt"));
}

/// Both CI files run the commands README gives a FreeBSD user.
#[test]
fn the_freebsd_script_runs_cargo_test_and_the_conformance_command() {
    let script = std::fs::read_to_string(".ci/freebsd.sh").unwrap();
    assert!(script.contains("run cargo test --locked\n"), "{script}");
    assert!(script
        .contains("cargo run --locked --example conformance -- --report conformance-report.txt"));
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(
        readme.contains("cargo run --locked --example conformance"),
        "README gives the command"
    );
}
