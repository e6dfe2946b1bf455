//! The rc.conf(5) lines the simulator's rc reads ([`RcConf`]) and the
//! ifconfig(8) words in them ([`Word`]). rc.conf is sh(1) that rc sources
//! (`load_rc_config`, `libexec/rc/rc.subr`): FreeBSD accepts any variable
//! and hands every word of an `ifconfig_IF` to ifconfig unread, so a word
//! ifconfig does not know fails at boot (`ifconfig: foo: bad value`), not
//! when rc.conf is read. The simulator does the same: it refuses only
//! lines sh could not read, and what it cannot model (below); an unknown
//! or malformed word is a [`Word::Bad`], which fails its ifconfig command
//! at boot, on rc's console, as ifconfig's `errx(1, …)` does.
//!
//! Read in `freebsd/freebsd-src` main, `libexec/rc/network.subr` @
//! 03ccfdd2ecf36648affb5bb7868bc1dd2f8b195d (`ifconfig_up`,
//! `ifconfig_getargs`, `get_if_var`, `ifalias_af_common`, `ifnet_rename`,
//! `list_net_interfaces`, `wlan_up`, `clone_up`).
//!
//! Modelled (they change what lagghook sees: interfaces, flags, addresses,
//! membership, MTU):
//! - `cloned_interfaces` (lagg(4) ones; `IF:sticky` options dropped; other
//!   cloners are written to the console as not modelled at boot),
//!   `wlans_RADIO`, `create_args_IF`, `ifconfig_IF`, `ifconfig_DEFAULT`
//!   (for an interface without `ifconfig_IF`, as `get_if_var` defaults),
//!   `ifconfig_IF_ipv6`, `ifconfig_IF_aliasN` and `ifconfig_IF_aliases`
//!   (`ether`/`link` aliases set the link-level address; `inet`/`inet6`
//!   ones are addresses), `ifconfig_IF_name` (`ifnet_rename`) and
//!   `network_interfaces` (`AUTO`, or the interfaces `ifn_start` runs on,
//!   with `cloned_interfaces`);
//! - in an ifconfig command: `up`, `down`, `laggproto P`, `laggport IF`,
//!   `-laggport IF`, `mtu N`, `name NEW`, `ether`/`lladdr`/`link MAC`, and
//!   an `inet`/`inet6` address: addresses themselves are not modelled
//!   here, but giving an interface one brings it up (the driver's
//!   SIOCSIFADDR: `ether_ioctl` sets IFF_UP and calls `if_init`,
//!   `sys/net/if_ethersubr.c`, recalled, not re-read in a 14.x tree);
//!   ifconfig sets an address only after the command's other words, as
//!   its deferred `af_aifaddr` request does (`sbin/ifconfig/ifconfig.c`,
//!   recalled);
//! - rc's pseudo words: `DHCP`, `SYNCDHCP`, `NOSYNCDHCP` (dhclient itself
//!   is not run here), `WPA`, `HOSTAP` (hostapd is not run), `NOAUTO` (not
//!   in `network_interfaces=AUTO`'s list), `vnet JAIL` (dropped, as
//!   `ifconfig_getargs` drops it).
//!
//! Accepted and not applied, because they change nothing lagghook sees:
//! every other variable (`hostname`, `kld_list`, `ifconfig_IF_descr`,
//! `wlandebug_IF`, …; one the simulator does not read may hold shell
//! expansions), and the ifconfig words of [`IGNORED_FLAGS`] and
//! [`IGNORED_WITH_ARGUMENT`] with their
//! arguments: wireless settings (`ssid`, `channel`, `country`,
//! `regdomain`, `powersave`, …; rc applies `ifconfig_wlan0` while the vap
//! is down), IPv6 and ARP flags (`accept_rtadv`, `-ifdisabled`, …),
//! address options (`netmask`, `prefixlen`, `alias`, …), media, and
//! offload switches (`-tso`, `-rxcsum`, …: the simulator's NICs keep the
//! capabilities their machine entry gives them).
//!
//! Refused, because the simulator cannot model them: shell expansions
//! (`$x`, `$(…)`, backquotes) in a variable it reads; `wlanmode` other
//! than `sta`.

use std::collections::BTreeMap;
use std::fmt;

use crate::domain::create_args;
use crate::domain::model::{IfName, LaggProto, MacAddr};
use crate::domain::rc_vars::{one_line_value, OneLine};
use crate::domain::text;

/// The rc.conf(5) lines the simulator's rc reads. Built by
/// [`RcConf::parse`]; the default is an empty rc.conf (rc configures no
/// network interface).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RcConf {
    /// `cloned_interfaces`, in order.
    pub(super) cloned: Vec<IfName>,
    /// `cloned_interfaces` entries of other cloners than lagg(4).
    pub(super) other_clones: Vec<String>,
    /// `wlans_RADIO`: the children of each radio, radios in name order
    /// (`set` sorts the variables `wlan_up` reads).
    pub(super) wlans: BTreeMap<IfName, Vec<IfName>>,
    /// `create_args_CHILD` of a vap: its `wlanaddr`, if any.
    pub(super) wlanaddr: BTreeMap<IfName, MacAddr>,
    /// `create_args_CHILD` of a vap: the ifconfig words after the create
    /// parameters, applied as the vap is created.
    pub(super) wlan_args: BTreeMap<IfName, Vec<Word>>,
    /// `create_args_IF` of a cloned interface: ifconfig words applied to
    /// it as it is created (`ifconfig lagg0 create laggproto failover`).
    pub(super) clone_args: BTreeMap<IfName, Vec<Word>>,
    /// `ifconfig_IF`.
    pub(super) ifconfig: BTreeMap<IfName, Ifconfig>,
    /// `ifconfig_DEFAULT`: what `get_if_var` gives an interface without
    /// `ifconfig_IF` (and without `ifconfig_IF_ipv6`).
    pub(super) default: Option<Ifconfig>,
    /// `ifconfig_IF_ipv6`.
    pub(super) ipv6: BTreeMap<IfName, Ifconfig>,
    /// `ifconfig_IF_aliasN` (by N, as `ifalias_af_common` sorts them)
    /// and `ifconfig_IF_aliases`, split per address family.
    pub(super) aliases: BTreeMap<IfName, Aliases>,
    /// `ifconfig_IF_name`: `ifnet_rename`'s new names.
    pub(super) rename: BTreeMap<IfName, IfName>,
    /// `network_interfaces`; `None` is `AUTO` (every interface
    /// `ifconfig -l` lists, without the `NOAUTO` ones).
    pub(super) network_interfaces: Option<Vec<IfName>>,
    /// The layer-3 variables (`crate::sim::net`): `background_dhclient`,
    /// `synchronous_dhclient`.
    pub(in crate::sim) net: crate::sim::net::RcNet,
}

