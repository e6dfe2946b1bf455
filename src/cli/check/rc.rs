//! `check`'s traps in rc.conf(5), loader.conf(5) and
//! wpa_supplicant.conf(5): what rc does at boot and on a card's return
//! that lagghook would otherwise have to repair, or cannot.
//!
//! Which files each rc script reads (`load_rc_config` in
//! `libexec/rc/rc.subr`, `freebsd/freebsd-src` 02274513): `/etc/rc.conf`
//! and `/etc/rc.conf.local` (`rc_conf_files`' default; a changed
//! `rc_conf_files` is not followed), then for each name it loads, in
//! `/etc` and then in each `local_startup` directory without its `/rc.d`
//! (`/usr/local/etc` by default), `rc.conf.d/NAME` if it is a file, or
//! every file in it (sorted, as sh's `*` gives them) if it is a directory.
//! The names (`freebsd/freebsd-src` 023fc80e): `rc.d/kld` loads `kld`;
//! `rc.d/netif` loads `network`, then `netif`; `/etc/pccard_ether`, which
//! re-creates a vap when its card attaches again, loads `pccard_ether` and
//! `network` (1b1334b1); `rc.d/wpa_supplicant` loads `wpa_supplicant`.
//! `/etc/defaults/rc.conf` is not read: the defaults that matter are
//! written here (`kld_list` empty, `wpa_supplicant_conf_file`
//! `/etc/wpa_supplicant.conf`).

use std::collections::BTreeSet;

use crate::abi::IEEE80211_MTU_MAX;
use crate::domain::config::{Config, LaggConfig, MacSource};
use crate::domain::create_args;
use crate::domain::identity;
use crate::domain::model::{IfName, MacAddr, Snapshot};
use crate::domain::plan::RememberedMacs;
use crate::domain::rc_vars::{words, RcVars};
use crate::domain::wifi_driver::{self, LladdrClass, Stack};
use crate::root::{join, Root};
use crate::sys::wpa_ctrl;

use super::fix::Sysrc;
use super::Report;

/// `rc_conf_files`' default (`/etc/defaults/rc.conf`).
const RC_CONF_FILES: [&str; 2] = ["/etc/rc.conf", "/etc/rc.conf.local"];
/// `local_startup`'s default (`/etc/defaults/rc.conf`).
const LOCAL_STARTUP: &str = "/usr/local/etc/rc.d";
/// `wpa_supplicant_conf_file`'s default (`/etc/defaults/rc.conf`).
const WPA_SUPPLICANT_CONF: &str = "/etc/wpa_supplicant.conf";
/// What the loader reads besides `device.hints` (`loader_conf_files` in
/// `stand/defaults/loader.conf`).
const LOADER_CONF: [&str; 2] = ["/boot/loader.conf", "/boot/loader.conf.local"];
/// Where `kld_list` goes when no file sets it (sysrc's default, the first
/// of `rc_conf_files`).
const RC_CONF: &str = "/etc/rc.conf";

/// The variables each rc script sees.
struct Views {
    /// rc.d/netif: boot, `service netif`.
    netif: RcVars,
    /// /etc/pccard_ether: a card attaching again (`startchildren`).
    pccard: RcVars,
    /// rc.d/kld: `kld_list`.
    kld: RcVars,
    /// rc.d/wpa_supplicant.
    wpa: RcVars,
    /// The loader's `*_load` variables.
    loader: RcVars,
}

impl Views {
    fn read(root: &dyn Root, report: &mut Report) -> Views {
        let base = rc_conf(root, report);
        let netif = view(root, &base, &["network", "netif"], report);
        let pccard = view(root, &base, &["pccard_ether", "network"], report);
        let kld = view(root, &base, &["kld"], report);
        let wpa = view(root, &base, &["wpa_supplicant"], report);
        let mut loader = RcVars::new();
        for file in LOADER_CONF {
            source(root, file, &mut loader, report);
        }
        Views { netif, pccard, kld, wpa, loader }
    }
}

/// What `rc_conf_files` set, which every script reads first.
fn rc_conf(root: &dyn Root, report: &mut Report) -> RcVars {
    let mut base = RcVars::new();
    for file in RC_CONF_FILES {
        source(root, file, &mut base, report);
    }
    base
}

