//! The identity file, as separate processes see it through `-k sim:PATH`:
//! `PATH.db` (what /var/db/lagghook/identity is on a real system) outlives
//! `PATH.state` (/var/run/lagghook/state, which rc empties at boot), so a
//! reboot keeps each lagg's identity; docking after an undocked boot does
//! not change the lagg's MAC; a corrupt file is rebuilt without a MAC
//! change, and said so once. A "reboot" here is what the simulator will do
//! for a `reboot` happening: delete `PATH.state`, and write the machine as
//! rc builds it from the lines `lagghook rc-conf` prints.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::support::{stderr, stdout, Sandbox};

/// A USB dock (ue0) preferred over wlan0; `mac` defaults to ue0.
const DOCK_CONFIG: &str = "[lagg0]\nports = [\"ue0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n";
/// The dock's hardware address, and the radio's factory address.
const UE0: &str = "00:11:22:33:44:55";
const FACTORY: &str = "00:24:d7:00:00:01";

fn ue0() -> String {
    format!(
        "[[machine.interface]]\nname = \"ue0\"\nkind = \"ether\"\nmac = \"{UE0}\"\nlink = true\n\n"
    )
}

/// wlan0 as rc creates it: with `wlanaddr` (`mac`) or its factory address.
fn wlan0(mac: &str) -> String {
    format!(
        "[[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\nparent = \"iwn0\"\n\
         mac = \"{mac}\"\nhwaddr = \"{FACTORY}\"\nwpa_mac = \"{mac}\"\nlink = true\n\n"
    )
}

/// lagg0 as `ifconfig_lagg0` builds it: ports added in this order.
fn lagg0(ports: &[&str]) -> String {
    let ports: Vec<String> = ports.iter().map(|p| format!("\"{p}\"")).collect();
    format!(
        "[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nproto = \"failover\"\n\
         ports = [{}]\n\n",
        ports.join(", ")
    )
}

fn ok(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}{}", stdout(&out), stderr(&out));
    stdout(&out)
}