/// One `ifconfig_IF` (or `ifconfig_IF_ipv6`, `ifconfig_DEFAULT`) value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Ifconfig {
    /// What `ifconfig_getargs` leaves: the ifconfig words.
    pub(super) words: Vec<Word>,
    /// `WPA`: rc starts wpa_supplicant instead of `ifconfig IF up`.
    pub(super) wpa: bool,
    /// `HOSTAP`: rc starts hostapd instead (not run here).
    pub(super) hostap: bool,
    /// `DHCP`, `SYNCDHCP` or `NOSYNCDHCP`.
    pub(super) dhcp: bool,
    /// `SYNCDHCP` (`syncdhcpif`).
    pub(super) sync_dhcp: bool,
    /// `NOAUTO`: left out of `network_interfaces=AUTO`.
    pub(super) noauto: bool,
    /// `accept_rtadv` in an `ifconfig_IF_ipv6`: `ipv6_accept_rtadv_up`
    /// runs `ifconfig IF inet6 accept_rtadv up`.
    pub(super) accept_rtadv: bool,
}

/// An interface's aliases, as `ifalias` applies them: the link-level ones
/// in `ifconfig_up`, the IPv4 ones in `ipv4_up`, the IPv6 ones in `ipv6_up`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Aliases {
    pub(super) link: Vec<Vec<Word>>,
    pub(super) inet: Vec<Vec<Word>>,
    pub(super) inet6: Vec<Vec<Word>>,
}

/// An ifconfig word the simulator applies, with its argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Word {
    Up,
    Down,
    LaggProto(LaggProto),
    LaggPort(IfName),
    /// `-laggport IF`: SIOCSLAGGDELPORT.
    DelLaggPort(IfName),
    /// `ether MAC`, `lladdr MAC` or `link MAC`: SIOCSIFLLADDR, after the
    /// command's other words.
    Lladdr(MacAddr),
    /// An `inet` or `inet6` address (the text as written), after the
    /// command's other words: brings the interface up.
    Address(String),
    Mtu(u32),
    /// `name NEW`: SIOCSIFNAME.
    Name(IfName),
    /// What ifconfig refuses when it runs (`errx(1, …)`): an unknown
    /// word, a missing or malformed argument. The command stops there.
    Bad(String),
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Word::Up => f.write_str("up"),
            Word::Down => f.write_str("down"),
            Word::LaggProto(p) => write!(f, "laggproto {p}"),
            Word::LaggPort(p) => write!(f, "laggport {p}"),
            Word::DelLaggPort(p) => write!(f, "-laggport {p}"),
            Word::Lladdr(m) => write!(f, "ether {m}"),
            Word::Address(a) => f.write_str(a),
            Word::Mtu(n) => write!(f, "mtu {n}"),
            Word::Name(n) => write!(f, "name {n}"),
            Word::Bad(w) => f.write_str(w),
        }
    }
}

/// Why a scenario's rc.conf lines were refused: the line (1-based, in the
/// `rc_conf` text) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcConfError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for RcConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for RcConfError {}

/// ifconfig(8) words (FreeBSD 14's `sbin/ifconfig`: `ifconfig.c`,
/// `af_inet.c`, `af_inet6.c`, `ifieee80211.c`, `iflagg.c`, `ifvlan.c`,
/// `ifmedia.c`, as its manual lists them; the 802.11 ones as
/// `ieee80211_cmds` in `ifieee80211.c` of `fel1x-developer/freebsd-src` @
/// 2d614aa2fe3e037bd11d351b0b5cfda776e65814 lists them) that change nothing lagghook
/// sees, accepted and not applied: address options, ARP, descriptions,
/// groups and FIBs; IPv6 flags; media and offload switches (the
/// simulator's NICs keep their capabilities); 802.11 settings, which rc
/// applies while the vap is down; lagg options that change no port, MAC or
/// MTU; the settings of a vlan the simulator does not create. These take
/// no argument.
pub(super) const IGNORED_FLAGS: &str =
    "alias -alias add delete remove arp -arp staticarp -staticarp stickyarp -stickyarp \
    -description -descr debug -debug promisc -promisc monitor -monitor link0 -link0 link1 \
    -link1 link2 -link2 accept_rtadv -accept_rtadv ifdisabled -ifdisabled auto_linklocal \
    -auto_linklocal no_radr -no_radr nud -nud no_dad -no_dad no_prefer_iface \
    -no_prefer_iface defaultif -defaultif prefer_source -prefer_source anycast -anycast \
    tentative -tentative deprecated -deprecated autoconf -autoconf eui64 rxcsum -rxcsum \
    txcsum -txcsum rxcsum6 -rxcsum6 txcsum6 -txcsum6 tso -tso tso4 -tso4 tso6 -tso6 lro \
    -lro vlanmtu -vlanmtu vlanhwtag -vlanhwtag vlanhwcsum -vlanhwcsum vlanhwfilter \
    -vlanhwfilter vlanhwtso -vlanhwtso wol -wol wol_ucast -wol_ucast wol_mcast -wol_mcast \
    wol_magic -wol_magic polling -polling txtls -txtls mextpg -mextpg -ssid powersave \
    -powersave indoor -indoor outdoor -outdoor anywhere ecm -ecm wep -wep -nwkey bgscan \
    -bgscan wme -wme wmm -wmm hidessid -hidessid apbridge -apbridge burst -burst doth -doth dfs -dfs dotd \
    -dotd shortgi -shortgi ht -ht ht20 -ht20 ht40 -ht40 htcompat -htcompat ampdu -ampdu ampdurx \
    -ampdurx ampdutx -ampdutx amsdu -amsdu amsdurx -amsdurx amsdutx -amsdutx smps smpsdyn \
    -smps rifs -rifs stbc -stbc stbcrx -stbcrx stbctx -stbctx ldpc -ldpc ldpcrx -ldpcrx \
    ldpctx -ldpctx uapsd -uapsd vht -vht vht40 -vht40 vht80 -vht80 vht160 -vht160 vht80p80 \
    -vht80p80 ff -ff dturbo -dturbo pureg -pureg puren -puren dwds -dwds inact -inact tsn \
    -tsn quiet -quiet mac:open mac:allow mac:deny mac:radius mac:flush mac:detach \
    meshforward -meshforward meshgate -meshgate meshpeering -meshpeering meshrt:flush scan use_flowid -use_flowid \
    use_numa -use_numa lacp_fast_timeout -lacp_fast_timeout lacp_strict -lacp_strict \
    lacp_txtest -lacp_txtest lacp_rxtest -lacp_rxtest -vlandev";

