//! What lagghook believes of a WiFi driver, from its radio's name: its
//! kernel module, and how it takes a link-level address other than its
//! factory one (its [`LladdrClass`]). FreeBSD offers no request that asks
//! a driver either, so this is a small table of the drivers whose
//! behaviour is known, each row with where it was read; a driver not in
//! it is `None`, and each caller says what it does then (the planner
//! gives its vap the repair every class takes: re-creation with
//! `wlanaddr`, `domain::plan`).
//!
//! In the simulator a radio's class is what its kernel does (the machine
//! file's `[[machine.radio]]`); this table is only lagghook's belief, and
//! the two may disagree, as they may on a real laptop.
//!
//! Read for the LinuxKPI rows (paths in the FreeBSD tree):
//! - `sys/compat/linuxkpi/common/src/linux_80211.c` in `5BSD/5BSD` at
//!   e3ede6317224a7108cc804d24cea19230e234668 (a FreeBSD main derivative,
//!   2026, carrying the LinuxKPI commit "802.11: support manual lladdr
//!   changes", PR 277356, D46121): `lkpi_ic_vap_create` copies the address
//!   it is given (`wlanaddr`, else the radio's) into `vif->addr` and
//!   `vif->bss_conf.addr` before the driver's `add_interface`, which it
//!   calls once per vap; `lkpi_vif_iflladdr`, the vif's `iflladdr_event`
//!   handler, copies a new lladdr into `vif->bss_conf.addr` only "if the
//!   vap is not started/UP" (it returns when IFF_UP is set, so the
//!   down/up inside `if_setlladdr` of an UP vap never reaches it), and
//!   never into `vif->addr`. The copy of the same file in
//!   `freebsd/freebsd-src` at 00383606b59383460afd9b954bf30178beb65999
//!   (2022) has no handler at all: there no later address reaches a
//!   LinuxKPI driver.
//! - iwlwifi: `sys/contrib/dev/iwlwifi/mvm/mac-ctxt.c` in
//!   `freebsd/freebsd-src` at 0dcfecbf4757181cc7ed0ef23c4efcb470ba87a7,
//!   `iwl_mvm_mac_ctxt_cmd_common`: the firmware's MAC context takes
//!   `node_addr` from `vif->addr`, the creation address.
//! - rtw88: `sys/contrib/dev/rtw88/mac80211.c` at
//!   0272ecf586255991f94f80378c4a3384e83fccc5, `rtw_ops_add_interface`:
//!   the port's MAC register is written from `vif->addr`
//!   (`PORT_SET_MAC_ADDR`); `rtw_ops_bss_info_changed` never writes it
//!   again.
//! - rtw89: `sys/contrib/dev/rtw89/mac80211.c` at
//!   df279a26d3315e7abc9e6f0744137959a4c2fb86,
//!   `__rtw89_ops_add_iface_link`: the link's MAC is copied from
//!   `bss_conf->addr` when the interface is added, that is once, at the
//!   vap's creation.
//!
//! No row is [`LladdrClass::WhileDown`]: that class is a LinuxKPI driver
//! that reads `bss_conf.addr` again when it associates, and none was found
//! doing so. ath10k, ath11k and ath12k were not read; they are taken to be
//! like the LinuxKPI drivers that were.

use std::fmt;
use std::str::FromStr;

use crate::domain::model::IfName;

/// How a driver takes a vap address other than its factory one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LladdrClass {
    /// net80211's own rules: `wlan_iflladdr` copies a new lladdr into
    /// `iv_myaddr` while the vap is down, and `ieee80211_ioctl`'s stop
    /// path covers a one-vap radio (`sys/net80211/ieee80211_freebsd.c`,
    /// `ieee80211_ioctl.c`).
    Native,
    /// Only while the vap is down, and never through the down/up inside
    /// `if_setlladdr` of an UP vap.
    WhileDown,
    /// Only at creation: the address given to the driver's
    /// `ic_vap_create` (`wlanaddr`, `IEEE80211_CLONE_MACADDR`); a later
    /// SIOCSIFLLADDR changes what `ifconfig` shows, not what the radio
    /// sends and receives with.
    AtCreate,
}

