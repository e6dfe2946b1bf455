//! Issue 10's doctor and devd points through the binary: `check` against
//! simulated broken laptops, each with its own files (`[machine.files]`),
//! and `simulate -c`.
//!
//! Every broken laptop is the good one ([`Laptop::good`]: converged, every
//! file as `lagghook rc-conf`, `devd-conf` and the Handbook would have it)
//! with one thing changed, so each test proves that one trap is found, and
//! the good one proves that nothing else is.

use std::collections::BTreeMap;
use std::path::Path;

use lagghook::domain::config::Config;

use crate::support::{lagghook, stderr, stdout, Sandbox};

const E: &str = "00:11:22:33:44:55";
const CONFIG: &str = "[lagg0]\nports = [\"em0\", \"wlan0\"]\nwlan.wlan0.parent = \"iwn0\"\n";
const NETWORK: &str = "/etc/rc.conf.d/network";
const DEVD_RULES: &str = "/usr/local/etc/devd/lagghook.conf";

/// em0 and wlan0 (on iwn0, em0's address) in lagg0, the sysctl as
/// configured: nothing for a reconcile to do.
fn converged_machine() -> String {
    let laptop = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/machines/laptop.toml"),
    )
    .unwrap();
    format!("[machine]\nfailover_rx_all = 1\n\n{laptop}")
}

/// A laptop to check: its configuration, machine and files. tests/status.rs
/// judges the same laptops.
#[derive(Clone)]
pub(crate) struct Laptop {
    pub(crate) config: String,
    pub(crate) machine: String,
    pub(crate) files: BTreeMap<String, String>,
}

impl Laptop {
    /// Converged, and every file right: `check` finds nothing.
    pub(crate) fn good() -> Laptop {
        let network = format!(
            "cloned_interfaces=\"lagg0\"\nifconfig_em0=\"ether {E} up\"\nwlans_iwn0=\"wlan0\"\n\
             create_args_wlan0=\"wlanaddr {E} country DE\"\nifconfig_wlan0=\"WPA\"\n\
             ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"\n"
        );
        let mut laptop =
            Laptop { config: CONFIG.into(), machine: converged_machine(), files: BTreeMap::new() };
        laptop = laptop
            .file(
                "/etc/rc.conf",
                "hostname=\"laptop\"\nkld_list=\"if_iwn fusefs\"\nlagghook_enable=\"YES\"\n\
                 background_dhclient=\"YES\"\n",
            )
            // Issue 20: no 2 s hold of a DHCP offer on lagg0.
            .file(
                "/etc/dhclient-enter-hooks",
                "[ \"$reason\" = ARPSEND ] && [ \"$interface\" = lagg0 ] && exit_status=1\n",
            )
            .file(NETWORK, &network)
            .file(
                "/etc/wpa_supplicant.conf",
                "ctrl_interface=/var/run/wpa_supplicant\nnetwork={\n\tssid=\"home\"\n\tpsk=\"secret\"\n}\n",
            )
            .file("/etc/devd.conf", lagghook::devd::DEVD_CONF)
            .file("/etc/rc.d/wpa_supplicant", "#!/bin/sh\n")
            // What `make install` puts there; a simulated machine's file
            // is root's and runnable, whatever its text.
            .file("/usr/local/libexec/lagghook-devd", "")
            .file("/usr/local/etc/rc.d/lagghook", "#!/bin/sh\n");
        laptop.rules()
    }

    /// lagghook's rules as `devd-conf` prints them for the configuration.
    fn rules(self) -> Laptop {
        let config = Config::parse(&self.config, Path::new("config.toml")).unwrap();
        let rules = lagghook::devd::rules_for(&config, lagghook::devd::PROGRAM);
        self.file(DEVD_RULES, &rules)
    }

    pub(crate) fn file(mut self, path: &str, text: &str) -> Laptop {
        self.files.insert(path.into(), text.into());
        self
    }

    pub(crate) fn without(mut self, path: &str) -> Laptop {
        self.files.remove(path);
        self
    }

    /// `text` with `from` replaced by `to` in file `path`, which must hold it.
    fn edit(mut self, path: &str, from: &str, to: &str) -> Laptop {
        let text = self.files.get_mut(path).unwrap();
        assert!(text.contains(from), "{path} has no {from:?}");
        *text = text.replace(from, to);
        self
    }

    /// A sandbox holding it: `config.toml`, and `kernel.toml` with its
    /// files (none, when it has none).
    pub(crate) fn sandbox(&self, name: &str) -> Sandbox {
        let sb = Sandbox::new(name);
        sb.write("config.toml", &self.config);
        let files = match self.files.is_empty() {
            true => String::new(),
            false => toml::to_string(&BTreeMap::from([(
                "machine",
                BTreeMap::from([("files", self.files.clone())]),
            )]))
            .unwrap(),
        };
        sb.write("kernel.toml", &format!("{}\n{files}", self.machine));
        sb
    }

    /// Runs `check` on it: the exit status and standard output.
    fn check(&self, name: &str) -> (Option<i32>, String) {
        let sb = self.sandbox(&format!("doctor-{name}"));
        let out = sb.run(&["check"]);
        assert_eq!(stderr(&out), "", "{name}");
        (out.status.code(), stdout(&out))
    }
}

/// The lines of `out` that start with `prefix`.
fn lines<'a>(out: &'a str, prefix: &str) -> Vec<&'a str> {
    out.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// Asserts exactly one TRAP line, that it starts with `what` and has a
/// fix, and that the status is 1.
fn one_trap(name: &str, laptop: &Laptop, what: &str) -> String {
    let (code, out) = laptop.check(name);
    assert_eq!(code, Some(1), "{name}:\n{out}");
    let traps = lines(&out, "TRAP: ");
    assert_eq!(traps.len(), 1, "{name}:\n{out}");
    assert!(traps[0].starts_with(&format!("TRAP: {what}")), "{name}:\n{out}");
    assert!(traps[0].contains("; fix: "), "{name}:\n{out}");
    assert!(!out.contains("configuration OK"), "{name}:\n{out}");
    traps[0].to_owned()
}

/// The good laptop passes: converged, no trap, no advice.
#[test]
fn issue10_check_passes_a_good_laptop_with_status_0() {
    let (code, out) = Laptop::good().check("good");
    assert_eq!((code, out.as_str()), (Some(0), "configuration OK\n"));
}

/// Not converged: each change a reconcile would make is a `would:` line,
/// and the status is 1 (the machine is the laptop after a WiFi card
/// reset: wlan0 outside lagg0 with its factory address).
#[test]
fn issue10_check_lists_the_changes_a_reconcile_would_make() {
    let mut laptop = Laptop::good();
    laptop.machine =
        format!("[machine]\nfailover_rx_all = 1\n\n{}", crate::support::MACHINE_WLAN_OUT);
    let (code, out) = laptop.check("would");
    assert_eq!(code, Some(1), "{out}");
    let would = lines(&out, "would: ");
    assert!(would.contains(&format!("would: ifconfig wlan0 ether {E}").as_str()), "{out}");
    assert!(would.contains(&"would: ifconfig lagg0 laggport wlan0"), "{out}");
    assert!(lines(&out, "TRAP: ").is_empty(), "{out}");
}