/// The same, for words that take one argument (ifconfig's `NEXTARG`).
pub(super) const IGNORED_WITH_ARGUMENT: &str =
    "netmask broadcast prefixlen vhid description descr group -group fib tunnelfib metric \
    pltime vltime media mediaopt -mediaopt mode instance inst ssid nwid meshid stationname \
    station channel chanlist authmode powersavemode powersavesleep country regdomain bssid \
    ap wepmode weptxkey deftxkey wepkey nwkey txpower roaming bgscanidle bgscanintvl \
    scanvalid quiet_count quiet_period quiet_duration quiet_offset roam:rssi roam:rate \
    mcastrate mgtrate mgmtrate ucastrate maxretry rtsthreshold fragthreshold bmiss \
    bmissthreshold protmode htprotmode acm -acm ack -ack dtimperiod bintval mac:add mac:del \
    mac:kick ampdulimit ampdudensity amsdulimit chanswitch tdmaslot tdmaslotcnt tdmaslotlen \
    tdmabintval meshttl meshmetric meshpath meshrt:add meshrt:del hwmprootmode hwmpmaxhops \
    list lagghash flowid_shift rr_limit vlan vlandev vlanproto vlanpcp";

/// The same, for words that take two (`NEXTARG2`: the WME parameters).
pub(super) const IGNORED_WITH_TWO_ARGUMENTS: &str =
    "cwmin cwmax aifs txoplimit bss:cwmin bss:cwmax bss:aifs bss:txoplimit";

/// The address family ifconfig's next bare word is an address of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Inet,
    Inet6,
    Link,
}

/// How many arguments an ignored word takes, if it is one.
fn ignored_arity(w: &str) -> Option<usize> {
    let has = |list: &str| list.split_whitespace().any(|x| x == w);
    [IGNORED_FLAGS, IGNORED_WITH_ARGUMENT, IGNORED_WITH_TWO_ARGUMENTS].into_iter().position(has)
}

/// The ifconfig words of a value, as ifconfig reads its arguments:
/// commands with their arguments, an address family keyword (`inet`,
/// `inet6`, `link`, `ether`, `lladdr`) making the next bare word an
/// address of it (IPv4 without one), rc's pseudo words when `rc` (an
/// `ifconfig_IF`, not a `create_args_IF`, which goes to `ifconfig IF
/// create` as it is). Never fails: what ifconfig would refuse is a
/// [`Word::Bad`] that fails the command when it runs.
pub(super) fn ifconfig_words(value: &str, rc: bool) -> Ifconfig {
    let mut out = Ifconfig::default();
    let mut deferred: Vec<Word> = Vec::new();
    let mut family = Family::Inet;
    let mut words = value.split_whitespace().peekable();
    while let Some(w) = words.next() {
        // rc matches its pseudo words in any case (`[Dd][Hh][Cc][Pp]`,
        // `ifconfig_getargs`), and drops `vnet JAIL`.
        if rc {
            match w.to_ascii_uppercase().as_str() {
                "DHCP" | "SYNCDHCP" | "NOSYNCDHCP" => {
                    out.dhcp = true;
                    out.sync_dhcp = w.eq_ignore_ascii_case("SYNCDHCP");
                    continue;
                }
                "WPA" => {
                    out.wpa = true;
                    continue;
                }
                "HOSTAP" => {
                    out.hostap = true;
                    continue;
                }
                "NOAUTO" => {
                    out.noauto = true;
                    continue;
                }
                _ => {}
            }
            if w == "vnet" {
                words.next();
                continue;
            }
        }
        if w == "accept_rtadv" {
            out.accept_rtadv = true;
        }
        let mut arg = || words.next();
        let missing = || Word::Bad(format!("'{w}' requires argument"));
        let word = match w {
            "up" => Word::Up,
            "down" => Word::Down,
            "laggproto" => match arg() {
                None => missing(),
                Some(p) => match p.parse::<LaggProto>() {
                    Ok(p) => Word::LaggProto(p),
                    Err(_) => Word::Bad(format!("Invalid aggregation protocol: {p}")),
                },
            },
            "laggport" | "-laggport" | "name" => match arg() {
                None => missing(),
                Some(n) => match (IfName::new(n), w) {
                    (Ok(n), "laggport") => Word::LaggPort(n),
                    (Ok(n), "-laggport") => Word::DelLaggPort(n),
                    (Ok(n), _) => Word::Name(n),
                    (Err(e), _) => Word::Bad(format!("{w} {n}: {e}")),
                },
            },
            "mtu" => match arg() {
                None => missing(),
                Some(n) => match n.parse::<u32>() {
                    Ok(n) => Word::Mtu(n),
                    Err(_) => Word::Bad(format!("mtu {n}: invalid")),
                },
            },
            "inet" => {
                family = Family::Inet;
                continue;
            }
            "inet6" => {
                family = Family::Inet6;
                continue;
            }
            "link" | "ether" | "lladdr" => {
                family = Family::Link;
                continue;
            }
            _ => {
                if let Some(n) = ignored_arity(w) {
                    // ifconfig's `errx` for a missing argument.
                    if words.by_ref().take(n).count() < n {
                        let what =
                            if n == 1 { "argument".to_owned() } else { format!("{n} arguments") };
                        out.words.push(Word::Bad(format!("'{w}' requires {what}")));
                    }
                    continue;
                }
                // Not a command: an address of the current family.
                match family {
                    Family::Link => match w.parse::<MacAddr>() {
                        Ok(m) => deferred.push(Word::Lladdr(m)),
                        Err(_) => out.words.push(Word::Bad(format!("{w}: bad value"))),
                    },
                    Family::Inet if is_ipv4(w) => deferred.push(Word::Address(format!("inet {w}"))),
                    Family::Inet6 if is_ipv6(w) => {
                        deferred.push(Word::Address(format!("inet6 {w}")))
                    }
                    // A host name would be looked up; the simulator has
                    // no resolver, so it is what an unknown word is.
                    _ => out.words.push(Word::Bad(format!("{w}: bad value"))),
                }
                continue;
            }
        };
        out.words.push(word);
    }
    out.words.extend(deferred);
    out
}