/// The variables a script that loads `names` (`load_rc_config NAME`) sees:
/// `base`, then `rc.conf.d/NAME` in each directory.
fn view(root: &dyn Root, base: &RcVars, names: &[&str], report: &mut Report) -> RcVars {
    let mut vars = base.clone();
    for name in names {
        for dir in rc_conf_d_dirs(base) {
            source_rc_conf_d(root, &join(&join(&dir, "rc.conf.d"), name), &mut vars, report);
        }
    }
    vars
}

/// The variables rc.d/lagghook sees (`load_rc_config lagghook`): for
/// `lagghook_enable`. A file that cannot be read is `check`'s to report,
/// with the other rc traps; here it only sets nothing.
pub(super) fn lagghook_script(root: &dyn Root) -> RcVars {
    let mut ignored = Report::default();
    let base = rc_conf(root, &mut ignored);
    view(root, &base, &["lagghook"], &mut ignored)
}

/// `/etc`, then each `local_startup` directory without its `/rc.d`.
fn rc_conf_d_dirs(vars: &RcVars) -> Vec<String> {
    let local = vars.get("local_startup").unwrap_or(LOCAL_STARTUP);
    let mut dirs = vec!["/etc".to_owned()];
    for d in words(local) {
        let d = d.strip_suffix("/rc.d").unwrap_or(d);
        if !dirs.iter().any(|x| x == d) {
            dirs.push(d.to_owned());
        }
    }
    dirs
}

fn source(root: &dyn Root, file: &str, vars: &mut RcVars, report: &mut Report) {
    match root.read(file) {
        Ok(Some(text)) => vars.source(file, &text),
        Ok(None) => {}
        Err(e) => report.warn(format!("cannot read {e}"), "its settings were not checked"),
    }
}

/// `rc.conf.d/NAME`: a file, or a directory whose files are each read.
fn source_rc_conf_d(root: &dyn Root, path: &str, vars: &mut RcVars, report: &mut Report) {
    match root.list(path) {
        Ok(Some(mut names)) => {
            // sh's `*`: sorted, no dot files; rc then reads what `[ -f ]`
            // passes, so a directory in there is skipped.
            names.sort();
            for name in names.iter().filter(|n| !n.starts_with('.')) {
                let file = join(path, name);
                if !matches!(root.list(&file), Ok(Some(_))) {
                    source(root, &file, vars, report);
                }
            }
        }
        Ok(None) => source(root, path, vars, report),
        Err(e) => report.warn(format!("cannot read {e}"), "its settings were not checked"),
    }
}

/// An interface's rc.conf variable: rc turns `.`, `-`, `/` and `+` into
/// `_` (`ltr` in `get_if_var`, `libexec/rc/network.subr`).
fn if_var(prefix: &str, ifname: &IfName) -> String {
    let mangled: String =
        ifname.as_str().chars().map(|c| if ".-/+".contains(c) { '_' } else { c }).collect();
    format!("{prefix}{mangled}")
}

/// `NAME="value"` with where it comes from, for messages.
fn shown(vars: &RcVars, name: &str) -> String {
    match (vars.get(name), vars.origin(name)) {
        (Some(v), Some(file)) => format!("{name}=\"{v}\" (in {file})"),
        _ => name.to_owned(),
    }
}

pub(super) fn traps(
    config: &Config,
    root: &dyn Root,
    snap: &Snapshot,
    macs: &RememberedMacs,
    report: &mut Report,
) {
    if config.laggs.is_empty() {
        return;
    }
    let views = Views::read(root, report);
    driver_traps(config, snap, &views, report);
    for lagg in &config.laggs {
        let identity = identity::resolve(lagg, snap, macs.get(&lagg.name)).map(|r| r.identity.mac);
        dhcp_traps(lagg, &views, report);
        for port in lagg.ports.iter().filter(|p| lagg.is_wlan_port(p)) {
            let create_args = if_var("create_args_", port);
            if views.netif.runs_command(&create_args) {
                // rc.conf is shell: what it makes of a `$(…)` needs the
                // command run, which check does not do (issue 19.5).
                report.warn(
                    format!(
                        "{}: its value comes from a command, which check does not run: whether \
                         rc creates {port} with `wlanaddr {}` and a country cannot be known \
                         without running it",
                        shown(&views.netif, &create_args),
                        identity_words(lagg, identity)
                    ),
                    format!(
                        "make sure the command gives those words, or write them out \
                         (lagghook rc-conf prints {create_args})"
                    ),
                );
                continue;
            }
            let radio = radio_of(lagg, port, snap, &views.netif);
            wlanaddr_traps(lagg, port, identity, radio.as_ref(), &views, report);
            regdomain_traps(port, &views, report);
        }
        mtu_traps(lagg, &views.netif, report);
        member_mtu_advice(lagg, &views, report);
    }
    wpa_supplicant_traps(config, root, &views, report);
    super::network::file_traps(config, root, &views.netif, report);
}