/// Every round a reconcile would make is listed, not just the first:
/// the later ones as `-n` predicts them, marked `would (predicted):`.
/// Both laptops need two rounds: with the wrong primary (wlan0 added
/// first), wlan0 leaves in the first and is added back, behind em0, in
/// the second; without lagg0, the first creates it and the second adds
/// the ports, which only then can be added.
#[test]
fn issue10_check_lists_every_round_later_ones_predicted() {
    let mut wrong = Laptop::good();
    wrong.machine =
        wrong.machine.replace("ports = [\"em0\", \"wlan0\"]", "ports = [\"wlan0\", \"em0\"]");
    let (code, out) = wrong.check("rounds-primary");
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        lines(&out, "would"),
        [
            "would: ifconfig lagg0 -laggport wlan0",
            "would (predicted): ifconfig wlan0 down",
            "would (predicted): ifconfig lagg0 laggport wlan0",
            "would (predicted): ifconfig wlan0 up",
        ],
        "{out}"
    );
    assert!(lines(&out, "TRAP: ").is_empty(), "{out}");

    let mut none = Laptop::good();
    let at = none.machine.find("[[machine.interface]]\nname = \"lagg0\"").unwrap();
    none.machine.truncate(at);
    let (code, out) = none.check("rounds-no-lagg");
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        lines(&out, "would"),
        [
            "would: ifconfig lagg0 create",
            "would: ifconfig lagg0 up",
            "would (predicted): ifconfig lagg0 laggport em0",
            "would (predicted): ifconfig wlan0 down",
            "would (predicted): ifconfig lagg0 laggport wlan0",
            "would (predicted): ifconfig wlan0 up",
        ],
        "{out}"
    );
    assert!(lines(&out, "TRAP: ").is_empty(), "{out}");
    // The same rounds as `-n` prints, in the same order.
    let sb = Sandbox::new("rounds-dry-run");
    sb.write("config.toml", &none.config);
    sb.write("kernel.toml", &none.machine);
    let dry = stdout(&sb.run(&["-n", "reconcile"]));
    let commands: Vec<&str> = dry.lines().filter(|l| !l.starts_with('#')).collect();
    let listed: Vec<&str> =
        lines(&out, "would").iter().map(|l| l.split_once(": ").unwrap().1).collect();
    assert_eq!(commands, listed, "{dry}");
}

#[test]
fn issue10_check_finds_the_wifi_driver_missing_from_kld_list() {
    let missing = Laptop::good().edit("/etc/rc.conf", "kld_list=\"if_iwn fusefs\"\n", "");
    let trap = one_trap(
        "kld",
        &missing,
        "iwn0's driver is not loaded at boot: if_iwn is neither in kld_list",
    );
    assert!(trap.contains("(boot race; if iwn is compiled into the kernel"), "{trap}");
    assert!(trap.ends_with("fix: sysrc -f /etc/rc.conf kld_list+=if_iwn"), "{trap}");
    // Any of the places the loader or rc.d/kld read does.
    for (path, text) in [
        ("/boot/loader.conf", "if_iwn_load=\"YES\"\n"),
        ("/etc/rc.conf.d/kld", "kld_list=\"${kld_list} if_iwn\"\n"),
        ("/usr/local/etc/rc.conf.d/kld/wifi", "kld_list=\"/boot/kernel/if_iwn.ko\"\n"),
    ] {
        let (code, out) = missing_with(&missing, path, text).check("kld-ok");
        assert_eq!(code, Some(0), "{path}:\n{out}");
    }
}

fn missing_with(laptop: &Laptop, path: &str, text: &str) -> Laptop {
    Laptop {
        config: laptop.config.clone(),
        machine: laptop.machine.clone(),
        files: laptop.files.clone(),
    }
    .file(path, text)
}

#[test]
fn issue10_check_finds_dhcp_on_a_member() {
    let on_em0 = Laptop::good().edit(
        NETWORK,
        &format!("ifconfig_em0=\"ether {E} up\""),
        "ifconfig_em0=\"SYNCDHCP\"",
    );
    let trap = one_trap(
        "dhcp",
        &on_em0,
        "ifconfig_em0=\"SYNCDHCP\" (in /etc/rc.conf.d/network): DHCP on em0, a port of lagg0",
    );
    assert!(trap.ends_with("fix: sysrc -f /etc/rc.conf.d/network ifconfig_em0=\"up\""), "{trap}");
    // ifconfig_DEFAULT counts for a port without its own line.
    let default = Laptop::good()
        .edit(NETWORK, &format!("ifconfig_em0=\"ether {E} up\"\n"), "")
        .file("/etc/rc.conf.local", "ifconfig_DEFAULT=\"DHCP\"\n");
    one_trap(
        "dhcp-default",
        &default,
        "ifconfig_DEFAULT=\"DHCP\" (in /etc/rc.conf.local), which em0 takes for want of ifconfig_em0: DHCP on em0",
    );
}

#[test]
fn issue10_check_finds_wlanaddr_missing_different_or_unseen_by_pccard_ether() {
    let missing = Laptop::good().edit(NETWORK, &format!("wlanaddr {E} "), "");
    let trap = one_trap(
        "wlanaddr-missing",
        &missing,
        "create_args_wlan0=\"country DE\" (in /etc/rc.conf.d/network) has no wlanaddr",
    );
    assert!(
        trap.ends_with(&format!(
            "fix: sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country DE\""
        )),
        "{trap}"
    );
    let other =
        Laptop::good().edit(NETWORK, &format!("wlanaddr {E}"), "wlanaddr 00:24:d7:00:00:01");
    let trap = one_trap(
        "wlanaddr-other",
        &other,
        "create_args_wlan0=\"wlanaddr 00:24:d7:00:00:01 country DE\" (in /etc/rc.conf.d/network): \
         wlanaddr 00:24:d7:00:00:01 is not lagg0's identity MAC 00:11:22:33:44:55",
    );
    assert!(
        trap.ends_with(&format!(
            "fix: sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country DE\""
        )),
        "{trap}"
    );
    // In rc.conf.d/netif only: boot has it, a card's return does not.
    let line = format!("create_args_wlan0=\"wlanaddr {E} country DE\"\n");
    let netif_only = Laptop::good().edit(NETWORK, &line, "").file("/etc/rc.conf.d/netif", &line);
    let trap = one_trap(
        "wlanaddr-netif",
        &netif_only,
        "create_args_wlan0=\"wlanaddr 00:11:22:33:44:55 country DE\" (in /etc/rc.conf.d/netif): only rc.d/netif reads it",
    );
    assert!(
        trap.ends_with(&format!(
            "fix: sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country DE\" && \
             sysrc -f /etc/rc.conf.d/netif -x create_args_wlan0"
        )),
        "{trap}"
    );
}

