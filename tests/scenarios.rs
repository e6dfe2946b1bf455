//! Every `tests/scenarios/*.toml` runs on the simulated kernel, driven
//! through the generated devd rules exactly as devd would drive lagghook.

use std::path::{Path, PathBuf};

use lagghook::scenario::{render, run, Scenario};

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_file_passes() {
    let files = scenario_files();
    let required = [
        "cable-out-and-back",
        "wifi-hotplug-factory-mac",
        "wifi-hotplug-wlanaddr",
        "usb-ether-replug",
        "boot-late-wifi",
        "lagg-missing",
        "unmanaged-nic",
        "laptop-day",
    ];
    for name in required {
        assert!(
            files.iter().any(|f| f.file_stem().is_some_and(|s| s == name)),
            "{name}.toml missing"
        );
    }
    let mut failed = Vec::new();
    for file in &files {
        let scenario = Scenario::load(file).unwrap();
        let report = run(&scenario).unwrap();
        assert!(report.met() > 0, "{}: checks nothing", file.display());
        if report.failures() > 0 {
            failed.push(render(&scenario, &report, true));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

const BASE: &str = r#"
description = "x"
config = """
[lagg0]
ports = ["em0", "wlan0"]
"""
[[machine.interface]]
name = "em0"
kind = "ether"
mac = "00:11:22:33:44:55"
link = true
[[machine.interface]]
name = "wlan0"
kind = "wlan"
parent = "iwn0"
mac = "00:11:22:33:44:55"
link = true
[[machine.interface]]
name = "lagg0"
kind = "lagg"
proto = "failover"
ports = ["em0", "wlan0"]
"#;

#[test]
fn a_wrong_expectation_fails_and_is_named() {
    let text = format!(
        "{BASE}\n[[step]]\ndo = \"unplug em0\"\n[step.expect]\nactive = {{ lagg0 = \"em0\" }}\n"
    );
    let scenario = Scenario::parse(&text, "inline").unwrap();
    let report = run(&scenario).unwrap();
    assert_eq!(report.failures(), 1);
    assert_eq!(report.steps[0].failed, ["expected active lagg0 = em0, found wlan0"]);
}

#[test]
fn a_missing_log_line_and_wrong_write_count_fail() {
    let text = format!(
        "{BASE}\n[[step]]\ndo = \"plug em0\"\n[step.expect]\nlog = [\"no such line\"]\nwrites = 3\n"
    );
    let report = run(&Scenario::parse(&text, "inline").unwrap()).unwrap();
    assert_eq!(report.steps[0].failed.len(), 2, "{:?}", report.steps[0].failed);
}

#[test]
fn scenario_typos_are_rejected_with_a_position() {
    let text = format!(
        "{BASE}\n[[step]]\ndo = \"unplug em0\"\n[step.expect]\nactiv = {{ lagg0 = \"em0\" }}\n"
    );
    let err = Scenario::parse(&text, "typo.toml").unwrap_err().to_string();
    assert!(err.starts_with("typo.toml:"), "{err}");
    assert!(err.contains("activ"), "{err}");
    let text = format!("{BASE}\n[[step]]\ndo = \"explode em0\"\n");
    let err = Scenario::parse(&text, "bad.toml").unwrap_err().to_string();
    assert!(err.contains("explode"), "{err}");
}