/// The radio of a vap: `wlan.X.parent`, the kernel's, or the `wlans_RADIO`
/// that lists it.
fn radio_of(lagg: &LaggConfig, port: &IfName, snap: &Snapshot, netif: &RcVars) -> Option<IfName> {
    lagg.wlan(port)
        .and_then(|w| w.parent.clone())
        .or_else(|| snap.interface(port).and_then(|i| i.parent.clone()))
        .or_else(|| {
            netif.with_prefix("wlans_").find_map(|(name, value)| {
                words(value)
                    .any(|w| w == port.as_str())
                    .then(|| IfName::new(&name["wlans_".len()..]).ok())
                    .flatten()
            })
        })
}

/// The radios of the configured vaps: `wlan.X.parent`, the kernel's
/// `net.wlan.N.%parent`, and the `wlans_RADIO` that lists the vap.
fn radios(config: &Config, snap: &Snapshot, netif: &RcVars) -> BTreeSet<IfName> {
    let mut radios = BTreeSet::new();
    for (lagg, port) in config.ports().filter(|(l, p)| l.is_wlan_port(p)) {
        radios.extend(lagg.wlan(port).and_then(|w| w.parent.clone()));
        radios.extend(snap.interface(port).and_then(|i| i.parent.clone()));
        for (name, value) in netif.with_prefix("wlans_") {
            if words(value).any(|w| w == port.as_str()) {
                radios.extend(IfName::new(&name["wlans_".len()..]).ok());
            }
        }
    }
    radios
}

/// A WiFi driver loaded by devmatch(8) or devd after boot may attach its
/// radio after rc.d/netif built the lagg: rc then creates the vap without
/// adding it (`ifconfig_lagg0` ran without it), the boot race of
/// lagghook(8). `kld_list` (rc.d/kld, before netif) or the loader avoid
/// it. The fix adds the module where rc.d/kld reads `kld_list` from.
fn driver_traps(config: &Config, snap: &Snapshot, views: &Views, report: &mut Report) {
    let kld_list = views.kld.get("kld_list").unwrap_or_default();
    for radio in radios(config, snap, &views.netif) {
        let module = wifi_driver::module_of(&radio);
        if words(kld_list).any(|w| wifi_driver::names_module(w, &module)) {
            continue;
        }
        let loaded_by_loader = views.loader.with_prefix("if_").any(|(name, value)| {
            name.strip_suffix("_load").is_some_and(|m| wifi_driver::names_module(m, &module))
                && value.eq_ignore_ascii_case("yes")
        });
        if loaded_by_loader {
            continue;
        }
        let driver = &module["if_".len()..];
        let guess = match wifi_driver::driver_of(&radio) {
            Some(_) => String::new(),
            None => format!("; {module} is {radio} without its unit, a guess"),
        };
        report.trap(
            format!(
                "{radio}'s driver is not loaded at boot: {module} is neither in kld_list \
                 (/etc/rc.conf, /etc/rc.conf.local, rc.conf.d/kld) nor loaded by \
                 /boot/loader.conf, so the radio may attach after rc.d/netif built the lagg \
                 and its vap is created outside it (boot race; if {driver} is compiled into \
                 the kernel, `kldstat -v` lists it under the kernel and there is no race{guess})"
            ),
            Sysrc::new().append(&views.kld, "kld_list", &module, RC_CONF).to_string(),
        );
    }
}