/// `a.b.c.d` or `a.b.c.d/len`, as `inet_aton` and `in_getaddr` take it.
fn is_ipv4(w: &str) -> bool {
    let (addr, len) = w.split_once('/').map_or((w, None), |(a, l)| (a, Some(l)));
    addr.parse::<std::net::Ipv4Addr>().is_ok()
        && len.is_none_or(|l| l.parse::<u8>().is_ok_and(|l| l <= 32))
}

/// An IPv6 address, with `/len` or a `%zone`.
fn is_ipv6(w: &str) -> bool {
    let addr = w.split(['/', '%']).next().unwrap_or(w);
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}

/// A vap's `create_args`: its `wlanaddr`, and the ifconfig words after its
/// create parameters. `wlanmode` other than `sta` cannot be modelled.
///
/// ifconfig takes create parameters only up to the first word that is not
/// one: there it creates the vap with what it has and reads the rest as
/// commands on it (`ifconfig_ioctl`: `cmd_lookup(*argv, iscreate)` finds
/// no clone command, so the create callback runs and `iscreate` becomes 0;
/// `sbin/ifconfig/ifconfig.c` in `fel1x-developer/freebsd-src` @
/// 2d614aa2fe3e037bd11d351b0b5cfda776e65814). A `wlanaddr` after `country
/// DE` is then no command but an address ifconfig cannot read (`wlanaddr:
/// bad value`), and the vap has its factory address.
fn wlan_create_words(var: &str, value: &str) -> Result<(Option<MacAddr>, Vec<Word>), String> {
    let mut mac = None;
    let mut rest: Vec<&str> = Vec::new();
    let mut words = value.split_whitespace();
    while let Some(w) = words.next() {
        if !rest.is_empty() {
            rest.push(w);
            continue;
        }
        match w {
            "wlanaddr" => match words.next().map(str::parse::<MacAddr>) {
                Some(Ok(m)) => mac = Some(m),
                // ifconfig's `set80211clone_wlanaddr` refuses it
                // (`errx`): the vap is not created.
                _ => return Err(format!("{var}: wlanaddr needs a MAC address")),
            },
            "wlanmode" => {
                let mode = words.next().unwrap_or("");
                if mode != "sta" {
                    return Err(format!(
                        "{var}: wlanmode {}: the simulator models stations only (sta)",
                        text::echo(mode)
                    ));
                }
            }
            // The other create parameters the simulator does not model.
            _ => match create_args::param_arity(w) {
                Some(n) => {
                    for _ in 0..n {
                        words.next();
                    }
                }
                None => rest.push(w),
            },
        }
    }
    Ok((mac, ifconfig_words(&rest.join(" "), false).words))
}

/// A shell variable name: a letter or `_`, then letters, digits, `_`.
fn is_shell_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The value of `NAME=VALUE` as sh(1) would assign it, for the quoting
/// rc.conf uses: `"…"`, `'…'` or one bare word, then nothing or a
/// `#` comment; and whether it holds an expansion or escape the simulator
/// cannot do (`$`, backquotes, backslashes).
fn shell_value(rest: &str) -> Result<(String, bool), String> {
    let OneLine { value, quoted, after } = one_line_value(rest)?;
    if !quoted && value.contains(['"', '\'']) {
        return Err("a quote inside a bare word".into());
    }
    if !after.is_empty() && !after.starts_with('#') {
        return Err(format!("{} after the value", text::echo(after)));
    }
    Ok((value.to_owned(), value.contains(['$', '`', '\\'])))
}

/// An interface name in a variable or a value.
fn ifname(what: &str, s: &str) -> Result<IfName, String> {
    IfName::new(s).map_err(|e| format!("{what}: {}: {e}", text::echo(s)))
}