/// `status`'s report, whatever its verdict (exit 0 converged, 1 degraded,
/// 2 offline: lagghook(8) EXIT STATUS).
fn status(sb: &Sandbox, args: &[&str]) -> String {
    let out = sb.run(args);
    assert!(matches!(out.status.code(), Some(0..=2)), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

fn json(sb: &Sandbox) -> serde_json::Value {
    let text = status(sb, &["-j", "status"]);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The `wlanaddr` `lagghook rc-conf` prints for wlan0, as rc would use it.
fn rc_wlanaddr(sb: &Sandbox) -> String {
    let text = ok(sb, &["rc-conf"]);
    let line = text.lines().find(|l| l.starts_with("create_args_wlan0=")).unwrap_or_else(|| {
        panic!("no create_args_wlan0 in {text}");
    });
    line.trim_start_matches("create_args_wlan0=\"wlanaddr ").trim_end_matches('"').to_owned()
}

/// A reboot: rc empties /var/run (`PATH.state`), /var/db (`PATH.db`)
/// stays, and the kernel comes up as rc.conf builds it.
fn reboot(sb: &Sandbox, machine: &str) {
    let _ = fs::remove_file(sb.path("kernel.toml.state"));
    sb.write("kernel.toml", machine);
}

/// Issue 7, point 4: booting undocked with no identity file, the lagg's
/// own MAC (wlan0's factory address) becomes the identity, provisional,
/// in `PATH.db` with mode 0600. Docking then does not change the lagg's
/// MAC: the dock joins carrying it. A reboot (state gone, the file kept,
/// rc adding the dock first) keeps the same identity, and rc-conf prints
/// it all along.
#[test]
fn issue7_booting_undocked_then_docking_and_rebooting_keeps_the_laggs_mac() {
    let sb = Sandbox::new("identity-undocked");
    sb.write("config.toml", DOCK_CONFIG);
    sb.write("kernel.toml", &format!("{}{}", wlan0(FACTORY), lagg0(&["wlan0"])));

    ok(&sb, &["reconcile"]);
    let db = sb.path("kernel.toml.db");
    let meta = fs::symlink_metadata(&db).expect("reconcile created PATH.db");
    assert!(meta.is_file());
    assert_eq!(meta.mode() & 0o777, 0o600);
    let stored = fs::read_to_string(&db).unwrap();
    assert!(
        stored.contains(&format!(
            "[lagg.lagg0]\nmac = \"{FACTORY}\"\nport = \"ue0\"\nprovisional = true\n"
        )),
        "{stored}"
    );
    let lagg = &json(&sb)["laggs"][0];
    assert_eq!((&lagg["mac"], &lagg["identity_source"]), (&FACTORY.into(), &"provisional".into()));
    assert_eq!(rc_wlanaddr(&sb), FACTORY);
    assert!(ok(&sb, &["rc-conf"]).contains("# lagg0's identity 00:24:d7:00:00:01 is provisional"));

    // The dock arrives.
    let machine = fs::read_to_string(sb.path("kernel.toml")).unwrap();
    sb.write("kernel.toml", &format!("{machine}\n{}", ue0()));
    ok(&sb, &["event", "IFNET", "ue0", "ATTACH"]);
    // ue0 joined down and came up; the swap waits for its LINK_UP, which
    // devd delivers once it has negotiated.
    ok(&sb, &["event", "IFNET", "ue0", "LINK_UP"]);
    let lagg = &json(&sb)["laggs"][0];
    assert_eq!(lagg["mac"], FACTORY, "docking changed the lagg's MAC");
    assert_eq!(lagg["primary"], "ue0");
    assert_eq!(lagg["identity_source"], "provisional");
    assert_eq!(lagg["identity_port_hwaddr"], UE0);
    let ports = lagg["ports"].as_array().unwrap();
    assert!(ports.iter().all(|p| p["mac"] == FACTORY), "{ports:?}");
    assert_eq!(fs::read_to_string(&db).unwrap(), stored, "the identity did not change");

    // Reboot, docked: rc adds ue0 first, so the kernel gives lagg0 ue0's
    // address; the identity kept in PATH.db wins.
    let wlanaddr = rc_wlanaddr(&sb);
    reboot(&sb, &format!("{}{}{}", ue0(), wlan0(&wlanaddr), lagg0(&["ue0", "wlan0"])));
    assert!(!sb.path("kernel.toml.state").exists());
    assert_eq!(json(&sb)["laggs"][0]["mac"], UE0, "rc's lagg0 before lagghook runs");
    ok(&sb, &["reconcile"]);
    let lagg = &json(&sb)["laggs"][0];
    assert_eq!(lagg["mac"], FACTORY, "the reboot lost the identity");
    assert_eq!(lagg["identity_source"], "provisional");
    assert_eq!(fs::read_to_string(&db).unwrap(), stored);
    assert!(sb.path("kernel.toml.state").exists(), "the volatile state is rebuilt");
}

/// Issue 7, point 4: with an identity file from an earlier docked run, an
/// undocked boot keeps the dock's address — even when rc created wlan0
/// with its factory address, which lagg0 then took — and docking changes
/// nothing. A converged run rewrites neither file.
#[test]
fn issue7_a_docked_runs_identity_survives_an_undocked_boot() {
    let sb = Sandbox::new("identity-docked");
    sb.write("config.toml", DOCK_CONFIG);
    sb.write("kernel.toml", &format!("{}{}{}", ue0(), wlan0(UE0), lagg0(&["ue0", "wlan0"])));
    ok(&sb, &["reconcile"]);
    let db = sb.path("kernel.toml.db");
    let stored = fs::read_to_string(&db).unwrap();
    assert!(stored.contains(&format!("mac = \"{UE0}\"\nport = \"ue0\"\nprovisional = false\n")));
    assert_eq!(rc_wlanaddr(&sb), UE0);

    for wlan_mac in [UE0, FACTORY] {
        reboot(&sb, &format!("{}{}", wlan0(wlan_mac), lagg0(&["wlan0"])));
        ok(&sb, &["reconcile"]);
        let lagg = &json(&sb)["laggs"][0];
        assert_eq!(lagg["mac"], UE0, "undocked boot with wlan0 on {wlan_mac}");
        assert_eq!(lagg["identity_source"], "stored");
        assert_eq!(fs::read_to_string(&db).unwrap(), stored);

        // Converged: a second run rewrites neither file (an atomic rewrite
        // would give each a new inode).
        let inodes = || {
            ["kernel.toml.state", "kernel.toml.db"].map(|f| fs::metadata(sb.path(f)).unwrap().ino())
        };
        // The repair brought wlan0 down and up: its LINK_UP is the last
        // event of the boot, and the run devd makes for it records it.
        ok(&sb, &["event", "IFNET", "wlan0", "LINK_UP"]);
        let before = inodes();
        ok(&sb, &["reconcile"]);
        assert_eq!(inodes(), before, "a converged run wrote a file");

        let machine = fs::read_to_string(sb.path("kernel.toml")).unwrap();
        sb.write("kernel.toml", &format!("{machine}\n{}", ue0()));
        ok(&sb, &["event", "IFNET", "ue0", "ATTACH"]);
        // ue0 joined down and came up; the swap waits for its LINK_UP, which
        // devd delivers once it has negotiated.
        ok(&sb, &["event", "IFNET", "ue0", "LINK_UP"]);
        let lagg = &json(&sb)["laggs"][0];
        assert_eq!((&lagg["mac"], &lagg["primary"]), (&UE0.into(), &"ue0".into()));
    }
}

/// A corrupt identity file is not fatal: the run warns once (one line,
/// naming the file and the line), keeps the address the busy lagg carries
/// as a provisional identity rather than switching to the dock's hardware
/// address, and rewrites the file, so the next run is silent.
#[test]
fn a_corrupt_identity_file_is_rebuilt_once_without_changing_the_laggs_mac() {
    let sb = Sandbox::new("identity-corrupt");
    sb.write("config.toml", DOCK_CONFIG);
    // Docked after an undocked boot: every port carries wlan0's address.
    let ue0_joined = format!(
        "[[machine.interface]]\nname = \"ue0\"\nkind = \"ether\"\nmac = \"{FACTORY}\"\n\
         hwaddr = \"{UE0}\"\nlink = true\n\n"
    );
    sb.write("kernel.toml", &format!("{}{ue0_joined}{}", wlan0(FACTORY), lagg0(&["wlan0", "ue0"])));
    sb.write("kernel.toml.db", "version = 1\n[lagg.lagg0]\nmac = \"00:11:22\"\n");
    fs::set_permissions(sb.path("kernel.toml.db"), fs::Permissions::from_mode(0o600)).unwrap();

    let status = status(&sb, &["status"]);
    assert!(status.contains("kernel.toml.db: line 3: "), "{status}");
    // Not converged (the dock joined behind wlan0): check's status is 1.
    let check = stdout(&sb.run(&["check"]));
    assert!(check.contains("; the next run rebuilds it"), "{check}");
    let rc_conf = ok(&sb, &["rc-conf"]);
    assert!(rc_conf.starts_with("# "), "{rc_conf}");
    assert!(rc_conf.lines().next().unwrap().ends_with("; identities recovered from the kernel"));
    assert!(rc_conf.contains(&format!("create_args_wlan0=\"wlanaddr {FACTORY}\"")), "{rc_conf}");

    let out = sb.run(&["-v", "reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("identities rebuilt")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(warnings[0].contains("kernel.toml.db: line 3: "), "{}", warnings[0]);
    let lagg = &json(&sb)["laggs"][0];
    assert_eq!(lagg["mac"], FACTORY, "a lost identity file switched the lagg's MAC");
    assert_eq!(lagg["identity_source"], "provisional");
    assert_eq!(lagg["identity_port_hwaddr"], UE0);

    let out = sb.run(&["-v", "reconcile"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("rebuilt"), "warned twice: {}", stderr(&out));
}

/// An identity file lagghook must not read stops `check` with a problem
/// (exit 1) that says what to do, and every other command with exit 3.
#[test]
fn check_reports_an_identity_file_every_run_would_refuse() {
    let sb = Sandbox::laptop("identity-check");
    let db = sb.path("kernel.toml.db");
    std::os::unix::fs::symlink(sb.path("kernel.toml"), &db).unwrap();
    let out = sb.run(&["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("kernel.toml.db: is a symbolic link, not a regular file; every run stops until it is removed"),
        "{}",
        stdout(&out)
    );
    for args in [&["reconcile"][..], &["status"], &["-n", "reconcile"], &["rc-conf"]] {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("is a symbolic link"), "{args:?}: {}", stderr(&out));
    }
}