/// rc's `dhcpif`: DHCP, SYNCDHCP or NOSYNCDHCP among the words of
/// `ifconfig_IF`, or of `ifconfig_DEFAULT` when the interface has none
/// (`ifconfig_getargs`, `libexec/rc/network.subr`). The fix keeps the
/// port's other words (`WPA` stays) and gives the lagg DHCP when it has
/// no address otherwise, so the address moves rather than vanishes.
fn dhcp_traps(lagg: &LaggConfig, views: &Views, report: &mut Report) {
    let netif = &views.netif;
    for port in &lagg.ports {
        let own = if_var("ifconfig_", port);
        if netif.runs_command(&own) {
            continue;
        }
        let var =
            if netif.get(&own).is_some() { own.clone() } else { "ifconfig_DEFAULT".to_owned() };
        if !netif.get(&var).is_some_and(|v| words(v).any(is_dhcp)) {
            continue;
        }
        let via = if var == own {
            String::new()
        } else {
            format!(", which {port} takes for want of {own}")
        };
        let rest: Vec<&str> =
            netif.get(&own).map(|v| words(v).filter(|w| !is_dhcp(w)).collect()).unwrap_or_default();
        let value = if rest.is_empty() { "up".to_owned() } else { rest.join(" ") };
        let mut fix = Sysrc::new().set(&[&views.netif, &views.pccard], &own, &value);
        let lagg_var = if_var("ifconfig_", &lagg.name);
        let lagg_value = netif.get(&lagg_var).unwrap_or_default();
        let addressed = words(lagg_value).any(|w| is_dhcp(w) || w.starts_with("inet"));
        if !addressed {
            let with_dhcp = if lagg_value.is_empty() {
                lagg_line(lagg, "DHCP")
            } else {
                format!("{lagg_value} DHCP")
            };
            fix = fix.set(&[&views.netif], &lagg_var, &with_dhcp);
        }
        report.trap(
            format!(
                "{}{via}: DHCP on {port}, a port of {}: dhclient then runs on the port and \
                 leases it an address, while the address belongs on {}",
                shown(netif, &var),
                lagg.name,
                lagg.name
            ),
            fix.to_string(),
        );
    }
}

fn is_dhcp(w: &str) -> bool {
    ["dhcp", "syncdhcp", "nosyncdhcp"].iter().any(|d| w.eq_ignore_ascii_case(d))
}

/// `ifconfig_LAGG` as `lagghook rc-conf` prints it, with `tail` last.
fn lagg_line(lagg: &LaggConfig, tail: &str) -> String {
    let ports: Vec<String> = lagg.ports.iter().map(|p| format!("laggport {p}")).collect();
    format!("up laggproto failover {} {tail}", ports.join(" "))
}

/// The identity in words, for a message or a fix.
fn identity_words(lagg: &LaggConfig, identity: Option<MacAddr>) -> String {
    identity.map_or_else(|| format!("the identity MAC of {}", lagg.name), |m| m.to_string())
}

/// The address a vap's words give it: the value after `key` (the first of
/// `keys` found).
fn address_word<'a>(value: &'a str, keys: &[&str]) -> Option<&'a str> {
    let mut w = words(value);
    while let Some(word) = w.next() {
        if keys.contains(&word) {
            return w.next();
        }
    }
    None
}

