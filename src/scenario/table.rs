//! The outage table README publishes: for each thing a laptop lives
//! through, the seconds without traffic and the lagg MAC changes, without
//! lagghook (the stock devd rules only, the seed's static set-up) and with
//! it, measured by playing scenario files on the simulated kernel.
//! `cargo run --example outage-table` prints it; a docs test keeps README's
//! copy equal to it.

use std::fmt::Write as _;
use std::ops::RangeInclusive;
use std::path::Path;

use crate::run::error::Error;

use super::{Outage, Report, Scenario};

/// One row: a happening, and the steps of a scenario file that make it.
pub struct Row {
    pub happening: &'static str,
    /// Relative to `tests/scenarios`.
    pub file: &'static str,
    /// 1-based step numbers whose figures add up to the row's.
    pub steps: RangeInclusive<usize>,
}

/// The rows README shows, in its order.
pub const ROWS: &[Row] = &[
    Row { happening: "cable out", file: "cable-out-and-back.toml", steps: 2..=2 },
    Row { happening: "cable back in", file: "cable-out-and-back.toml", steps: 3..=3 },
    Row {
        happening: "WiFi card reset, on cable",
        file: "wifi-hotplug-factory-mac.toml",
        steps: 2..=3,
    },
    Row {
        happening: "cable out after that reset",
        file: "wifi-hotplug-factory-mac.toml",
        steps: 4..=4,
    },
    Row {
        happening: "WiFi card reset, on WiFi",
        file: "wifi-reset-on-wifi-factory-mac.toml",
        steps: 2..=3,
    },
    Row { happening: "USB dock out", file: "usb-ether-replug.toml", steps: 2..=2 },
    Row {
        happening: "USB dock in (failback immediate)",
        file: "usb-ether-replug.toml",
        steps: 3..=3,
    },
    Row {
        happening: "USB dock in (failback deferred)",
        file: "dock-replug-deferred.toml",
        steps: 2..=2,
    },
    Row { happening: "boot undocked", file: "boot-undocked-then-dock.toml", steps: 1..=1 },
    Row {
        happening: "dock after an undocked boot",
        file: "boot-undocked-then-dock.toml",
        steps: 2..=2,
    },
    Row {
        happening: "boot with the seed's rc.conf (no wlanaddr), then cable out",
        file: "boot-seed-without-wlanaddr.toml",
        steps: 1..=2,
    },
    Row {
        happening: "boot with a late WiFi driver, then cable out",
        file: "boot-late-wifi-driver.toml",
        steps: 1..=3,
    },
    Row {
        happening: "resume reloading the WiFi driver, on cable, then cable out",
        file: "resume-reloads-wifi.toml",
        steps: 2..=3,
    },
    Row {
        happening: "resume reloading the WiFi driver, on WiFi",
        file: "resume-reloads-wifi.toml",
        steps: 4..=4,
    },
    Row {
        happening: "the wired port's MAC changed by hand",
        file: "member-mac-changed-by-hand.toml",
        steps: 1..=1,
    },
    Row {
        happening: "iwlwifi (address only at creation), boot without wlanaddr, then cable out",
        file: "wifi-class-at-create.toml",
        steps: 1..=2,
    },
    Row {
        happening: "iwlwifi, WiFi card reset with its factory MAC, then cable out",
        file: "wifi-class-at-create.toml",
        steps: 4..=6,
    },
    Row {
        happening: "iwlwifi, resume reloading the driver, then cable out",
        file: "wifi-class-at-create.toml",
        steps: 8..=9,
    },
    Row {
        happening: "address only while down: boot, card reset, resume reload, each then cable out",
        file: "wifi-class-while-down.toml",
        steps: 1..=9,
    },
    Row {
        happening: "a driver lagghook does not know: the same three, each then cable out",
        file: "wifi-class-unknown-driver.toml",
        steps: 1..=9,
    },
    Row {
        happening: "the table wrong (at-create radio named like iwn): the same three",
        file: "wifi-class-table-wrong.toml",
        steps: 1..=9,
    },
    Row {
        happening: "stale wpa_supplicant, AP in reach again with the cable out",
        file: "wifi-stale-wpa-flapping.toml",
        steps: 1..=1,
    },
    Row {
        happening: "silent stale wpa_supplicant (no ctrl_interface), AP in reach again",
        file: "wifi-silent-wpa-flap-logged-once.toml",
        steps: 1..=1,
    },
];