#[test]
fn issue10_check_finds_wpa_supplicant_conf_missing_or_without_ctrl_interface() {
    let path = "/etc/wpa_supplicant.conf";
    one_trap("wpa-missing", &Laptop::good().without(path), &format!("{path}: missing"));
    let without = Laptop::good().edit(path, "ctrl_interface=/var/run/wpa_supplicant\n", "");
    let trap = one_trap("wpa-no-ctrl", &without, &format!("{path}: no ctrl_interface"));
    assert!(trap.ends_with("fix: add ctrl_interface=/var/run/wpa_supplicant at its top"), "{trap}");
    let elsewhere =
        Laptop::good().edit(path, "=/var/run/wpa_supplicant", "=DIR=/tmp/wpa GROUP=wheel");
    one_trap("wpa-elsewhere", &elsewhere, &format!("{path}: ctrl_interface is /tmp/wpa"));
    // rc.d/wpa_supplicant's own configuration names the file to read.
    let moved = Laptop::good().file(
        "/etc/rc.conf.d/wpa_supplicant",
        "wpa_supplicant_conf_file=\"/usr/local/etc/wpa.conf\"\n",
    );
    one_trap("wpa-moved", &moved, "/usr/local/etc/wpa.conf: missing");
    // An open network (no WPA in ifconfig_wlan0) needs no wpa_supplicant.
    let open = Laptop::good().without(path).edit(
        NETWORK,
        "ifconfig_wlan0=\"WPA\"",
        "ifconfig_wlan0=\"up ssid cafe\"",
    );
    assert_eq!(open.check("wpa-open").0, Some(0));
}

/// No country or regdomain in the vap's create_args, as rc reads it, is a
/// trap (issue 10: "no regulatory domain/country where the radio needs
/// one"): rc creates the vap in the radio's default domain. One in
/// ifconfig_wlan0 is legal FreeBSD (issue 19.5): no trap.
#[test]
fn issue10_check_finds_no_regulatory_domain_in_create_args() {
    let none = Laptop::good().edit(NETWORK, " country DE", "");
    let trap = one_trap(
        "regdomain",
        &none,
        &format!(
            "create_args_wlan0=\"wlanaddr {E}\" (in /etc/rc.conf.d/network) has no country or \
             regdomain: rc creates wlan0 in its radio's default regulatory domain"
        ),
    );
    assert!(trap.contains("only you know the country: in the fix, put its ISO 3166 code"));
    assert!(
        trap.ends_with(&format!(
            "fix: sysrc -f /etc/rc.conf.d/network create_args_wlan0=\"wlanaddr {E} country XX\""
        )),
        "{trap}"
    );
    // In ifconfig_wlan0, rc sets it right after creating the vap, which
    // FreeBSD accepts (issue 19.5): nothing to report.
    for words in ["WPA regdomain ETSI", "WPA country DE"] {
        let there = none.clone().edit(
            NETWORK,
            "ifconfig_wlan0=\"WPA\"",
            &format!("ifconfig_wlan0=\"{words}\""),
        );
        assert_eq!(there.check("regdomain-ifconfig"), (Some(0), "configuration OK\n".to_owned()));
    }
    // regdomain alone is enough, as country is.
    let regdomain = Laptop::good().edit(NETWORK, " country DE", "").edit(
        NETWORK,
        &format!("wlanaddr {E}\""),
        &format!("wlanaddr {E} regdomain ETSI\""),
    );
    assert_eq!(regdomain.check("regdomain-ok"), (Some(0), "configuration OK\n".to_owned()));
    // The fix's placeholder, applied as it is, is reported as one.
    let placeholder = Laptop::good().edit(NETWORK, "country DE", "country XX");
    let trap = one_trap(
        "regdomain-xx",
        &placeholder,
        &format!(
            "create_args_wlan0=\"wlanaddr {E} country XX\" (in /etc/rc.conf.d/network): \
             country XX is the placeholder of check's fix, not a country"
        ),
    );
    assert!(trap.ends_with("fix: put your country's ISO 3166 code (regdomain(5)) in place of XX in create_args_wlan0"), "{trap}");
}

#[test]
fn issue10_check_finds_an_mtu_a_vap_cannot_take() {
    let mut jumbo = Laptop::good();
    jumbo.machine =
        jumbo.machine.replace("proto = \"failover\"", "proto = \"failover\"\nmtu = 9000");
    one_trap(
        "mtu-kernel",
        &jumbo,
        "lagg0: MTU 9000 is above the 2290 a wlan vap accepts: wlan0 cannot join it",
    );
    let rc = Laptop::good().edit(NETWORK, "laggport wlan0 DHCP", "laggport wlan0 mtu 9000 DHCP");
    let trap = one_trap(
        "mtu-rc",
        &rc,
        "ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 mtu 9000 DHCP\"",
    );
    assert!(trap.contains(
        "mtu 9000 is above the 2290 a wlan vap accepts: after boot wlan0 cannot join lagg0"
    ));
}

/// 3 ports: lagg falls back in interface index order (wlan0 attached
/// before ue0), not in the configured ue0, wlan0.
#[test]
fn issue10_check_finds_a_backup_order_lagg_does_not_follow() {
    let mut three = Laptop::good();
    three.config = CONFIG.replace("\"em0\", \"wlan0\"", "\"em0\", \"ue0\", \"wlan0\"");
    three.machine = three.machine.replace(
        "[[machine.interface]]\nname = \"lagg0\"",
        "[[machine.interface]]\nname = \"ue0\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:66\"\nlink = true\n\n\
         [[machine.interface]]\nname = \"lagg0\"",
    );
    three.machine = three
        .machine
        .replace("ports = [\"em0\", \"wlan0\"]", "ports = [\"em0\", \"wlan0\", \"ue0\"]");
    let three = three.rules();
    let trap = one_trap(
        "backup",
        &three,
        "lagg0: when em0 fails, lagg(4) falls back to wlan0, ue0 in that order",
    );
    assert!(trap.contains("not to ue0, wlan0 as configured"), "{trap}");
    assert!(
        trap.contains(
            "fix: list the ports in lagg's order (ports = [\"em0\", \"wlan0\", \"ue0\"])"
        ),
        "{trap}"
    );
    // In lagg's order, nothing to say.
    let mut ordered = Laptop {
        config: three.config.replace("\"ue0\", \"wlan0\"", "\"wlan0\", \"ue0\""),
        ..three
    };
    ordered = ordered.rules();
    assert_eq!(ordered.check("backup-ok").0, Some(0));
}

#[test]
fn issue10_check_finds_if_lagg_not_loadable() {
    let mut locked = Laptop::good();
    locked.machine = format!(
        "[machine]\nif_lagg = false\nsecurelevel = 1\n\n{}",
        crate::support::MACHINE_WLAN_OUT
            .replace("ports = [\"em0\"]", "")
            .replace("kind = \"lagg\"\nproto = \"failover\"", "kind = \"other\"")
    );
    let (code, out) = locked.check("if_lagg");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("TRAP: if_lagg: not loaded, and not loadable: kern.securelevel is 1"),
        "{out}"
    );
    assert!(
        out.contains("fix: load it before the securelevel rises: if_lagg_load=\"YES\""),
        "{out}"
    );
}