/// `wlanaddr MAC` in `create_args_VAP`, the address rc creates the vap
/// with after every card reset or driver reload (`wlan_up`,
/// `libexec/rc/network.subr`). Without it rc creates the vap with its
/// radio's factory address, and at boot joins it so to the lagg: lagg
/// keeps each port's address from when it joined and gives it to the lagg
/// when the primary leaves (`lagg_port_destroy`, `sys/net/if_lagg.c`), so
/// undocking changes lagg0's MAC to the factory one and lagghook's repair
/// changes it back: twice, each dropping sessions and the lease. How the
/// vap then takes the identity is its driver's class
/// ([`wifi_driver::LladdrClass`]).
///
/// Not traps (issue 19.5): the reverse clone (`mac` is the vap itself: its
/// factory address is the identity); an `ether MAC` in `ifconfig_VAP`
/// equal to the identity, which rc applies to every vap it creates
/// (`ifconfig_up` after `wlan_up`, at boot and from pccard_ether) while
/// it is still down, as a native or while-down driver takes it.
fn wlanaddr_traps(
    lagg: &LaggConfig,
    port: &IfName,
    identity: Option<MacAddr>,
    radio: Option<&IfName>,
    views: &Views,
    report: &mut Report,
) {
    if lagg.mac == MacSource::Port(port.clone()) {
        return;
    }
    let var = if_var("create_args_", port);
    let wlanaddr =
        |vars: &RcVars| vars.get(&var).and_then(create_args::wlanaddr).map(str::to_owned);
    let driver = radio.and_then(wifi_driver::driver_of);
    let class = driver.map(|d| d.lladdr);
    let create_args = views.netif.get(&var).unwrap_or_default();
    let with = |mac: &str| {
        let words: Vec<String> = words(create_args).map(str::to_owned).collect();
        create_args::with_wlanaddr(words, mac).join(" ")
    };
    let fix = |mac: Option<MacAddr>| match mac {
        Some(mac) => Sysrc::new()
            .set(&[&views.netif, &views.pccard], &var, &with(&mac.to_string()))
            .to_string(),
        None => format!(
            "add `wlanaddr MAC` to {var} with the identity MAC of {} (lagghook rc-conf prints \
             it once known)",
            lagg.name
        ),
    };
    if views.netif.get(&var).is_some_and(create_args::late_wlanaddr) {
        report.trap(
            format!(
                "{}: wlanaddr comes after a word that is no create parameter: ifconfig creates \
                 {port} there, with its radio's factory address, and then fails on wlanaddr \
                 (`ifconfig: wlanaddr: bad value`)",
                shown(&views.netif, &var)
            ),
            fix(identity),
        );
        return;
    }
    let Some(addr) = wlanaddr(&views.netif) else {
        // An `ether` rc applies to every vap it creates is as good, for a
        // driver that takes an address after creation.
        let ifconfig = if_var("ifconfig_", port);
        let ether = |vars: &RcVars| {
            vars.get(&ifconfig)
                .and_then(|v| address_word(v, &["ether", "lladdr", "link"]))
                .map(str::to_owned)
        };
        let both = ether(&views.netif).filter(|e| Some(e) == ether(&views.pccard).as_ref());
        if let (Some(e), Some(want)) =
            (both.as_ref().and_then(|e| e.parse::<MacAddr>().ok()), identity)
        {
            if e == want && class != Some(LladdrClass::AtCreate) {
                return;
            }
        }
        let what =
            if views.netif.get(&var).is_some() { shown(&views.netif, &var) } else { var.clone() };
        let primary = lagg.ports.first().map_or("its primary", |p| p.as_str());
        let how = match (driver, class) {
            (Some(d), Some(LladdrClass::AtCreate)) => format!(
                "; {} ({}) takes another address only when the vap is created, so lagghook must \
                 re-create {port} to clone it, and until then the WiFi carries no traffic under \
                 {}'s address",
                d.name,
                stack_words(d.stack),
                lagg.name
            ),
            (Some(d), Some(LladdrClass::WhileDown)) => format!(
                "; {} takes another address only while the vap is down, so lagghook must take \
                 {port} down to clone it after every card reset or driver reload (a WiFi outage)",
                d.name
            ),
            _ => format!(
                "; lagghook must re-clone {port} after every card reset or driver reload (a WiFi \
                 outage)"
            ),
        };
        let ether_note = match (both, class) {
            (Some(_), Some(LladdrClass::AtCreate)) => format!(
                " ({ifconfig}'s ether is set after creation, which this driver does not take)"
            ),
            _ => String::new(),
        };
        report.trap(
            format!(
                "{what} has no wlanaddr{ether_note}: rc creates {port} with its radio's factory \
                 address and at boot joins it so to {lagg}, which keeps that address for when \
                 {primary} leaves (undocking): {lagg}'s MAC then changes twice, to the factory \
                 address and back, dropping every session and the DHCP lease{how}",
                lagg = lagg.name,
            ),
            fix(identity),
        );
        return;
    };
    match (addr.parse::<MacAddr>(), identity) {
        (Ok(mac), Some(want)) if mac != want => report.trap(
            format!(
                "{}: wlanaddr {mac} is not {}'s identity MAC {want}: every re-created {port} \
                 must be re-cloned (a WiFi outage)",
                shown(&views.netif, &var),
                lagg.name
            ),
            fix(Some(want)),
        ),
        (Err(_), _) => report.trap(
            format!("{}: wlanaddr {addr} is no MAC address", shown(&views.netif, &var)),
            fix(identity),
        ),
        _ => {}
    }
    if wlanaddr(&views.pccard).is_none() {
        report.trap(
            format!(
                "{}: only rc.d/netif reads it; /etc/pccard_ether, which re-creates {port} when \
                 its card attaches again, does not, and creates it with the factory address",
                shown(&views.netif, &var)
            ),
            Sysrc::new().set(&[&views.netif, &views.pccard], &var, create_args).to_string(),
        );
    }
}

