//! Every `tests/scenarios/*.toml` runs on the simulated kernel, driven
//! through the generated devd rules exactly as devd would drive lagghook.

use std::path::{Path, PathBuf};

use lagghook::cli::simulate::run_scenario as run;
use lagghook::scenario::{render, Scenario, LAPTOP_DAY};

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
        // Issue 6: the livelock proptest found.
        "three-ports-join-during-order-repair",
        // Issue 8: a renamed vap, repaired on its RENAME; if_lagg not loaded.
        "renamed-vap",
        "lagg-module-missing",
        // Issue 8: what the kernel accepts and what a driver refuses.
        "vlan-port",
        "mtu-refused-by-driver",
        // Issue 7: reboots, a late radio, a resume that reloads the driver.
        "boot-seed-without-wlanaddr",
        "boot-undocked-then-dock",
        "boot-late-wifi-driver",
        "resume-reloads-wifi",
        // Issue 19: radio classes, the table's belief, a flapping station.
        "wifi-class-native",
        "wifi-class-while-down",
        "wifi-class-at-create",
        "wifi-class-unknown-driver",
        "wifi-class-table-wrong",
        "wifi-stale-wpa-flapping",
        "wifi-silent-wpa-flap-logged-once",
        // Issue 19.3: members' own MACs and MTUs.
        "member-mac-changed-by-hand",
        "mtu-on-a-port-after-it-joined",
        // Issue 19.4: rc as laptops write it.
        "boot-vap-renamed-by-ifconfig-name",
        "boot-real-laptop-rc-conf",
        "wifi-hotplug-ether-in-ifconfig-wlan0",
        // Issue 19.6: FreeBSD's own tests/sys/net/if_lagg_test.sh.
        "if_lagg_test-create",
        "if_lagg_test-set_ether",
        "if_lagg_test-updown",
        "if_lagg_test-destroy-with-ports",
        // Issue 20: moves between networks.
        "net-dock-undock-one-lan",
        "net-undock-to-cafe",
        "net-undock-wifi-elsewhere",
        "net-undock-wifi-elsewhere-arpsend-hook",
        "net-cafe-to-cafe-same-subnet",
        "net-wifi-extender",
        "net-captive-portal",
        "net-gateway-ignores-arp",
        "net-gateway-ignores-arp-keep",
        "net-vlan-dock-return",
        "net-ipv6-only",
        "net-resume-elsewhere",
        "net-slow-dhcp-cable-back",
        "net-flap-300ms",
        "net-check-off",
        "net-reboot-through-rc",
        "net-reboot-foreground-dhclient",
    ];
    for name in required {
        assert!(
            files.iter().any(|f| f.file_stem().is_some_and(|s| s == name)),
            "{name}.toml missing"
        );
    }
    // The built-in laptop's day (`lagghook simulate` without a file) too.
    let mut scenarios = vec![Scenario::parse(LAPTOP_DAY, "built-in").unwrap()];
    scenarios.extend(files.iter().map(|f| Scenario::load(f).unwrap()));
    let mut failed = Vec::new();
    for scenario in &scenarios {
        let report = run(scenario).unwrap();
        assert!(report.met() > 0, "{}: checks nothing", scenario.name);
        if report.failures() > 0 {
            failed.push(render(scenario, &report, true));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// A scenario header over the converged laptop machine.
fn base() -> String {
    let machine = include_str!("fixtures/machines/laptop.toml");
    format!("description = \"x\"\nconfig = \"\"\"\n[lagg0]\nports = [\"em0\", \"wlan0\"]\n\"\"\"\n{machine}")
}

#[test]
fn a_wrong_expectation_fails_and_is_named() {
    let text = format!(
        "{}\n[[step]]\ndo = \"unplug em0\"\n[step.expect]\nactive = {{ lagg0 = \"em0\" }}\n",
        base()
    );
    let scenario = Scenario::parse(&text, "inline").unwrap();
    let report = run(&scenario).unwrap();
    assert_eq!(report.failures(), 1);
    assert_eq!(report.steps[0].failed, ["expected active lagg0 = em0, found wlan0"]);
}

#[test]
fn a_missing_log_line_and_wrong_write_count_fail() {
    let text = format!(
        "{}\n[[step]]\ndo = \"plug em0\"\n[step.expect]\nlog = [\"no such line\"]\nwrites = 3\n",
        base()
    );
    let report = run(&Scenario::parse(&text, "inline").unwrap()).unwrap();
    assert_eq!(report.steps[0].failed.len(), 2, "{:?}", report.steps[0].failed);
}

#[test]
fn scenario_typos_are_rejected_with_a_position() {
    let text = format!(
        "{}\n[[step]]\ndo = \"unplug em0\"\n[step.expect]\nactiv = {{ lagg0 = \"em0\" }}\n",
        base()
    );
    let err = Scenario::parse(&text, "typo.toml").unwrap_err().to_string();
    assert!(err.starts_with("typo.toml:"), "{err}");
    assert!(err.contains("activ"), "{err}");
    let text = format!("{}\n[[step]]\ndo = \"explode em0\"\n", base());
    let err = Scenario::parse(&text, "bad.toml").unwrap_err().to_string();
    assert!(err.contains("explode"), "{err}");
}

/// Issue 7: a scenario's `rc_conf` is checked when the scenario loads; a
/// refusal names the line in the rc_conf text and the variable. Issue
/// 19.4: only what sh cannot read or the simulator cannot model is
/// refused; an address is what FreeBSD accepts.
#[test]
fn rc_conf_errors_name_their_line() {
    let text = |line: &str| {
        format!("rc_conf = \"\"\"\ncloned_interfaces=\"lagg0\"\n{line}\n\"\"\"\n{}", base())
    };
    let err = Scenario::parse(&text("ifconfig_em0='up $(ip)'"), "rc.toml").unwrap_err().to_string();
    assert!(err.starts_with("rc.toml: rc_conf line 2: ifconfig_em0: shell expansions"), "{err}");
    assert!(Scenario::parse(&text("ifconfig_em0=\"up inet 10.0.0.1\""), "rc.toml").is_ok());
}

/// Issue 7: the lagg MAC figure compares across a reboot with the address
/// before it: rc lines that add wlan0 (its factory MAC, no wlanaddr) first
/// give lagg0 a new address, which counts, and lagghook's putting em0's
/// back counts again (baseline: only the first). A resume runs lagghook
/// from rc.resume after devd read the resume's events; a baseline runs
/// nothing.
#[test]
fn a_reboot_that_changes_the_lagg_mac_counts_and_a_resume_runs_reconcile() {
    let rc = "rc_conf = \"\"\"\nwlans_iwn0=\"wlan0\"\nifconfig_wlan0=\"WPA\"\n\
              ifconfig_em0=\"up\"\ncloned_interfaces=\"lagg0\"\n\
              ifconfig_lagg0=\"up laggproto failover laggport wlan0 laggport em0\"\n\"\"\"\n";
    let text = format!("{rc}{}\n[[step]]\ndo = \"reboot\"\n\n[[step]]\ndo = \"resume\"\n", base());
    let scenario = Scenario::parse(&text, "inline").unwrap();
    let report = run(&scenario).unwrap();
    assert_eq!(report.steps[0].mac_changes, 2, "{}", render(&scenario, &report, true));
    assert!(report.steps[1]
        .dispatched
        .iter()
        .any(|d| d.ends_with("rc.resume: /usr/local/etc/rc.d/lagghook resume: lagghook resume")));
    let baseline = lagghook::cli::simulate::run_baseline(&scenario).unwrap();
    assert!(baseline.steps[1]
        .dispatched
        .iter()
        .any(|d| d
            .ends_with("rc.resume: /usr/local/etc/rc.d/lagghook resume: nothing (no lagghook)")));
    assert_eq!((baseline.steps[0].writes, baseline.steps[0].mac_changes), (0, 1));
}

/// Issue 20: an unknown network or BSS name, in the machine or in a step,
/// is an error naming its line; a step's later happenings come at their
/// `+Nms` offsets.
#[test]
fn network_names_are_checked_and_flaps_keep_their_offsets() {
    let net = "[[machine.network]]\nname = \"home\"\nsubnet = \"10.0.0.0/24\"\n\
               gateway = \"10.0.0.1\"\ngateway_mac = \"00:0d:b9:00:00:01\"\n";
    let machine = include_str!("fixtures/machines/laptop.toml");
    let head =
        "description = \"x\"\nconfig = \"\"\"\n[lagg0]\nports = [\"em0\", \"wlan0\"]\n\"\"\"\n";
    let text = format!(
        "{head}{net}{}",
        machine.replacen("link = true", "link = true\nnetwork = \"office\"", 1)
    );
    let err = Scenario::parse(&text, "n.toml").unwrap_err().to_string();
    let line = text[..text.find("network = \"office\"").unwrap()].matches('\n').count() + 1;
    assert!(err.starts_with(&format!("n.toml:{line}:")), "{err}");
    assert!(err.contains("unknown network \"office\""), "{err}");
    let text = format!("{head}{net}{machine}\n[[step]]\ndo = \"associate wlan0 bss=Nowhere\"\n");
    let err = Scenario::parse(&text, "b.toml").unwrap_err().to_string();
    let line = text.lines().count();
    assert!(err.starts_with(&format!("b.toml:{line}:")), "{err}");
    assert!(err.contains("unknown bss \"Nowhere\""), "{err}");
    let text = format!("{head}{net}{machine}\n[[step]]\ndo = \"unplug em0; +250ms plug em0\"\n");
    let scenario = Scenario::parse(&text, "flap.toml").unwrap();
    let report = run(&scenario).unwrap();
    let d = &report.steps[0].dispatched;
    assert!(d.iter().any(|l| l.starts_with("+0.0s") && l.contains("em0 type=LINK_DOWN")), "{d:?}");
    assert!(d.iter().any(|l| l.starts_with("+2.8s") && l.contains("em0 type=LINK_UP")), "{d:?}");
    for bad in [
        "unplug em0; plug em0",
        "unplug em0; +20s plug em0",
        "unplug em0; +9ms plug em0; +5ms unplug em0",
    ] {
        let text = format!("{head}{machine}\n[[step]]\ndo = \"{bad}\"\n");
        assert!(Scenario::parse(&text, "x.toml").is_err(), "{bad}");
    }
}

/// Issue 19.2: a world that retries for ever (a stale wpa_supplicant and
/// no lagghook) is followed to the horizon, its expectations checked, and
/// reported as flapping, not failed as unsettled; lagghook ends the
/// flapping at the first association, with far fewer devd events.
#[test]
fn issue19_a_flapping_baseline_is_reported_not_unsettled() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/wifi-stale-wpa-flapping.toml");
    let scenario = Scenario::load(&path).unwrap();
    let baseline = lagghook::cli::simulate::run_baseline(&scenario).unwrap();
    let step = &baseline.steps[0];
    assert!(!step.failed.iter().any(|f| f.contains("settle")), "{:?}", step.failed);
    assert_eq!(step.flapping, [lagghook::domain::model::IfName::new("wlan0").unwrap()]);
    assert!(step.failed.iter().any(|f| f.contains("flapping = false")), "{:?}", step.failed);
    let text = render(&scenario, &baseline, false);
    assert!(text.contains("flapping  wlan0: 7 LINK_UP in the step, still retrying"), "{text}");
    let with = run(&scenario).unwrap();
    assert!(with.steps[0].flapping.is_empty());
    assert_eq!((baseline.steps[0].events, with.steps[0].events), (28, 6));
    // Every lagg0 LINK_UP ran the stock dhclient rule.
    let dhclient = |r: &lagghook::scenario::Report| {
        r.steps[0]
            .dispatched
            .iter()
            .filter(|d| d.ends_with("service dhclient quietstart lagg0"))
            .count()
    };
    assert_eq!((dhclient(&baseline), dhclient(&with)), (7, 2));
}