/// devd: lagghook's rules missing or stale, and rules of other files for
/// the same events: higher priority (that file wins), the same priority
/// in /etc/devd (read first: it wins) or in lagghook's own directory
/// (order undefined), lower priority (its action is lost); an
/// unparsable file is a warning naming it.
#[test]
fn issue10_check_finds_devd_rules_missing_stale_or_competing() {
    one_trap(
        "devd-missing",
        &Laptop::good().without(DEVD_RULES),
        &format!("{DEVD_RULES}: missing"),
    );
    let stale = Laptop::good().edit(DEVD_RULES, "notify 150", "notify 100");
    one_trap("devd-stale", &stale, &format!("{DEVD_RULES}: differs from `lagghook devd-conf`"));
    one_trap(
        "devd-conf-missing",
        &Laptop::good().without("/etc/devd.conf"),
        "/etc/devd.conf: missing",
    );

    let rule = |priority: u32, kind: &str| {
        format!(
            "notify {priority} {{\n\tmatch \"system\" \"IFNET\";\n\tmatch \"subsystem\" \"em0\";\n\
             \tmatch \"type\" \"{kind}\";\n\taction \"/usr/local/bin/hook $subsystem\";\n}};\n"
        )
    };
    let higher = Laptop::good().file("/usr/local/etc/devd/vpn.conf", &rule(200, "LINK_UP"));
    let trap = one_trap(
        "devd-higher",
        &higher,
        "/usr/local/etc/devd/vpn.conf:1: notify 200 matches em0 LINK_UP above lagghook's priority 150: \
         /usr/local/etc/devd/vpn.conf wins",
    );
    assert!(trap.ends_with("fix: give it a priority below 150, or end its action with `; /usr/local/libexec/lagghook-devd event $system $subsystem $type`"), "{trap}");
    let first = Laptop::good().file("/etc/devd/carp.conf", &rule(150, "LINK_DOWN"));
    one_trap(
        "devd-tie-first",
        &first,
        "/etc/devd/carp.conf:1: notify 150 matches em0 LINK_DOWN at lagghook's priority: devd reads \
         /etc/devd/carp.conf first, so it wins",
    );
    let same_dir = Laptop::good().file("/usr/local/etc/devd/carp.conf", &rule(150, "ATTACH"));
    one_trap(
        "devd-tie-readdir",
        &same_dir,
        "/usr/local/etc/devd/carp.conf:1: notify 150 matches em0 ATTACH at lagghook's priority, in the \
         same directory: order undefined (readdir)",
    );
    let lower = Laptop::good().file("/usr/local/etc/devd/carp.conf", &rule(30, "LINK_DOWN"));
    one_trap(
        "devd-shadowed",
        &lower,
        "/usr/local/etc/devd/carp.conf:1: notify 30 matches em0 LINK_DOWN: lagghook's rules (priority 150) \
         outrank it, so its action no longer runs",
    );
    // A stray copy of lagghook's rules ties; whichever devd picks runs
    // lagghook, so it is advice to remove it, not a trap.
    let copy = Laptop::good()
        .file("/usr/local/etc/devd/lagghook-old.conf", &Laptop::good().files[DEVD_RULES]);
    let (code, out) = copy.check("devd-copy");
    assert_eq!(code, Some(0), "{out}");
    assert!(lines(&out, "TRAP: ").is_empty(), "{out}");
    let warns = lines(&out, "WARN: ");
    assert!(!warns.is_empty() && warns.iter().all(|w| w.contains("runs lagghook too")
        && w.ends_with(&format!("advice: if it is a copy of lagghook's rules, remove /usr/local/etc/devd/lagghook-old.conf: they belong in {DEVD_RULES} alone"))), "{out}");
    // The outranking rule above, chained to lagghook as its trap advises, is
    // no trap any more.
    let chained = Laptop::good().file(
        "/usr/local/etc/devd/vpn.conf",
        &rule(200, "LINK_UP").replace(
            "/usr/local/bin/hook $subsystem",
            "/usr/local/bin/hook $subsystem; /usr/local/libexec/lagghook-devd event $system $subsystem $type",
        ),
    );
    let (code, out) = chained.check("devd-chained");
    assert_eq!(code, Some(0), "{out}");
    assert!(lines(&out, "TRAP: ").is_empty(), "{out}");
    // Unparsable: a warning naming the file; the status is unchanged, and
    // files that are not *.conf are not read, as devd does not.
    let broken = Laptop::good()
        .file("/usr/local/etc/devd/broken.conf", "notify 0 {\n")
        .file("/usr/local/etc/devd/notes.txt", "notify 0 {\n");
    let (code, out) = broken.check("devd-unparsable");
    assert_eq!(code, Some(0), "{out}");
    let warn = lines(&out, "WARN: ");
    assert_eq!(warn.len(), 1, "{out}");
    assert!(
        warn[0].starts_with("WARN: /usr/local/etc/devd/broken.conf: does not parse: line 1: "),
        "{out}"
    );
    assert!(
        warn[0].contains("; advice: devd refuses to start on a file it cannot parse either"),
        "{out}"
    );
}

/// Issue 10, point 11: `simulate -c FILE` plays the scenario with FILE's
/// configuration instead of its own. The built-in laptop's day with a
/// configuration that leaves wlan0 out keeps lagg0 on em0 alone, so the
/// expectations about wlan0 fail (exit 1), and the run says which
/// configuration it used.
#[test]
fn simulate_runs_the_scenario_with_the_configuration_given_by_c() {
    let sb = Sandbox::new("simulate-c");
    let config = sb.write("mine.toml", "[lagg0]\nports = [\"em0\"]\n");
    let own = lagghook(&["simulate"], &sb.path("log.sock"));
    assert_eq!(own.status.code(), Some(0), "{}", stderr(&own));
    let mine =
        lagghook(&["-c".as_ref(), config.as_os_str(), "simulate".as_ref()], &sb.path("log.sock"));
    assert_eq!(mine.status.code(), Some(1), "{}", stdout(&mine));
    assert!(stdout(&mine).contains("laggport: em0 flags=5<MASTER,ACTIVE>"), "{}", stdout(&mine));
    assert!(!stdout(&mine).contains("laggport: wlan0"), "{}", stdout(&mine));
    let first = format!("configuration: {} (instead of the scenario's own)\n", config.display());
    assert!(stdout(&mine).starts_with(&first), "{}", stdout(&mine));
    // After the command word, as people type it.
    let after =
        lagghook(&["simulate".as_ref(), "-c".as_ref(), config.as_os_str()], &sb.path("log.sock"));
    assert_eq!(stdout(&after), stdout(&mine));
}