fn stack_words(stack: Stack) -> &'static str {
    match stack {
        Stack::Net80211 => "net80211",
        Stack::LinuxKpi => "LinuxKPI",
    }
}

/// The placeholder the regulatory-domain fix writes for the country only
/// the administrator knows.
const COUNTRY_PLACEHOLDER: &str = "XX";

/// net80211 starts a vap in its radio's default regulatory domain (what
/// the driver or the card says, often FCC's) unless `country` or
/// `regdomain` says otherwise. rc says it when it creates the vap (`wlan_up`
/// in `libexec/rc/network.subr` runs `ifconfig VAP create wlandev RADIO
/// $create_args_VAP`, at boot and whenever the card comes back), or right
/// after, from `ifconfig_VAP` (`ifconfig_up`), which FreeBSD accepts as
/// well (issue 19.5): either is no trap. Only the user knows the country,
/// so the fix writes `XX` for it, and a literal `country XX` left in is
/// reported as what it is.
fn regdomain_traps(port: &IfName, views: &Views, report: &mut Report) {
    let netif = &views.netif;
    let create_args = if_var("create_args_", port);
    let ifconfig = if_var("ifconfig_", port);
    let regulatory = |var: &str| -> Vec<(String, Option<String>)> {
        let Some(value) = netif.get(var) else { return Vec::new() };
        let mut out = Vec::new();
        let mut w = words(value);
        while let Some(word) = w.next() {
            if word.eq_ignore_ascii_case("country") || word.eq_ignore_ascii_case("regdomain") {
                out.push((word.to_ascii_lowercase(), w.next().map(str::to_owned)));
            }
        }
        out
    };
    let set: Vec<(String, Option<String>)> =
        [regulatory(&create_args), regulatory(&ifconfig)].concat();
    for var in [&create_args, &ifconfig] {
        let placeholder = regulatory(var)
            .iter()
            .any(|(k, v)| k == "country" && v.as_deref() == Some(COUNTRY_PLACEHOLDER));
        if placeholder {
            report.trap(
                format!(
                    "{}: country {COUNTRY_PLACEHOLDER} is the placeholder of check's fix, not a \
                     country",
                    shown(netif, var)
                ),
                format!(
                    "put your country's ISO 3166 code (regdomain(5)) in place of \
                     {COUNTRY_PLACEHOLDER} in {var}"
                ),
            );
        }
    }
    if !set.is_empty() || netif.runs_command(&ifconfig) {
        return;
    }
    let what = if netif.get(&create_args).is_some() {
        shown(netif, &create_args)
    } else {
        create_args.clone()
    };
    let value = match netif.get(&create_args) {
        Some(v) if !v.trim().is_empty() => format!("{v} country {COUNTRY_PLACEHOLDER}"),
        _ => format!("country {COUNTRY_PLACEHOLDER}"),
    };
    report.trap(
        format!(
            "{what} has no country or regdomain: rc creates {port} in its radio's default \
             regulatory domain, which may not be where you are (channels used where they are \
             not allowed, or access points missed on channels it leaves out); only you know the \
             country: in the fix, put its ISO 3166 code (regdomain(5)) for \
             {COUNTRY_PLACEHOLDER}"
        ),
        Sysrc::new().set(&[&views.netif, &views.pccard], &create_args, &value).to_string(),
    );
}