/// The moves between networks (issue 20), in README's order: their IPv4
/// and IPv6 outage and address changes for the stock recipe, lagghook with
/// its network check off, and with it on.
pub const MOVES: &[Row] = &[
    Row { happening: "undock, one LAN", file: "net-dock-undock-one-lan.toml", steps: 2..=2 },
    Row { happening: "dock, one LAN", file: "net-dock-undock-one-lan.toml", steps: 3..=3 },
    Row {
        happening: "undock, then a café's WiFi in reach",
        file: "net-undock-to-cafe.toml",
        steps: 2..=3,
    },
    Row {
        happening: "undock onto another network's WiFi",
        file: "net-undock-wifi-elsewhere.toml",
        steps: 2..=2,
    },
    Row {
        happening: "the same, with the enter hook that fails ARPSEND",
        file: "net-undock-wifi-elsewhere-arpsend-hook.toml",
        steps: 2..=2,
    },
    Row {
        happening: "café to café, one subnet, other gateways",
        file: "net-cafe-to-cafe-same-subnet.toml",
        steps: 2..=2,
    },
    Row {
        happening: "WiFi extender (other BSS and SSID, one LAN)",
        file: "net-wifi-extender.toml",
        steps: 2..=2,
    },
    Row {
        happening: "captive portal, then 5 minutes",
        file: "net-captive-portal.toml",
        steps: 2..=3,
    },
    Row {
        happening: "gateway ignoring ARP (undecided: DHCP)",
        file: "net-gateway-ignores-arp.toml",
        steps: 3..=3,
    },
    Row {
        happening: "gateway ignoring ARP (undecided: keep)",
        file: "net-gateway-ignores-arp-keep.toml",
        steps: 3..=3,
    },
    Row {
        happening: "VLAN dock: undock onto the guest WiFi",
        file: "net-vlan-dock-return.toml",
        steps: 2..=2,
    },
    Row { happening: "VLAN dock: dock again", file: "net-vlan-dock-return.toml", steps: 3..=3 },
    Row { happening: "undock onto an IPv6-only café", file: "net-ipv6-only.toml", steps: 2..=2 },
    Row { happening: "resume somewhere else", file: "net-resume-elsewhere.toml", steps: 2..=2 },
    Row {
        happening: "slow DHCP, the cable back during the wait",
        file: "net-slow-dhcp-cable-back.toml",
        steps: 2..=2,
    },
    Row { happening: "cable flap within 300 ms", file: "net-flap-300ms.toml", steps: 2..=2 },
];

/// How a scenario is played: with lagghook, or as the baseline.
pub type Play = fn(&Scenario) -> Result<Report, Error>;

/// The figures of `steps` in a report: summed outage, summed MAC changes.
fn figures(report: &Report, steps: &RangeInclusive<usize>) -> (Outage, u32) {
    let chosen = || {
        report.steps.iter().enumerate().filter(|(i, _)| steps.contains(&(i + 1))).map(|(_, s)| s)
    };
    let outage = chosen().fold(Outage::default(), |acc, s| acc.add(s.outage));
    (outage, chosen().map(|s| s.mac_changes).sum())
}

/// The layer-3 figures of `steps`: IPv4 outage, IPv6 outage, address
/// changes, summed.
fn moves(report: &Report, steps: &RangeInclusive<usize>) -> (Outage, Outage, u32) {
    let chosen = || {
        report.steps.iter().enumerate().filter(|(i, _)| steps.contains(&(i + 1))).map(|(_, s)| s)
    };
    let v4 = chosen().fold(Outage::default(), |acc, s| acc.add(s.outage_inet));
    let v6 = chosen().fold(Outage::default(), |acc, s| acc.add(s.outage_inet6));
    (v4, v6, chosen().map(|s| s.addr_changes).sum())
}

/// The table as Markdown, every scenario read from `dir`: the link-level
/// table, then the moves between networks.
pub fn outage_table(dir: &Path, with: Play, without: Play) -> Result<String, Error> {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| happening | outage without | MAC changes without | outage with lagghook | MAC changes with |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for row in ROWS {
        let scenario = Scenario::load(&dir.join(row.file))?;
        let (bo, bm) = figures(&without(&scenario)?, &row.steps);
        let (lo, lm) = figures(&with(&scenario)?, &row.steps);
        let _ = writeln!(s, "| {} | {bo} | {bm} | {lo} | {lm} |", row.happening);
    }
    let _ = writeln!(
        s,
        "\nMoves between networks: IPv4 outage / IPv6 outage / address changes (seconds \
         counted while the active port carries).\n\n\
         | move | stock recipe | lagghook, check off | lagghook, check on |\n|---|---|---|---|"
    );
    for row in MOVES {
        let scenario = Scenario::load(&dir.join(row.file))?;
        let mut off = scenario.clone();
        for lagg in &mut off.config.laggs {
            lagg.network.check = false;
        }
        let cell = |(v4, v6, n): (Outage, Outage, u32)| format!("{v4} / {v6} / {n}");
        let stock = cell(moves(&without(&scenario)?, &row.steps));
        let unchecked = cell(moves(&with(&off)?, &row.steps));
        let checked = cell(moves(&with(&scenario)?, &row.steps));
        let _ = writeln!(s, "| {} | {stock} | {unchecked} | {checked} |", row.happening);
    }
    Ok(s)
}