impl LladdrClass {
    /// The word the machine file and lagghook's messages use.
    pub fn word(self) -> &'static str {
        match self {
            LladdrClass::Native => "native",
            LladdrClass::WhileDown => "while-down",
            LladdrClass::AtCreate => "at-create",
        }
    }
}

impl fmt::Display for LladdrClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

impl FromStr for LladdrClass {
    type Err = String;
    fn from_str(s: &str) -> Result<LladdrClass, String> {
        [LladdrClass::Native, LladdrClass::WhileDown, LladdrClass::AtCreate]
            .into_iter()
            .find(|c| c.word() == s)
            .ok_or_else(|| format!("{s:?} is not native, while-down or at-create"))
    }
}

/// The 802.11 stack a driver plugs into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// A FreeBSD net80211 driver.
    Net80211,
    /// A Linux driver on FreeBSD's LinuxKPI 802.11 layer
    /// (`sys/compat/linuxkpi/common/src/linux_80211.c`).
    LinuxKpi,
}

/// One known driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Driver {
    /// The driver's name: its radios are this name and a unit number.
    pub name: &'static str,
    /// Its kernel module, as kldload(8) and `kld_list` name it; a module
    /// with a bus suffix (`if_rtwn_pci`, `if_rtwn_usb`) also counts as it.
    pub module: &'static str,
    pub stack: Stack,
    pub lladdr: LladdrClass,
}

/// Native net80211 drivers with a radio on laptops, `sys/dev/*` and
/// `sys/dev/usb/wlan/*` of FreeBSD 14: they follow net80211's rules
/// (`wlan_iflladdr` and `ieee80211_ioctl` in `sys/net80211/`, read in
/// `fel1x-developer/freebsd-src`; see `sim::net80211`). Their firmware,
/// where they have one, is told the address again at each association
/// from `vap->iv_myaddr` (not re-read per driver).
const fn native(name: &'static str, module: &'static str) -> Driver {
    Driver { name, module, stack: Stack::Net80211, lladdr: LladdrClass::Native }
}

/// LinuxKPI drivers (`sys/contrib/dev/*`): only the address given at
/// creation reaches their firmware (see the module doc for the sources).
const fn linuxkpi(name: &'static str, module: &'static str) -> Driver {
    Driver { name, module, stack: Stack::LinuxKpi, lladdr: LladdrClass::AtCreate }
}

/// The table, sorted by name.
pub const DRIVERS: &[Driver] = &[
    native("ath", "if_ath"),
    linuxkpi("ath10k", "if_ath10k"),
    linuxkpi("ath11k", "if_ath11k"),
    linuxkpi("ath12k", "if_ath12k"),
    native("bwi", "if_bwi"),
    native("bwn", "if_bwn"),
    native("ipw", "if_ipw"),
    native("iwi", "if_iwi"),
    linuxkpi("iwlwifi", "if_iwlwifi"),
    native("iwm", "if_iwm"),
    native("iwn", "if_iwn"),
    native("iwx", "if_iwx"),
    native("malo", "if_malo"),
    native("mtw", "if_mtw"),
    native("mwl", "if_mwl"),
    native("otus", "if_otus"),
    native("ral", "if_ral"),
    native("rsu", "if_rsu"),
    linuxkpi("rtw88", "if_rtw88"),
    linuxkpi("rtw89", "if_rtw89"),
    native("rtwn", "if_rtwn"),
    native("rum", "if_rum"),
    native("run", "if_run"),
    native("uath", "if_uath"),
    native("upgt", "if_upgt"),
    native("ural", "if_ural"),
    native("urtw", "if_urtw"),
    native("wpi", "if_wpi"),
    native("zyd", "if_zyd"),
];

/// The known driver of `radio` (`iwlwifi0`, `rtw880`: a driver's name,
/// then a unit number), the longest name that fits, so that a driver
/// whose name ends in digits (rtw88) is not read as another with a longer
/// unit.
pub fn driver_of(radio: &IfName) -> Option<&'static Driver> {
    let name = radio.as_str();
    DRIVERS
        .iter()
        .filter(|d| {
            name.strip_prefix(d.name)
                .is_some_and(|unit| !unit.is_empty() && unit.bytes().all(|b| b.is_ascii_digit()))
        })
        .max_by_key(|d| d.name.len())
}