/// An `mtu N` in the rc.conf lines of the lagg or a wired port above what a
/// vap accepts: rc sets it at boot and the vap cannot join (`mtu_traps` in
/// the kernel part says why). The fix drops it, keeping the other words.
fn mtu_traps(lagg: &LaggConfig, netif: &RcVars, report: &mut Report) {
    let Some(wlan) = lagg.ports.iter().find(|p| lagg.is_wlan_port(p)) else { return };
    let mut ifs: Vec<&IfName> = vec![&lagg.name];
    ifs.extend(lagg.ports.iter().filter(|p| !lagg.is_wlan_port(p)));
    for ifname in ifs {
        for var in [if_var("ifconfig_", ifname), if_var("create_args_", ifname)] {
            let Some(value) = netif.get(&var) else { continue };
            let Some(mtu) = mtu_of(value) else { continue };
            if mtu.parse::<u32>().is_ok_and(|m| m > IEEE80211_MTU_MAX) {
                let rest = without_mtu(value);
                report.trap(
                    format!(
                        "{}: mtu {mtu} is above the {IEEE80211_MTU_MAX} a wlan vap accepts: \
                         after boot {wlan} cannot join {}",
                        shown(netif, &var),
                        lagg.name
                    ),
                    Sysrc::new().set(&[netif], &var, &rest).to_string(),
                );
            }
        }
    }
}

/// The `mtu N` of a value, as ifconfig reads its words.
fn mtu_of(value: &str) -> Option<&str> {
    address_word(value, &["mtu"])
}

/// A value without its `mtu N`.
fn without_mtu(value: &str) -> String {
    let mut out = Vec::new();
    let mut w = words(value);
    while let Some(word) = w.next() {
        if word == "mtu" {
            let _ = w.next();
            continue;
        }
        out.push(word);
    }
    out.join(" ")
}

/// An `mtu N` in a port's own `ifconfig_` line: once the port is a
/// member, lagg refuses to change its MTU (`lagg_port_ioctl`,
/// SIOCSIFMTU: "Do not allow the MTU to be changed once joined", EINVAL,
/// `sys/net/if_lagg.c`, `gmshake/freebsd-src` f0689c80), and when rc
/// applies the line after the port joined (through `create_args_LAGG`)
/// ifconfig stops there; before, the port's MTU is the lagg's only if it
/// joins first. The lagg's own MTU is set on every port
/// (`lagg_ioctl`'s SIOCSIFMTU), so that is where it belongs (issue 19.3).
/// Advice, not a trap: on some orders of rc it works.
fn member_mtu_advice(lagg: &LaggConfig, views: &Views, report: &mut Report) {
    let netif = &views.netif;
    let lagg_var = if_var("ifconfig_", &lagg.name);
    for port in &lagg.ports {
        let var = if_var("ifconfig_", port);
        let Some(value) = netif.get(&var) else { continue };
        let Some(mtu) = mtu_of(value) else { continue };
        if mtu.parse::<u32>().is_err() {
            continue;
        }
        let rest = without_mtu(value);
        let rest = if rest.is_empty() { "up".to_owned() } else { rest };
        let lagg_value =
            netif.get(&lagg_var).map_or_else(|| lagg_line(lagg, "DHCP"), str::to_owned);
        let lagg_value = format!("{} mtu {mtu}", without_mtu(&lagg_value));
        report.warn(
            format!(
                "{}: lagg(4) refuses to change the MTU of a port once it joined {} (EINVAL), so \
                 {port} keeps {}'s MTU or its own, depending on when rc applies the line",
                shown(netif, &var),
                lagg.name,
                lagg.name
            ),
            format!(
                "put the MTU on the lagg, which sets it on every port: {}",
                Sysrc::new().set(&[&views.netif, &views.pccard], &var, &rest).set(
                    &[netif],
                    &lagg_var,
                    &lagg_value
                )
            ),
        );
    }
}