/// lagghook(8) documents what `check` prints and reads: the line formats
/// (DESCRIPTION, "Traps" and COMMANDS), each file it reads (FILES), and
/// what its exit statuses mean (EXIT STATUS).
#[test]
fn issue10_lagghook_8_documents_the_doctor() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("man/lagghook.8"))
            .unwrap();
    for macro_line in [
        ".Ss Traps",
        ".Ql would: Ar command ,",
        ".Ql TRAP\\&: Ar what is wrong ; No fix\\&: Ar what to do ,",
        ".Ql WARN\\&: Ar what ; No advice\\&: Ar what to do ,",
        ".It Pa /etc/rc.conf",
        ".It Pa /etc/rc.conf.local",
        ".It Pa /etc/rc.conf.d/",
        ".It Pa /usr/local/etc/rc.conf.d/",
        ".It Pa /boot/loader.conf",
        ".It Pa /etc/wpa_supplicant.conf",
        ".It Pa /etc/devd.conf",
        ".It Pa /etc/devd/",
        "listed a change a reconcile would make or a trap",
        "Their priority is 150,",
    ] {
        assert!(
            page.lines().any(|l| l.starts_with(macro_line)),
            "lagghook(8) lacks {macro_line:?}"
        );
    }
    assert_eq!(lagghook::devd::PRIORITY, 150);
}

/// The kernel's traps besides those above, each with its fix: a lagg name
/// taken by another kind of interface, a port another lagg holds, a port
/// lagg refuses.
#[test]
fn issue10_check_finds_laggs_and_ports_the_kernel_will_not_take() {
    let traps_of = |name: &str, laptop: &Laptop| -> Vec<String> {
        let (code, out) = laptop.check(name);
        assert_eq!(code, Some(1), "{name}:\n{out}");
        lines(&out, "TRAP: ").into_iter().map(str::to_owned).collect()
    };
    let mut other = Laptop::good();
    other.machine = other.machine.replace(
        "name = \"lagg0\"\nkind = \"lagg\"\nproto = \"failover\"\nports = [\"em0\", \"wlan0\"]",
        "name = \"lagg0\"\nkind = \"other\"",
    );
    let traps = traps_of("not-a-lagg", &other);
    assert!(
        traps.contains(&"TRAP: lagg0: exists but is not a lagg (kind other); fix: rename or destroy that interface, or configure another lagg name".to_owned()),
        "{traps:?}"
    );
    let mut held = Laptop::good();
    held.machine = held.machine.replace("ports = [\"em0\", \"wlan0\"]", "ports = [\"em0\"]")
        + "\n[[machine.interface]]\nname = \"lagg1\"\nkind = \"lagg\"\nports = [\"wlan0\"]\n";
    let traps = traps_of("held", &held);
    assert!(
        traps.contains(&"TRAP: wlan0: is a port of lagg1, not lagg0; fix: ifconfig lagg1 -laggport wlan0, or configure it in lagg1".to_owned()),
        "{traps:?}"
    );
    let mut tun = Laptop::good();
    tun.config = CONFIG.replace("\"em0\", \"wlan0\"", "\"em0\", \"wlan0\", \"tun0\"");
    tun.machine += "\n[[machine.interface]]\nname = \"tun0\"\nkind = \"other\"\n";
    let traps = traps_of("tun", &tun.rules());
    assert!(
        traps.contains(&"TRAP: tun0: is not an Ethernet, vlan or wlan interface; lagg refuses it; fix: remove tun0 from the ports of lagg0".to_owned()),
        "{traps:?}"
    );
}

/// devd.conf that does not read lagghook's directory is a trap; a file
/// that cannot be read (here a directory where wpa_supplicant.conf
/// should be) is a warning naming it, and does not change the status.
#[test]
fn issue10_check_finds_devd_not_reading_lagghooks_directory_and_warns_of_unreadable_files() {
    let no_dir =
        Laptop::good().edit("/etc/devd.conf", "\tdirectory \"/usr/local/etc/devd\";\n", "");
    let trap = one_trap(
        "devd-no-dir",
        &no_dir,
        "/etc/devd.conf: no `directory \"/usr/local/etc/devd\"` option: devd never reads /usr/local/etc/devd/lagghook.conf",
    );
    assert!(trap.ends_with(
        "fix: add `directory \"/usr/local/etc/devd\";` to its options block, as FreeBSD's has"
    ));
    let unreadable = Laptop::good()
        .without("/etc/wpa_supplicant.conf")
        .file("/etc/wpa_supplicant.conf/oops", "");
    let (code, out) = unreadable.check("unreadable");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        lines(&out, "WARN: "),
        ["WARN: cannot read /etc/wpa_supplicant.conf: is a directory, not a regular file; advice: its ctrl_interface was not checked"],
        "{out}"
    );
}

/// rc.conf.d/NAME may be a directory of files, read in name order, as
/// load_rc_config does; a directory inside it is skipped, as `[ -f ]` does.
#[test]
fn issue10_check_reads_rc_conf_d_directories_as_rc_does() {
    let good = Laptop::good();
    let network = good.files[NETWORK].clone();
    let split = good
        .without(NETWORK)
        .file("/etc/rc.conf.d/network/20-wlan", &network)
        .file("/etc/rc.conf.d/network/10-old", "create_args_wlan0=\"wlanaddr 00:24:d7:00:00:01\"\n")
        .file("/etc/rc.conf.d/network/attic/x", "ifconfig_em0=\"DHCP\"\n");
    assert_eq!(split.check("rc-conf-d"), (Some(0), "configuration OK\n".to_owned()));
}