/// How lagghook believes `radio` takes a cloned address; `None` for a
/// driver not in the table.
pub fn lladdr_class_of(radio: &IfName) -> Option<LladdrClass> {
    driver_of(radio).map(|d| d.lladdr)
}

/// The kernel module of `radio`'s driver: the table's, or for a driver
/// not in it the rule that holds for FreeBSD's drivers named like their
/// module, the radio's name without its unit after `if_` (a guess, which
/// the callers say).
pub fn module_of(radio: &IfName) -> String {
    match driver_of(radio) {
        Some(d) => d.module.to_owned(),
        None => format!("if_{}", radio.as_str().trim_end_matches(|c: char| c.is_ascii_digit())),
    }
}

/// Whether a `kld_list` word names `module` (a name, or a path to its
/// `.ko`, as kldload(8) takes both), or one of its bus variants
/// (`if_rtwn_usb` for `if_rtwn`).
pub fn names_module(word: &str, module: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    let base = base.strip_suffix(".ko").unwrap_or(base);
    base == module || base.strip_prefix(module).is_some_and(|rest| rest.starts_with('_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radio(s: &str) -> IfName {
        IfName::new(s).unwrap()
    }

    #[test]
    fn a_radio_is_its_driver_and_a_unit_and_the_longest_name_wins() {
        assert_eq!(driver_of(&radio("iwlwifi0")).map(|d| d.name), Some("iwlwifi"));
        assert_eq!(driver_of(&radio("rtw880")).map(|d| d.name), Some("rtw88"));
        assert_eq!(driver_of(&radio("rtw8912")).map(|d| d.name), Some("rtw89"));
        assert_eq!(driver_of(&radio("ath10k1")).map(|d| d.name), Some("ath10k"));
        assert_eq!(driver_of(&radio("ath0")).map(|d| d.name), Some("ath"));
        // A name and no unit is no radio; an unknown driver is not guessed.
        assert_eq!(driver_of(&radio("iwn")), None);
        assert_eq!(driver_of(&radio("foo0")), None);
        assert_eq!(driver_of(&radio("iwnx0")), None);
    }

    #[test]
    fn modules_come_from_the_table_or_the_documented_guess() {
        assert_eq!(module_of(&radio("rtw880")), "if_rtw88");
        assert_eq!(module_of(&radio("iwn0")), "if_iwn");
        assert_eq!(module_of(&radio("foo12")), "if_foo");
        assert!(names_module("if_rtwn_usb", "if_rtwn"));
        assert!(names_module("/boot/modules/if_iwlwifi.ko", "if_iwlwifi"));
        assert!(!names_module("if_iwnx", "if_iwn"));
    }

    #[test]
    fn classes_read_and_print_as_the_machine_file_spells_them() {
        for c in [LladdrClass::Native, LladdrClass::WhileDown, LladdrClass::AtCreate] {
            assert_eq!(c.word().parse::<LladdrClass>(), Ok(c));
        }
        assert!("linuxkpi".parse::<LladdrClass>().is_err());
        assert_eq!(driver_of(&radio("iwlwifi0")).map(|d| d.lladdr), Some(LladdrClass::AtCreate));
        assert_eq!(driver_of(&radio("iwn0")).map(|d| d.lladdr), Some(LladdrClass::Native));
    }

    /// Issue 19.1: the LinuxKPI drivers whose source was read take an
    /// address only at creation; native ones follow net80211; a driver not
    /// in the table has no belief (the planner re-creates its vaps).
    #[test]
    fn issue19_what_lagghook_believes_of_each_driver() {
        for r in ["iwlwifi0", "rtw880", "rtw890"] {
            assert_eq!(lladdr_class_of(&radio(r)), Some(LladdrClass::AtCreate), "{r}");
        }
        for r in ["iwn0", "iwm0", "ath0", "rtwn0"] {
            assert_eq!(lladdr_class_of(&radio(r)), Some(LladdrClass::Native), "{r}");
        }
        assert_eq!(lladdr_class_of(&radio("bcmwl0")), None);
        assert!(DRIVERS
            .iter()
            .all(|d| (d.stack == Stack::LinuxKpi) == (d.lladdr == LladdrClass::AtCreate)));
    }

    #[test]
    fn the_table_is_sorted_and_has_no_twins() {
        assert!(DRIVERS.windows(2).all(|w| w[0].name < w[1].name));
    }
}