/// rc.d/wpa_supplicant starts wpa_supplicant with `-c
/// $wpa_supplicant_conf_file`; lagghook asks it its address through its
/// control socket in `/var/run/wpa_supplicant` (`sys::wpa_ctrl`), which
/// exists only with `ctrl_interface` set to that directory. Without it a
/// vap's address change is answered by a blind refresh (lagghook(8),
/// planning rule 4).
fn wpa_supplicant_traps(config: &Config, root: &dyn Root, views: &Views, report: &mut Report) {
    // Only for vaps rc runs wpa_supplicant for: `WPA` in ifconfig_VAP
    // (`ifconfig_up`), or no ifconfig_VAP to say otherwise.
    let wpa_vaps: Vec<&IfName> = config
        .ports()
        .filter(|(l, p)| l.is_wlan_port(p))
        .map(|(_, p)| p)
        .filter(|p| {
            views
                .netif
                .get(&if_var("ifconfig_", p))
                .is_none_or(|v| words(v).any(|w| w.eq_ignore_ascii_case("wpa")))
        })
        .collect();
    if wpa_vaps.is_empty() {
        return;
    }
    let path = views.wpa.get("wpa_supplicant_conf_file").unwrap_or(WPA_SUPPLICANT_CONF).to_owned();
    let text = match root.read(&path) {
        Ok(Some(text)) => text,
        Ok(None) => {
            report.trap(
                format!(
                    "{path}: missing: rc.d/wpa_supplicant cannot start wpa_supplicant for {}",
                    list(&wpa_vaps)
                ),
                format!(
                    "write it (wpa_supplicant.conf(5)) with ctrl_interface={} and the networks",
                    wpa_ctrl::RUN_DIR
                ),
            );
            return;
        }
        Err(e) => {
            report.warn(format!("cannot read {e}"), "its ctrl_interface was not checked");
            return;
        }
    };
    // A top-level `ctrl_interface=DIR` or `ctrl_interface=DIR=DIR GROUP=…`
    // (hostap's wpa_supplicant.conf): outside the network={} blocks.
    let mut depth = 0usize;
    let mut ctrl = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        if depth == 0 {
            if let Some(value) = line.strip_prefix("ctrl_interface=") {
                let value = value.trim().trim_matches('"');
                let dir = value.strip_prefix("DIR=").unwrap_or(value);
                let dir = dir.split_whitespace().next().unwrap_or_default().to_owned();
                ctrl = Some((dir, line.to_owned()));
            }
        }
        depth += line.matches('{').count();
        depth = depth.saturating_sub(line.matches('}').count());
    }
    match ctrl {
        None => report.trap(
            format!(
                "{path}: no ctrl_interface: lagghook cannot ask wpa_supplicant which address \
                 it uses, and refreshes {} blindly after an address change",
                list(&wpa_vaps)
            ),
            format!("add ctrl_interface={} at its top", wpa_ctrl::RUN_DIR),
        ),
        Some((dir, line)) if dir.trim_end_matches('/') != wpa_ctrl::RUN_DIR => {
            // The other words (`GROUP=wheel`) stay: who may talk to it.
            let fixed = line.replacen(&dir, wpa_ctrl::RUN_DIR, 1);
            report.trap(
                format!(
                    "{path}: ctrl_interface is {dir}, but lagghook asks wpa_supplicant in {}",
                    wpa_ctrl::RUN_DIR
                ),
                format!("make its line `{line}` read `{fixed}`"),
            )
        }
        Some(_) => {}
    }
}

fn list(names: &[&IfName]) -> String {
    names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_modules_by_the_documented_heuristic() {
        let module = |r: &str| wifi_driver::module_of(&IfName::new(r).unwrap());
        assert_eq!(module("iwn0"), "if_iwn");
        assert_eq!(module("iwlwifi0"), "if_iwlwifi");
        assert_eq!(module("iwm1"), "if_iwm");
        assert_eq!(module("ath0"), "if_ath");
        assert_eq!(module("rtwn0"), "if_rtwn");
        assert_eq!(module("rtw880"), "if_rtw88");
        assert_eq!(module("rtw8912"), "if_rtw89");
        for word in ["if_rtwn_usb", "if_rtwn", "/boot/modules/if_rtwn_pci.ko", "if_rtwn.ko"] {
            assert!(wifi_driver::names_module(word, "if_rtwn"), "{word}");
        }
        for word in ["if_rtwnx", "if_rtw", "rtwn"] {
            assert!(!wifi_driver::names_module(word, "if_rtwn"), "{word}");
        }
    }

    #[test]
    fn interface_variables_are_mangled_as_rc_does() {
        assert_eq!(if_var("ifconfig_", &IfName::new("em0.5").unwrap()), "ifconfig_em0_5");
        assert_eq!(if_var("create_args_", &IfName::new("wlan0").unwrap()), "create_args_wlan0");
    }
}