/// What rc does with a variable, from its name (`get_if_var` turns `.-/+`
/// in an interface name into `_`, so an interface part has none).
enum Var<'a> {
    Cloned,
    Wlans(&'a str),
    CreateArgs(&'a str),
    Ifconfig(&'a str),
    Default,
    Ipv6(&'a str),
    Alias(&'a str, u64),
    Aliases(&'a str),
    Name(&'a str),
    NetworkInterfaces,
    /// Everything else: not read.
    Other,
}

fn classify(name: &str) -> Var<'_> {
    let plain = |s: &str| !s.is_empty() && !s.contains('_');
    if name == "cloned_interfaces" {
        return Var::Cloned;
    }
    if name == "network_interfaces" {
        return Var::NetworkInterfaces;
    }
    if name == "ifconfig_DEFAULT" {
        return Var::Default;
    }
    if let Some(r) = name.strip_prefix("wlans_").filter(|r| plain(r)) {
        return Var::Wlans(r);
    }
    if let Some(r) = name.strip_prefix("create_args_").filter(|r| plain(r)) {
        return Var::CreateArgs(r);
    }
    let Some(rest) = name.strip_prefix("ifconfig_") else { return Var::Other };
    if plain(rest) {
        return Var::Ifconfig(rest);
    }
    let Some((ifn, what)) = rest.split_once('_') else { return Var::Other };
    if !plain(ifn) {
        return Var::Other;
    }
    match what {
        "ipv6" => Var::Ipv6(ifn),
        "name" => Var::Name(ifn),
        "aliases" => Var::Aliases(ifn),
        _ => match what.strip_prefix("alias").map(str::parse::<u64>) {
            Some(Ok(n)) => Var::Alias(ifn, n),
            _ => Var::Other,
        },
    }
}

/// An alias value split per family, as `ifalias_af_common` does: each
/// `inet`, `inet6`, `link` or `ether` starts an alias; a first one
/// without a family is IPv4 (rc warns that it "needs leading inet").
fn push_aliases(into: &mut Aliases, value: &str) {
    let mut current: Option<(Family, Vec<&str>)> = None;
    let flush = |c: Option<(Family, Vec<&str>)>, into: &mut Aliases| {
        if let Some((family, words)) = c {
            let text = match family {
                Family::Inet => format!("inet {}", words.join(" ")),
                Family::Inet6 => format!("inet6 {}", words.join(" ")),
                Family::Link => format!("ether {}", words.join(" ")),
            };
            let words = ifconfig_words(&text, false).words;
            match family {
                Family::Link => into.link.push(words),
                Family::Inet => into.inet.push(words),
                Family::Inet6 => into.inet6.push(words),
            }
        }
    };
    for w in value.split_whitespace() {
        let family = match w {
            "inet" => Some(Family::Inet),
            "inet6" => Some(Family::Inet6),
            "link" | "ether" => Some(Family::Link),
            _ => None,
        };
        match (family, current.as_mut()) {
            (Some(f), _) => flush(current.replace((f, Vec::new())), into),
            (None, Some((_, words))) => words.push(w),
            (None, None) => current = Some((Family::Inet, vec![w])),
        }
    }
    flush(current, into);
}

impl RcConf {
    /// Parses rc.conf(5) lines: `NAME=value` shell assignments (the last
    /// one of a name wins, as in sh), blank lines and `#` comments. See
    /// the module doc for what is modelled, ignored and refused; a
    /// refusal names its line. A `create_args_IF` for an interface rc does
    /// not create (neither a `wlans_` child nor in `cloned_interfaces`) is
    /// ignored, as rc ignores it.
    pub fn parse(text: &str) -> Result<RcConf, RcConfError> {
        let mut vars: BTreeMap<String, (usize, String, bool)> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| RcConfError { line, message };
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let Some((name, rest)) = t.split_once('=') else {
                return Err(err(format!("{} is not a NAME=\"value\" assignment", text::echo(t))));
            };
            if !is_shell_name(name) {
                return Err(err(format!("{} is not a variable name", text::echo(name))));
            }
            let (value, expands) = shell_value(rest).map_err(|e| err(format!("{name}: {e}")))?;
            vars.insert(name.to_owned(), (line, value, expands));
        }
        let mut by_line: Vec<(&String, &(usize, String, bool))> = vars.iter().collect();
        by_line.sort_by_key(|(_, (line, _, _))| *line);

        let mut rc = RcConf::default();
        let mut create_args: Vec<(usize, IfName, &str, &str)> = Vec::new();
        let mut aliases: BTreeMap<IfName, Vec<(u64, &str)>> = BTreeMap::new();
        let mut aliases_plural: BTreeMap<IfName, &str> = BTreeMap::new();
        for (name, (line, value, expands)) in by_line {
            let line = *line;
            let err = |message: String| RcConfError { line, message };
            let var = classify(name);
            if matches!(var, Var::Other) {
                // The layer-3 variables the simulated dhclient reads.
                if let Some(r) = rc.net.var(name, value) {
                    r.map_err(err)?;
                }
                continue;
            }
            if *expands {
                return Err(err(format!(
                    "{name}: shell expansions and escapes ($, `, \\) are not supported \
                     in a variable the simulator reads"
                )));
            }
            let ifn = |s: &str| ifname(name, s).map_err(err);
            match var {
                Var::Other => {}
                Var::Cloned => {
                    for w in value.split_whitespace() {
                        // `clone_up` parses `ifn:ifopt` (`sticky`).
                        let base = w.split(':').next().unwrap_or(w);
                        match IfName::new(base) {
                            Ok(n) if super::cloner_matches("lagg", &n) => rc.cloned.push(n),
                            _ => rc.other_clones.push(base.to_owned()),
                        }
                    }
                }
                Var::NetworkInterfaces => {
                    if !value.eq_ignore_ascii_case("auto") {
                        let mut list = Vec::new();
                        for w in value.split_whitespace() {
                            list.push(ifn(w)?);
                        }
                        rc.network_interfaces = Some(list);
                    }
                }
                Var::Wlans(radio) => {
                    let radio = ifn(radio)?;
                    let mut children = Vec::new();
                    for w in value.split_whitespace() {
                        children.push(ifn(w)?);
                    }
                    rc.wlans.insert(radio, children);
                }
                Var::CreateArgs(i) => create_args.push((line, ifn(i)?, name.as_str(), value)),
                Var::Ifconfig(i) => {
                    rc.ifconfig.insert(ifn(i)?, ifconfig_words(value, true));
                }
                Var::Default => rc.default = Some(ifconfig_words(value, true)),
                Var::Ipv6(i) => {
                    // `ifconfig_up` adds the `inet6` an address lacks.
                    let text = match value.split_whitespace().next() {
                        Some(first) if is_ipv6(first) => format!("inet6 {value}"),
                        _ => value.clone(),
                    };
                    let words = ifconfig_words(&text, true);
                    rc.net.set_accept_rtadv(ifn(i)?, words.accept_rtadv);
                    rc.ipv6.insert(ifn(i)?, words);
                }
                Var::Alias(i, n) => aliases.entry(ifn(i)?).or_default().push((n, value)),
                Var::Aliases(i) => {
                    aliases_plural.insert(ifn(i)?, value);
                }
                Var::Name(i) => {
                    rc.rename.insert(ifn(i)?, ifn(value)?);
                }
            }
        }
        // `ifconfig_IF_aliases`, then `ifconfig_IF_aliasN` by N, up to
        // the first missing N (`ifalias_af_common` stops at an empty one).
        for (i, mut list) in aliases
            .into_iter()
            .chain(aliases_plural.keys().map(|k| (k.clone(), Vec::new())).collect::<Vec<_>>())
        {
            list.sort_by_key(|(n, _)| *n);
            let entry = rc.aliases.entry(i.clone()).or_default();
            if let Some(plural) = aliases_plural.remove(&i) {
                push_aliases(entry, plural);
            }
            for (expected, (n, value)) in (0u64..).zip(&list) {
                if *n != expected {
                    break;
                }
                push_aliases(entry, value);
            }
        }
        // A create_args means something only for an interface rc creates;
        // rc never reads one for another (`lagghook rc-conf` prints a vap's
        // wlanaddr even when wlan.X.parent is unknown and wlans_ is a
        // comment), so neither does the simulator.
        let children: Vec<IfName> = rc.wlans.values().flatten().cloned().collect();
        for (line, ifn, var, value) in create_args {
            let err = |message: String| RcConfError { line, message };
            if children.contains(&ifn) {
                let (mac, words) = wlan_create_words(var, value).map_err(err)?;
                if let Some(mac) = mac {
                    rc.wlanaddr.insert(ifn.clone(), mac);
                }
                rc.wlan_args.insert(ifn, words);
            } else if rc.cloned.contains(&ifn) {
                // `laggtype` is a clone parameter (`iflagg.c`).
                let words: Vec<&str> = value.split_whitespace().collect();
                let mut kept = Vec::new();
                let mut it = words.iter();
                while let Some(w) = it.next() {
                    if *w == "laggtype" {
                        it.next();
                    } else {
                        kept.push(*w);
                    }
                }
                rc.clone_args.insert(ifn, ifconfig_words(&kept.join(" "), false).words);
            }
        }
        Ok(rc)
    }

    /// The radios `wlans_` variables name.
    pub fn radios(&self) -> impl Iterator<Item = &IfName> {
        self.wlans.keys()
    }

    /// What rc configures `ifn` with: `ifconfig_IF`, else
    /// `ifconfig_DEFAULT` (`_ifconfig_getargs`).
    pub(super) fn ifconfig_of(&self, ifn: &IfName) -> Option<&Ifconfig> {
        self.ifconfig.get(ifn).or(self.default.as_ref())
    }

    /// rc's `dhcpif IF`: `ifconfig_IF` (or `ifconfig_DEFAULT`) has DHCP,
    /// SYNCDHCP or NOSYNCDHCP.
    pub(in crate::sim) fn is_dhcp(&self, ifn: &IfName) -> bool {
        self.ifconfig_of(ifn).is_some_and(|c| c.dhcp)
    }

    /// `ifconfig_IF_ipv6`, else `ifconfig_DEFAULT` (the same
    /// `get_if_var` default; its pseudo words are dropped again).
    pub(super) fn ipv6_of(&self, ifn: &IfName) -> Option<&Ifconfig> {
        self.ipv6.get(ifn).or(self.default.as_ref())
    }

    /// The radio whose `wlans_` names `child`.
    pub(super) fn parent_of(&self, child: &IfName) -> Option<&IfName> {
        self.wlans.iter().find(|(_, c)| c.contains(child)).map(|(r, _)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::{mac, n, E};

    use crate::sim::rc::tests::SEED;

    fn err(text: &str) -> String {
        RcConf::parse(text).unwrap_err().to_string()
    }

    fn words(value: &str) -> Vec<String> {
        ifconfig_words(value, true).words.iter().map(Word::to_string).collect()
    }

    #[test]
    fn the_seed_lines_parse_into_what_rc_reads() {
        let rc = RcConf::parse(SEED).unwrap();
        assert_eq!(rc.cloned, [n("lagg0")]);
        assert_eq!(rc.wlans.get(&n("iwn0")), Some(&vec![n("wlan0")]));
        assert!(rc.wlanaddr.is_empty());
        let lagg0 = &rc.ifconfig[&n("lagg0")];
        assert_eq!(
            lagg0.words,
            [
                Word::Up,
                Word::LaggProto(LaggProto::Failover),
                Word::LaggPort(n("em0")),
                Word::LaggPort(n("wlan0"))
            ]
        );
        assert!(lagg0.dhcp && !lagg0.wpa);
        assert!(rc.ifconfig[&n("wlan0")].wpa);
        assert!(rc.ifconfig[&n("wlan0")].words.is_empty());
        assert_eq!(rc.radios().collect::<Vec<_>>(), [&n("iwn0")]);
        // rc reads no create_args for an interface it does not create.
        let rc = RcConf::parse("create_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"").unwrap();
        assert_eq!(rc, RcConf::default());
    }

    #[test]
    fn quoting_comments_and_the_last_assignment_follow_sh() {
        let rc = RcConf::parse(
            "ifconfig_em0=up # bare word\nifconfig_em0='mtu 1400'\n\
             create_args_wlan0=\"wlanaddr 00:11:22:33:44:55 bssid country DE\"\n\
             wlans_iwn0=\"wlan0\"\n",
        )
        .unwrap();
        assert_eq!(rc.ifconfig[&n("em0")].words, [Word::Mtu(1400)]);
        assert_eq!(rc.wlanaddr.get(&n("wlan0")), Some(&mac(E)));
        assert!(rc.wlan_args[&n("wlan0")].is_empty(), "country and bssid are not applied");
        // rc's pseudo words match in any case.
        let rc = RcConf::parse("ifconfig_wlan0=\"wpa syncdhcp\"").unwrap();
        assert!(rc.ifconfig[&n("wlan0")].wpa && rc.ifconfig[&n("wlan0")].dhcp);
    }

    /// Issue 19.4: what laptops write is what FreeBSD accepts: any
    /// variable, the wireless and IPv6 words, aliases, a rename, the
    /// interfaces rc starts. Each lands where rc reads it.
    #[test]
    fn real_laptop_lines_are_accepted_and_land_where_rc_reads_them() {
        let rc = RcConf::parse(
            "hostname=\"thinkpad\"\nkld_list=\"${kld_list} if_iwm\"\nsshd_enable=YES\n\
             wlans_iwm0=\"wlan0\"\n\
             ifconfig_wlan0=\"WPA powersave country DE regdomain ETSI SYNCDHCP\"\n\
             ifconfig_wlan0_ipv6=\"inet6 accept_rtadv\"\n\
             ifconfig_wlan0_name=\"wifi0\"\n\
             ifconfig_em0=\"-tso -lro media autoselect up\"\n\
             ifconfig_em0_alias0=\"inet 10.0.0.5/32\"\n\
             ifconfig_em0_alias1=\"ether 02:00:00:00:00:01\"\n\
             ifconfig_em0_alias3=\"inet 10.0.0.7/32\"\n\
             ifconfig_em0_descr=\"dock\"\n\
             network_interfaces=\"em0 wlan0\"\n\
             ifconfig_DEFAULT=\"SYNCDHCP\"\n\
             cloned_interfaces=\"lagg0:sticky tap0\"\n",
        )
        .unwrap();
        let wlan0 = &rc.ifconfig[&n("wlan0")];
        assert!(wlan0.wpa && wlan0.dhcp && wlan0.words.is_empty(), "{wlan0:?}");
        let v6 = &rc.ipv6[&n("wlan0")];
        assert!(v6.accept_rtadv && v6.words.is_empty());
        assert_eq!(rc.rename.get(&n("wlan0")), Some(&n("wifi0")));
        assert_eq!(rc.ifconfig[&n("em0")].words, [Word::Up]);
        let em0 = &rc.aliases[&n("em0")];
        assert_eq!(em0.inet, [vec![Word::Address("inet 10.0.0.5/32".into())]]);
        assert_eq!(em0.link, [vec![Word::Lladdr(mac("02:00:00:00:00:01"))]]);
        assert_eq!(rc.network_interfaces, Some(vec![n("em0"), n("wlan0")]));
        assert!(rc.default.as_ref().is_some_and(|d| d.dhcp));
        assert!(rc.ifconfig_of(&n("ue0")).is_some_and(|d| d.dhcp), "ifconfig_DEFAULT");
        assert_eq!(rc.cloned, [n("lagg0")]);
        assert_eq!(rc.other_clones, ["tap0"]);
    }

    /// ifconfig reads words as its commands and an address family's
    /// addresses; an address is set after the other words; what it would
    /// refuse fails at boot, not here.
    #[test]
    fn ifconfig_words_are_read_as_ifconfig_reads_them() {
        assert_eq!(
            words("inet 192.0.2.1/24 netmask 255.255.255.0 laggport em0 up"),
            ["laggport em0", "up", "inet 192.0.2.1/24"]
        );
        assert_eq!(words("ether 02:00:00:00:00:01 up"), ["up", "ether 02:00:00:00:00:01"]);
        assert_eq!(
            words("192.0.2.1 inet6 2001:db8::1/64 -ifdisabled"),
            ["inet 192.0.2.1", "inet6 2001:db8::1/64"]
        );
        assert_eq!(words("up frobnicate mtu x"), ["up", "frobnicate: bad value", "mtu x: invalid"]);
        assert_eq!(
            words("laggproto fast laggport"),
            ["Invalid aggregation protocol: fast", "'laggport' requires argument"]
        );
        assert_eq!(
            words("down -laggport wlan0 name wifi0 mtu 0 vnet jail1 NOAUTO"),
            ["down", "-laggport wlan0", "name wifi0", "mtu 0"]
        );
        assert!(ifconfig_words("NOAUTO", true).noauto);
    }

    /// Every ignored word is read with its arguments and applies nothing;
    /// no word is in both lists.
    #[test]
    fn ignored_words_take_their_arguments_and_apply_nothing() {
        for w in IGNORED_FLAGS.split_whitespace() {
            assert_eq!(ignored_arity(w), Some(0), "{w}");
            assert!(ifconfig_words(w, true).words.is_empty(), "{w}");
        }
        for (list, args) in [(IGNORED_WITH_ARGUMENT, 1), (IGNORED_WITH_TWO_ARGUMENTS, 2)] {
            for w in list.split_whitespace() {
                assert_eq!(ignored_arity(w), Some(args), "{w} twice");
                let value = format!("{w}{}", " frobnicate".repeat(args));
                assert!(ifconfig_words(&value, true).words.is_empty(), "{value}");
                let short = format!("{w}{}", " frobnicate".repeat(args - 1));
                assert!(
                    matches!(ifconfig_words(&short, true).words[..], [Word::Bad(_)]),
                    "{short}"
                );
            }
        }
    }

    /// ifconfig's 802.11 words with their arguments, as `ieee80211_cmds`
    /// lists them (`sbin/ifconfig/ifieee80211.c` in
    /// `fel1x-developer/freebsd-src` @
    /// 2d614aa2fe3e037bd11d351b0b5cfda776e65814): `bssid` and `ap` take a
    /// MAC, `cwmin` and its kind take two arguments, and the words users
    /// write (`wmm`, `-ampdutx`, `ht20`, `ampdulimit`, `roam:rssi`, …) are
    /// accepted; `-bssid` is a create parameter only, which ifconfig
    /// refuses on a vap that exists.
    #[test]
    fn wireless_words_take_the_arguments_ifconfig_gives_them() {
        let value = "bssid 00:11:22:33:44:99 ap 00:11:22:33:44:98 wmm -wmm -ampdutx ampdurx \
                     ht20 -ht20 ampdulimit 64k ampdudensity 8 amsdulimit 4k mac:radius \
                     cwmin 1 2 bss:txoplimit 3 94 acm 1 -ack 2 dtimperiod 3 bintval 100 \
                     quiet quiet_count 1 mgmtrate 6 smpsdyn vht80p80 dwds -inact tsn \
                     -indoor -outdoor stbcrx ldpctx meshid x meshttl 3 up";
        assert_eq!(words(value), ["up"]);
        assert_eq!(words("-bssid up"), ["-bssid: bad value", "up"]);
        assert_eq!(words("cwmin 1"), ["'cwmin' requires 2 arguments"]);
    }

    /// A vap's create parameters (`wlanaddr`, `wlanmode`, `bssid`, …) count
    /// only before its first other word: there ifconfig creates the vap
    /// and reads the rest as commands on it, which `wlanaddr` is not
    /// (`ifconfig_ioctl` and `cmd_lookup` in `sbin/ifconfig/ifconfig.c`,
    /// `fel1x-developer/freebsd-src` @
    /// 2d614aa2fe3e037bd11d351b0b5cfda776e65814): `country DE wlanaddr MAC`
    /// creates wlan0 with its factory address and fails on `wlanaddr`.
    #[test]
    fn create_parameters_count_only_before_the_first_command() {
        let rc = |args: &str| {
            RcConf::parse(&format!("wlans_iwn0=wlan0\ncreate_args_wlan0=\"{args}\"\n")).unwrap()
        };
        let late = rc(&format!("country DE wlanaddr {E}"));
        assert_eq!(late.wlanaddr.get(&n("wlan0")), None, "created before wlanaddr");
        let first = late.wlan_args[&n("wlan0")].first().cloned();
        assert_eq!(first, Some(Word::Bad("wlanaddr: bad value".into())));
        let early = rc(&format!("wlanaddr {E} bssid -beacons wdslegacy country DE"));
        assert_eq!(early.wlanaddr.get(&n("wlan0")), Some(&mac(E)));
        assert!(early.wlan_args[&n("wlan0")].is_empty());
        // After a command, wlanmode is no command either: not a refusal.
        let mode = rc("country DE wlanmode hostap");
        let first = mode.wlan_args[&n("wlan0")].first().cloned();
        assert_eq!(first, Some(Word::Bad("wlanmode: bad value".into())));
    }

    /// Each refusal names its line (in the rc_conf text): only what sh
    /// could not read, and what the simulator cannot model.
    #[test]
    fn errors_name_the_line_and_are_sh_syntax_or_model_limits() {
        for (text, want) in [
            ("# c\nifconfig_em0=\"up", "line 2: ifconfig_em0: no closing \""),
            ("ifconfig_em0=\"up\" down", "line 1: ifconfig_em0: \"down\" after the value"),
            ("ifconfig_em0=\"$x\"", "line 1: ifconfig_em0: shell expansions"),
            ("ifconfig_em0", "line 1: \"ifconfig_em0\" is not a NAME=\"value\" assignment"),
            ("if config=up", "line 1: \"if config\" is not a variable name"),
            ("wlans_iwn0=wlan0\ncreate_args_wlan0=\"wlanmode hostap\"", "line 2: create_args_wlan0: wlanmode \"hostap\": the simulator models stations only"),
            ("wlans_iwn0=wlan0\ncreate_args_wlan0=\"wlanaddr zz\"", "line 2: create_args_wlan0: wlanaddr needs a MAC address"),
        ] {
            let got = err(text);
            assert!(got.starts_with(want), "{text:?}: {got}");
            assert!(!got.contains(char::is_control), "{got:?}");
        }
        // What FreeBSD accepts, the simulator does too.
        for ok in [
            "hostname=\"x\"",
            "ifconfig_em0=\"inet 10.0.0.1/24\"",
            "ifconfig_em0_alias0=\"inet 10.0.0.2\"",
            "cloned_interfaces=\"vlan0\"",
            "wlans_iwn0=\"wlan0\"\nwlans_ath0=\"wlan0\"",
            "wlans_iwn0=wlan0\ncreate_args_wlan0=\"channel 6 wlanmode sta\"",
            "cloned_interfaces=lagg0\ncreate_args_lagg0=\"laggtype ethernet WPA\"",
            "ifconfig_em0=\"mtu 0\"",
        ] {
            assert!(RcConf::parse(ok).is_ok(), "{ok:?} refused");
        }
    }
}