/// The words of a command line as sh(1) splits them, for the fixes: blanks
/// separate, `"…"` and `'…'` quote, and `&&` is a word of its own.
fn sh_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(word.take()),
            '"' | '\'' => {
                let w = word.get_or_insert_with(String::new);
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    w.push(q);
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

impl Laptop {
    /// `fix`, a command line of `sysrc -f FILE …` calls joined by `&&`,
    /// applied to the laptop's files as FreeBSD's sysrc would apply it:
    /// through the simulated host's sysrc, on the files the laptop has.
    fn after_sysrc(mut self, fix: &str) -> Laptop {
        use lagghook::cli::setup::host::{Host, SimHost};
        let sb = Sandbox::new("fix-sysrc");
        let lower = lagghook::sim::SimRoot::new(self.files.clone());
        let mut host = SimHost::new(sb.path("root"), sb.path("commands"), lower);
        let words = sh_words(fix);
        for call in words.split(|w| w == "&&") {
            let [sysrc, flag, file, ..] = call else { panic!("not a sysrc call: {call:?}") };
            assert_eq!((sysrc.as_str(), flag.as_str()), ("sysrc", "-f"), "{fix}");
            let mut argv = vec!["/usr/sbin/sysrc".to_owned()];
            argv.extend(call[1..].iter().cloned());
            host.run(&argv).unwrap_or_else(|e| panic!("{fix}: {e}"));
            let text = host.read(Path::new(file)).unwrap().unwrap_or_default();
            self.files.insert(file.clone(), text);
        }
        self
    }
}

/// The fix of the one TRAP (or, with `level` "WARN", the advice of the one
/// WARN) that `laptop` shows.
fn printed_fix(name: &str, laptop: &Laptop, level: &str) -> String {
    let (_, out) = laptop.check(name);
    let found = lines(&out, &format!("{level}: "));
    assert_eq!(found.len(), 1, "{name}:\n{out}");
    let sep = if level == "TRAP" { "; fix: " } else { "; advice: " };
    found[0].split_once(sep).unwrap_or_else(|| panic!("{name}: {out}")).1.to_owned()
}

/// Issue 16, point 5: every fix `check` prints, applied literally to the
/// broken laptop it was printed for, clears its trap and breaks nothing:
/// `check` then passes it (each broken laptop is the good one with one
/// thing changed). A fix that edits rc.conf(5) is one command line of
/// sysrc calls, run here through the simulated host's sysrc; it names the
/// file that really holds the variable for the scripts that read it
/// (load_rc_config's order) and keeps the other words of the value. The
/// DHCP-on-WiFi trap used to print `sysrc ifconfig_wlan0="up"`, which
/// drops WPA and writes /etc/rc.conf, shadowed by rc.conf.d/network.
#[test]
fn issue16_every_sysrc_fix_applied_literally_clears_its_trap() {
    let good = Laptop::good;
    let cases: Vec<(&str, Laptop, String)> = vec![
        (
            "kld",
            good().edit("/etc/rc.conf", "kld_list=\"if_iwn fusefs\"\n", ""),
            "sysrc -f /etc/rc.conf kld_list+=if_iwn".into(),
        ),
        (
            // rc.conf.local wins over rc.conf for rc.d/kld: the module goes
            // where kld_list really is.
            "kld-local",
            good().file("/etc/rc.conf.local", "kld_list=\"fusefs\"\n"),
            "sysrc -f /etc/rc.conf.local kld_list+=if_iwn".into(),
        ),
        (
            "dhcp-wired",
            good().edit(
                NETWORK,
                &format!("ifconfig_em0=\"ether {E} up\""),
                "ifconfig_em0=\"SYNCDHCP\"",
            ),
            "sysrc -f /etc/rc.conf.d/network ifconfig_em0=\"up\"".into(),
        ),
        (
            // The issue's case: WPA stays, and the line is edited where it is.
            "dhcp-wifi",
            good().edit(NETWORK, "ifconfig_wlan0=\"WPA\"", "ifconfig_wlan0=\"WPA SYNCDHCP\""),
            "sysrc -f /etc/rc.conf.d/network ifconfig_wlan0=\"WPA\"".into(),
        ),
        (
            // bsdinstall's line in /etc/rc.conf, with none in rc.conf.d/network.
            "dhcp-wifi-rc-conf",
            good().edit(NETWORK, "ifconfig_wlan0=\"WPA\"\n", "").edit(
                "/etc/rc.conf",
                "hostname",
                "ifconfig_wlan0=\"WPA SYNCDHCP\"\nhostname",
            ),
            "sysrc -f /etc/rc.conf ifconfig_wlan0=\"WPA\"".into(),
        ),
        (
            "dhcp-default",
            good()
                .edit(NETWORK, &format!("ifconfig_em0=\"ether {E} up\"\n"), "")
                .file("/etc/rc.conf.local", "ifconfig_DEFAULT=\"DHCP\"\n"),
            "sysrc -f /etc/rc.conf.d/network ifconfig_em0=\"up\"".into(),
        ),
        (
            // The address moves to the lagg rather than vanishing.
            "dhcp-lagg-without",
            good()
                .edit(NETWORK, &format!("ifconfig_em0=\"ether {E} up\""), "ifconfig_em0=\"DHCP\"")
                .edit(NETWORK, "laggport wlan0 DHCP", "laggport wlan0"),
            "sysrc -f /etc/rc.conf.d/network ifconfig_em0=\"up\" \
             ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\""
                .into(),
        ),
        (
            "wlanaddr-missing",
            good().edit(NETWORK, &format!("wlanaddr {E} "), ""),
            format!("sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country DE\""),
        ),
        (
            "wlanaddr-other",
            good().edit(NETWORK, &format!("wlanaddr {E}"), "wlanaddr 00:24:d7:00:00:01"),
            format!("sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country DE\""),
        ),
        (
            // Only rc.conf has it: rc.d/netif and pccard_ether both read it there.
            "wlanaddr-rc-conf",
            good()
                .edit(NETWORK, &format!("create_args_wlan0=\"wlanaddr {E} country DE\"\n"), "")
                .edit("/etc/rc.conf", "hostname", "create_args_wlan0=\"country DE\"\nhostname"),
            format!("sysrc -f /etc/rc.conf create_args_wlan0=\"wlanaddr {E} country DE\""),
        ),
        (
            "wlanaddr-netif-only",
            good()
                .edit(NETWORK, &format!("create_args_wlan0=\"wlanaddr {E} country DE\"\n"), "")
                .file(
                    "/etc/rc.conf.d/netif",
                    &format!("create_args_wlan0=\"wlanaddr {E} country DE\"\n"),
                ),
            format!(
                "sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country DE\" && \
                 sysrc -f /etc/rc.conf.d/netif -x create_args_wlan0"
            ),
        ),
        (
            // check::hooks' trap, whose fix is a sysrc line too.
            "rc-script-disabled",
            good().edit("/etc/rc.conf", "lagghook_enable=\"YES\"\n", ""),
            "sysrc -f /etc/rc.conf lagghook_enable=YES".into(),
        ),
        (
            "mtu-rc",
            good().edit(NETWORK, "laggport wlan0 DHCP", "laggport wlan0 mtu 9000 DHCP"),
            "sysrc -f /etc/rc.conf.d/network \
             ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\""
                .into(),
        ),
    ];
    for (name, broken, want) in cases {
        let fix = printed_fix(name, &broken, "TRAP");
        assert_eq!(fix, want, "{name}");
        let fixed = broken.after_sysrc(&fix);
        assert_eq!(fixed.check(name), (Some(0), "configuration OK\n".to_owned()), "{name}: {fix}");
    }
    // The country only the administrator knows: the fix says XX; with a
    // country for it, it clears the trap.
    let no_country = good().edit(NETWORK, " country DE", "");
    let fix = printed_fix("country", &no_country, "TRAP");
    assert_eq!(fix, format!("sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country XX\""));
    let fixed = no_country.after_sysrc(&fix.replace("country XX", "country DE"));
    assert_eq!(fixed.check("country"), (Some(0), "configuration OK\n".to_owned()));
}

/// Issue 16, point 5, for the traps whose fix is not an rc.conf line:
/// each printed fix, done as it says, clears its trap and breaks nothing.
#[test]
fn issue16_every_other_fix_done_as_it_says_clears_its_trap() {
    let good = Laptop::good;
    let wpa = "/etc/wpa_supplicant.conf";
    let ok = || (Some(0), "configuration OK\n".to_owned());
    // wpa_supplicant.conf: add the line at its top; change the directory
    // and keep the group.
    let broken = good().edit(wpa, "ctrl_interface=/var/run/wpa_supplicant\n", "");
    assert_eq!(
        printed_fix("ctrl", &broken, "TRAP"),
        "add ctrl_interface=/var/run/wpa_supplicant at its top"
    );
    let text = format!("ctrl_interface=/var/run/wpa_supplicant\n{}", broken.files[wpa]);
    assert_eq!(broken.file(wpa, &text).check("ctrl"), ok());
    let broken = good().edit(wpa, "=/var/run/wpa_supplicant", "=DIR=/tmp/wpa GROUP=wheel");
    let fix = printed_fix("ctrl-dir", &broken, "TRAP");
    assert_eq!(
        fix,
        "make its line `ctrl_interface=DIR=/tmp/wpa GROUP=wheel` read \
         `ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=wheel`"
    );
    let fixed = broken.edit(
        wpa,
        "ctrl_interface=DIR=/tmp/wpa GROUP=wheel",
        "ctrl_interface=DIR=/var/run/wpa_supplicant GROUP=wheel",
    );
    assert_eq!(fixed.check("ctrl-dir"), ok());
    // devd: the rules as devd-conf prints them, in the file devd reads.
    let stale = good().edit(DEVD_RULES, "notify 150", "notify 100");
    assert_eq!(
        printed_fix("devd-stale", &stale, "TRAP"),
        format!("lagghook devd-conf > {DEVD_RULES} && service devd restart")
    );
    assert_eq!(stale.rules().check("devd-stale"), ok());
    // A competing rule: its action chained to lagghook-devd, as the fix says.
    let rule = "notify 200 {\n\tmatch \"system\" \"IFNET\";\n\tmatch \"subsystem\" \"em0\";\n\
                \tmatch \"type\" \"LINK_UP\";\n\taction \"/usr/local/bin/hook $subsystem\";\n};\n";
    let vpn = "/usr/local/etc/devd/vpn.conf";
    let broken = good().file(vpn, rule);
    let fix = printed_fix("devd-higher", &broken, "TRAP");
    let chain = fix.split_once("end its action with `").unwrap().1.trim_end_matches('`');
    let fixed = broken.edit(vpn, "$subsystem\"", &format!("$subsystem{chain}\""));
    // No trap; what is left is advice, should it be a copy of the rules.
    let (code, out) = fixed.check("devd-higher");
    assert_eq!((code, lines(&out, "TRAP: ").len()), (Some(0), 0), "{out}");
    // devd.conf without lagghook's directory: the option added.
    let no_dir = good().edit("/etc/devd.conf", "\tdirectory \"/usr/local/etc/devd\";\n", "");
    let fix = printed_fix("devd-dir", &no_dir, "TRAP");
    assert!(
        fix.starts_with("add `directory \"/usr/local/etc/devd\";` to its options block"),
        "{fix}"
    );
    let fixed = no_dir.edit(
        "/etc/devd.conf",
        "options {\n",
        "options {\n\tdirectory \"/usr/local/etc/devd\";\n",
    );
    assert_eq!(fixed.check("devd-dir"), ok());
}

/// The good laptop with its radio on `radio` (a driver of another class
/// than iwn's native one), kld_list naming its module.
fn on_radio(radio: &str, module: &str) -> Laptop {
    let mut laptop = Laptop::good().edit("/etc/rc.conf", "if_iwn", module).edit(
        NETWORK,
        "wlans_iwn0",
        &format!("wlans_{radio}"),
    );
    laptop.config = laptop.config.replace("iwn0", radio);
    laptop.machine = laptop.machine.replace("\"iwn0\"", &format!("\"{radio}\""));
    laptop.rules()
}

/// Issue 19.5: where the wlanaddr trap is right, its reason says what
/// users lose: rc joins the vap with its factory address, which lagg
/// keeps, so undocking changes lagg0's MAC twice. Issue 19.1: for a
/// driver whose class the table knows, it says how that driver takes an
/// address (iwlwifi, LinuxKPI: only at creation, so lagghook must
/// re-create the vap).
#[test]
fn issue19_the_wlanaddr_trap_says_what_is_lost_and_how_the_driver_takes_an_address() {
    let native = Laptop::good().edit(NETWORK, &format!("wlanaddr {E} "), "");
    let trap = one_trap("wlanaddr-native", &native, "create_args_wlan0=\"country DE\"");
    assert!(
        trap.contains(
            "rc creates wlan0 with its radio's factory address and at boot joins it so to \
             lagg0, which keeps that address for when em0 leaves (undocking): lagg0's MAC then \
             changes twice, to the factory address and back, dropping every session and the \
             DHCP lease; lagghook must re-clone wlan0 after every card reset or driver reload"
        ),
        "{trap}"
    );
    let linuxkpi = on_radio("iwlwifi0", "if_iwlwifi").edit(NETWORK, &format!("wlanaddr {E} "), "");
    let trap = one_trap("wlanaddr-iwlwifi", &linuxkpi, "create_args_wlan0=\"country DE\"");
    assert!(
        trap.contains(
            "; iwlwifi (LinuxKPI) takes another address only when the vap is created, so \
             lagghook must re-create wlan0 to clone it, and until then the WiFi carries no \
             traffic under lagg0's address; fix: sysrc -f /etc/rc.conf.d/network \
             create_args_wlan0=\"wlanaddr 00:11:22:33:44:55 country DE\""
        ),
        "{trap}"
    );
    // With wlanaddr, that driver's laptop passes.
    assert_eq!(
        on_radio("iwlwifi0", "if_iwlwifi").check("iwlwifi-ok"),
        (Some(0), "configuration OK\n".to_owned())
    );
}

/// Issue 19.5: set-ups in which no wlanaddr is no trap. The reverse clone
/// (`mac` is the vap: its factory address is the identity, carried by em0
/// and lagg0, as lagg(4)'s EXAMPLES do); an `ether` with the identity in
/// ifconfig_wlan0, which rc applies to every vap it creates, for a driver
/// that takes an address after creation (not for iwlwifi, which does
/// not); a `$(…)` in create_args_wlan0, which used to read as `wlanaddr
/// "country" is no MAC address` and is now advice saying what cannot be
/// known without running it.
#[test]
fn issue19_no_wlanaddr_is_no_trap_where_rc_gives_the_address_otherwise() {
    let w = "00:24:d7:00:00:01";
    let mut reverse = Laptop::good().edit(NETWORK, &format!("wlanaddr {E} "), "").edit(
        NETWORK,
        &format!("ifconfig_em0=\"ether {E} up\""),
        &format!("ifconfig_em0=\"ether {w} up\""),
    );
    reverse.config = CONFIG.replace("\"iwn0\"\n", "\"iwn0\"\nmac = \"wlan0\"\n");
    reverse.machine = format!(
        "[machine]\nfailover_rx_all = 1\n\n\
         [[machine.interface]]\nname = \"em0\"\nkind = \"ether\"\nmac = \"{E}\"\nlladdr = \"{w}\"\n\
         link = true\n\n\
         [[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\nparent = \"iwn0\"\nmac = \"{w}\"\n\
         lladdr = \"{w}\"\nwpa_mac = \"{w}\"\nlink = true\n\n\
         [[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nproto = \"failover\"\n\
         ports = [\"em0\", \"wlan0\"]\nlladdr = \"{w}\"\n"
    );
    let reverse = reverse.rules();
    assert_eq!(reverse.check("reverse"), (Some(0), "configuration OK\n".to_owned()));

    let ether = Laptop::good().edit(NETWORK, &format!("wlanaddr {E} "), "").edit(
        NETWORK,
        "ifconfig_wlan0=\"WPA\"",
        &format!("ifconfig_wlan0=\"ether {E} WPA\""),
    );
    assert_eq!(ether.check("ether"), (Some(0), "configuration OK\n".to_owned()));
    let ether_iwlwifi = on_radio("iwlwifi0", "if_iwlwifi")
        .edit(NETWORK, &format!("wlanaddr {E} "), "")
        .edit(NETWORK, "ifconfig_wlan0=\"WPA\"", &format!("ifconfig_wlan0=\"ether {E} WPA\""));
    one_trap(
        "ether-iwlwifi",
        &ether_iwlwifi,
        "create_args_wlan0=\"country DE\" (in /etc/rc.conf.d/network) has no wlanaddr \
         (ifconfig_wlan0's ether is set after creation, which this driver does not take)",
    );

    let substituted = Laptop::good().edit(
        NETWORK,
        &format!("wlanaddr {E} country DE"),
        "wlanaddr $(cat /etc/wlanmac) country DE",
    );
    let (code, out) = substituted.check("substitution");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        lines(&out, "WARN: "),
        ["WARN: create_args_wlan0=\"wlanaddr  country DE\" (in /etc/rc.conf.d/network): its \
             value comes from a command, which check does not run: whether rc creates wlan0 \
             with `wlanaddr 00:11:22:33:44:55` and a country cannot be known without running \
             it; advice: make sure the command gives those words, or write them out (lagghook \
             rc-conf prints create_args_wlan0)"],
        "{out}"
    );
}

/// Issue 19.3: an MTU in a lagg member's own ifconfig line is refused by
/// lagg once the port joined (lagg_port_ioctl: EINVAL); check advises
/// putting it on the lagg, with the command that does, which leaves no
/// advice behind.
#[test]
fn issue19_check_advises_the_mtu_of_a_member_onto_the_lagg() {
    let member = Laptop::good().edit(
        NETWORK,
        &format!("ifconfig_em0=\"ether {E} up\""),
        &format!("ifconfig_em0=\"ether {E} mtu 1400 up\""),
    );
    let (code, out) = member.check("member-mtu");
    assert_eq!(code, Some(0), "{out}");
    let warns = lines(&out, "WARN: ");
    assert_eq!(warns.len(), 1, "{out}");
    assert!(
        warns[0].starts_with(&format!(
            "WARN: ifconfig_em0=\"ether {E} mtu 1400 up\" (in /etc/rc.conf.d/network): lagg(4) \
             refuses to change the MTU of a port once it joined lagg0 (EINVAL)"
        )),
        "{out}"
    );
    let advice = printed_fix("member-mtu", &member, "WARN");
    let command =
        advice.strip_prefix("put the MTU on the lagg, which sets it on every port: ").unwrap();
    assert_eq!(
        command,
        format!(
            "sysrc -f /etc/rc.conf.d/network ifconfig_em0=\"ether {E} up\" \
             ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP mtu 1400\""
        )
    );
    assert_eq!(
        member.after_sysrc(command).check("member-mtu-fixed"),
        (Some(0), "configuration OK\n".to_owned())
    );
}

/// Issue 19.5: `status` calls a lagg whose configured port is absent, or
/// whose vap cannot associate for want of wpa_supplicant, degraded (exit
/// 1), though em0 carries its traffic.
#[test]
fn issue19_status_is_not_converged_without_the_wifi_backup() {
    let status = |name: &str, machine: &str| {
        let sb = Sandbox::new(name);
        sb.write("config.toml", CONFIG);
        sb.write("kernel.toml", machine);
        let out = sb.run(&["status"]);
        (out.status.code(), stdout(&out).lines().next().unwrap_or_default().to_owned())
    };
    let good = converged_machine();
    assert_eq!(status("status-good", &good), (Some(0), "lagg0: converged".to_owned()));
    let at = good.find("[[machine.interface]]\nname = \"wlan0\"").unwrap();
    let end = good.find("[[machine.interface]]\nname = \"lagg0\"").unwrap();
    let absent = format!("{}{}", &good[..at], &good[end..])
        .replace("ports = [\"em0\", \"wlan0\"]", "ports = [\"em0\"]");
    assert_eq!(
        status("status-absent", &absent),
        (Some(1), "lagg0: degraded: wlan0 is absent".to_owned())
    );
    let no_wpa = good.replacen(
        &format!("parent = \"iwn0\"\nmac = \"{E}\"\nlink = true"),
        &format!("parent = \"iwn0\"\nmac = \"{E}\"\nwpa_mac = \"none\""),
        1,
    );
    assert_eq!(
        status("status-no-wpa", &no_wpa),
        (
            Some(1),
            "lagg0: degraded: wlan0 cannot associate: no wpa_supplicant runs for it".to_owned()
        )
    );
}

/// A `wlanaddr` after a word that is no create parameter does not count:
/// ifconfig creates the vap at that word, with its factory address, and
/// fails on `wlanaddr` (`domain::create_args`). check traps it, and its
/// fix puts `wlanaddr` first, keeping the other words; applied, the trap
/// is gone.
#[test]
fn a_wlanaddr_after_country_is_a_trap_whose_fix_puts_it_first() {
    let late = Laptop::good().edit(
        NETWORK,
        &format!("wlanaddr {E} country DE"),
        &format!("country DE wlanaddr {E}"),
    );
    let trap = one_trap(
        "wlanaddr-late",
        &late,
        &format!(
            "create_args_wlan0=\"country DE wlanaddr {E}\" (in {NETWORK}): wlanaddr comes after a \
             word that is no create parameter: ifconfig creates wlan0 there, with its radio's \
             factory address, and then fails on wlanaddr"
        ),
    );
    let fix = format!("sysrc -f {NETWORK} create_args_wlan0=\"wlanaddr {E} country DE\"");
    assert!(trap.ends_with(&format!("; fix: {fix}")), "{trap}");
    let fixed = late.edit(
        NETWORK,
        &format!("country DE wlanaddr {E}"),
        &format!("wlanaddr {E} country DE"),
    );
    assert_eq!(fixed.check("wlanaddr-first"), (Some(0), "configuration OK\n".to_owned()));
}
