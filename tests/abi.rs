//! The FreeBSD ABI of `abi` against FreeBSD's own headers.
//!
//! A hand-copied struct or request number that is wrong does not crash: the
//! kernel just answers EINVAL/ENOTTY to a request number no handler knows
//! (`ifioctl` in `sys/net/if.c`), on a machine we do not have. So the
//! expected values here never come from our code: the test writes a C probe
//! that includes FreeBSD's headers (the FreeBSD 15 userland headers that
//! PyPI's `ziglang` ships in `lib/libc/include/generic-freebsd`), compiles it
//! to assembly only with `python3 -m ziglang cc -target <arch>-freebsd -S`
//! (nothing is linked or run), reads each value back out of the `.quad` /
//! `.xword` directives, and compares it with `abi::abi_values()` on x86_64
//! and aarch64. Every mismatch is reported at once.
//!
//! modfind(2) and kldload(2), which the backend declares itself (the `libc`
//! crate lacks them), take a C string and return an int: there is no
//! struct or request number to compare, only their libc.so.7 symbols, which
//! the FreeBSD link in `.ci/cross-freebsd.sh` resolves.
//!
//! Without zig the comparison is skipped with a notice, except under `CI`,
//! where it fails: CI installs ziglang, so a missing zig there is a broken
//! job, not a reason to pass.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lagghook::abi;
use lagghook::domain::model::LaggProto;

/// Headers the probe includes, in an order that satisfies their own
/// dependencies (`net/if_lagg.h` needs `net/if.h` and `sys/socket.h`).
const HEADERS: &[&str] = &[
    "sys/types.h",
    "sys/param.h",
    "sys/ioccom.h",
    "sys/socket.h",
    "sys/sockio.h",
    "errno.h",
    "stddef.h",
    "ifaddrs.h",
    "net/if.h",
    "net/route.h",
    "net/if_dl.h",
    "net/if_types.h",
    "net/if_media.h",
    "net/ethernet.h",
    "net/if_lagg.h",
    "net80211/ieee80211.h",
    "net80211/ieee80211_ioctl.h",
    // The network check (issue 20): routing socket, bpf, IPv4/IPv6.
    "sys/time.h",
    "sys/sysctl.h",
    "net/route.h",
    "net/bpf.h",
    "netinet/in.h",
    "netinet6/in6_var.h",
];

/// Preprocessor macros: probed under `#ifdef`, so one a header lacks shows
/// up as "not defined" in the report instead of breaking the compile.
const MACROS: &[&str] = &[
    "IOC_VOID",
    "IOC_OUT",
    "IOC_IN",
    "IOC_INOUT",
    "IOCPARM_MASK",
    "IOCPARM_MAX",
    "SIOCGLAGG",
    "SIOCSLAGG",
    "SIOCGLAGGPORT",
    "SIOCSLAGGPORT",
    "SIOCSLAGGDELPORT",
    "SIOCGLAGGOPTS",
    "SIOCSIFLLADDR",
    "SIOCGHWADDR",
    "SIOCGIFFLAGS",
    "SIOCSIFFLAGS",
    "SIOCGIFMEDIA",
    "SIOCIFCREATE2",
    "SIOCIFDESTROY",
    "SIOCSIFNAME",
    "SIOCGIFMTU",
    "SIOCG80211",
    "IEEE80211_IOC_IC_NAME",
    "IEEE80211_CLONE_MACADDR",
    "SIOCGIFCAP",
    "IFCAP_RXCSUM",
    "IFCAP_TXCSUM",
    "IFCAP_VLAN_MTU",
    "IFCAP_VLAN_HWTAGGING",
    "IFCAP_JUMBO_MTU",
    "IFCAP_VLAN_HWCSUM",
    "IFCAP_TSO4",
    "IFCAP_TSO6",
    "IFCAP_LRO",
    "IFCAP_VLAN_HWFILTER",
    "IFCAP_VLAN_HWTSO",
    "IFCAP_LINKSTATE",
    "IFCAP_RXCSUM_IPV6",
    "IFCAP_TXCSUM_IPV6",
    "IFCAP_HWSTATS",
    "IFNAMSIZ",
    "ETHER_ADDR_LEN",
    "ETHERMTU",
    "AF_LOCAL",
    "AF_LINK",
    "IFF_UP",
    "LINK_STATE_UNKNOWN",
    "LINK_STATE_DOWN",
    "LINK_STATE_UP",
    "IFM_AVALID",
    "IFM_ACTIVE",
    "LAGG_MAX_PORTS",
    "LAGG_PORT_SLAVE",
    "LAGG_PORT_MASTER",
    "LAGG_PORT_STACK",
    "LAGG_PORT_ACTIVE",
    "LAGG_PORT_COLLECTING",
    "LAGG_PORT_DISTRIBUTING",
    "IEEE80211_MTU_MIN",
    "IEEE80211_MTU_MAX",
    "EPERM",
    "ENOENT",
    "ESRCH",
    "EIO",
    "ENXIO",
    "ENOMEM",
    "EACCES",
    "EBUSY",
    "EEXIST",
    "ENODEV",
    "EINVAL",
    "ENOSPC",
    "EPROTONOSUPPORT",
    "EOPNOTSUPP",
    "EADDRNOTAVAIL",
    "ENETDOWN",
    "AF_INET",
    "AF_INET6",
    "PF_ROUTE",
    "CTL_NET",
    "NET_RT_DUMP",
    "NET_RT_FLAGS",
    "RTM_DELETE",
    "RTM_GET",
    "RTA_DST",
    "RTA_GATEWAY",
    "RTA_NETMASK",
    "RTA_IFP",
    "RTF_UP",
    "RTF_GATEWAY",
    "RTF_HOST",
    "RTF_LLINFO",
    "RTF_STATIC",
    "IEEE80211_IOC_SSID",
    "SIOCDIFADDR",
    "SIOCDIFADDR_IN6",
    "BIOCGBLEN",
    "BIOCSETF",
    "BIOCSETIF",
    "BIOCIMMEDIATE",
    "BIOCSHDRCMPLT",
    "BPF_LD",
    "BPF_JMP",
    "BPF_RET",
    "BPF_H",
    "BPF_B",
    "BPF_ABS",
    "BPF_JEQ",
    "BPF_K",
    "AF_ROUTE",
    "RTM_VERSION",
    "RTM_IFINFO",
    "RTM_IFANNOUNCE",
    "IFAN_ARRIVAL",
    "IFAN_DEPARTURE",
    "IFF_LINK0",
];

/// Enum constants (`enum ifType`, `enum lagg_proto`, ...): no `#ifdef`
/// possible; a missing one is a compile error, shown with zig's message.
const ENUMS: &[&str] = &[
    "IFT_ETHER",
    "IFT_L2VLAN",
    "IFT_IEEE8023ADLAG",
    "LAGG_PROTO_NONE",
    "LAGG_PROTO_ROUNDROBIN",
    "LAGG_PROTO_FAILOVER",
    "LAGG_PROTO_LOADBALANCE",
    "LAGG_PROTO_LACP",
    "LAGG_PROTO_BROADCAST",
    "LAGG_PROTO_MAX",
    "LAGG_TYPE_ETHERNET",
    "IEEE80211_M_STA",
];

/// `struct name: fields` → `sizeof_<struct>` and `offsetof_<struct>_<field>`.
/// `ifreq`'s `ifr_*` members are macros into the union in C, which
/// `offsetof` accepts (`ifr_flagshigh` is `ifr_ifru.ifru_flags[1]`).
const STRUCTS: &[(&str, &[&str])] = &[
    ("sockaddr", &["sa_len", "sa_family", "sa_data"]),
    ("ifreq_buffer", &["length", "buffer"]),
    ("ieee80211req", &["i_name", "i_type", "i_val", "i_len", "i_data"]),
    (
        "ieee80211_clone_params",
        &["icp_parent", "icp_opmode", "icp_flags", "icp_bssid", "icp_macaddr"],
    ),
    (
        "ifreq",
        &[
            "ifr_name",
            "ifr_ifru",
            "ifr_addr",
            "ifr_buffer",
            "ifr_flags",
            "ifr_flagshigh",
            "ifr_media",
            "ifr_data",
            "ifr_reqcap",
            "ifr_curcap",
        ],
    ),
    (
        "ifmediareq",
        &[
            "ifm_name",
            "ifm_current",
            "ifm_mask",
            "ifm_status",
            "ifm_active",
            "ifm_count",
            "ifm_ulist",
        ],
    ),
    (
        "sockaddr_dl",
        &[
            "sdl_len",
            "sdl_family",
            "sdl_index",
            "sdl_type",
            "sdl_nlen",
            "sdl_alen",
            "sdl_slen",
            "sdl_data",
        ],
    ),
    (
        "if_data",
        &[
            "ifi_type",
            "ifi_physical",
            "ifi_addrlen",
            "ifi_hdrlen",
            "ifi_link_state",
            "ifi_vhid",
            "ifi_datalen",
            "ifi_mtu",
            "ifi_metric",
            "ifi_baudrate",
            "ifi_ipackets",
            "ifi_ierrors",
            "ifi_opackets",
            "ifi_oerrors",
            "ifi_collisions",
            "ifi_ibytes",
            "ifi_obytes",
            "ifi_imcasts",
            "ifi_omcasts",
            "ifi_iqdrops",
            "ifi_oqdrops",
            "ifi_noproto",
            "ifi_hwassist",
            "__ifi_epoch",
            "__ifi_lastchange",
        ],
    ),
    (
        "if_msghdr",
        &[
            "ifm_msglen",
            "ifm_version",
            "ifm_type",
            "ifm_addrs",
            "ifm_flags",
            "ifm_index",
            "ifm_data",
        ],
    ),
    (
        "if_announcemsghdr",
        &["ifan_msglen", "ifan_version", "ifan_type", "ifan_index", "ifan_name", "ifan_what"],
    ),
    (
        "ifaddrs",
        &[
            "ifa_next",
            "ifa_name",
            "ifa_flags",
            "ifa_addr",
            "ifa_netmask",
            "ifa_dstaddr",
            "ifa_data",
        ],
    ),
    (
        "lacp_opreq",
        &[
            "actor_prio",
            "actor_mac",
            "actor_key",
            "actor_portprio",
            "actor_portno",
            "actor_state",
            "partner_prio",
            "partner_mac",
            "partner_key",
            "partner_portprio",
            "partner_portno",
            "partner_state",
        ],
    ),
    ("lagg_reqport", &["rp_ifname", "rp_portname", "rp_prio", "rp_flags", "rp_psc"]),
    ("lagg_reqall", &["ra_ifname", "ra_proto", "ra_size", "ra_port", "ra_ports", "ra_psc"]),
    (
        "lagg_reqopts",
        &[
            "ro_ifname",
            "ro_opts",
            "ro_count",
            "ro_active",
            "ro_flapping",
            "ro_flowid_shift",
            "ro_bkt",
        ],
    ),
    ("iflaggparam", &["lagg_type", "reserved_8", "reserved_32"]),
    ("sockaddr_in", &["sin_len", "sin_family", "sin_port", "sin_addr", "sin_zero"]),
    (
        "sockaddr_in6",
        &["sin6_len", "sin6_family", "sin6_port", "sin6_flowinfo", "sin6_addr", "sin6_scope_id"],
    ),
    (
        "rt_msghdr",
        &[
            "rtm_msglen",
            "rtm_version",
            "rtm_type",
            "rtm_index",
            "rtm_flags",
            "rtm_addrs",
            "rtm_pid",
            "rtm_seq",
            "rtm_errno",
            "rtm_fmask",
            "rtm_inits",
            "rtm_rmx",
        ],
    ),
    (
        "rt_metrics",
        &["rmx_locks", "rmx_mtu", "rmx_expire", "rmx_weight", "rmx_nhidx", "rmx_filler"],
    ),
    ("in6_ifreq", &["ifr_name", "ifr_ifru"]),
    ("bpf_program", &["bf_len", "bf_insns"]),
    ("bpf_insn", &["code", "jt", "jf", "k"]),
    ("bpf_hdr", &["bh_tstamp", "bh_caplen", "bh_datalen", "bh_hdrlen"]),
];

/// The LP64 FreeBSD targets lagghook is built for (`.ci/cross-freebsd.sh`).
const TARGETS: &[&str] = &["x86_64-freebsd", "aarch64-freebsd"];

/// The C probe: one `unsigned long long` constant per item, named
/// `abi__<item>`, which the compiler writes out as a data directive.
fn probe_source() -> String {
    let mut c =
        String::from("/* Generated by lagghook tests/abi.rs: compiled with -S, never run. */\n");
    for h in HEADERS {
        c += &format!("#include <{h}>\n");
    }
    c += "#define KV(n, v) __attribute__((used)) \
          const unsigned long long abi__##n = (unsigned long long)(v);\n";
    for m in MACROS {
        c += &format!("#ifdef {m}\nKV({m}, {m})\n#endif\n");
    }
    for e in ENUMS {
        c += &format!("KV({e}, {e})\n");
    }
    for (s, fields) in STRUCTS {
        c += &format!("KV(sizeof_{s}, sizeof(struct {s}))\n");
        for f in *fields {
            c += &format!("KV(offsetof_{s}_{f}, offsetof(struct {s}, {f}))\n");
        }
    }
    c
}

/// Every item name the probe emits, in probe order.
fn probe_names() -> Vec<String> {
    let mut v: Vec<String> = MACROS.iter().chain(ENUMS).map(|s| s.to_string()).collect();
    for (s, fields) in STRUCTS {
        v.push(format!("sizeof_{s}"));
        v.extend(fields.iter().map(|f| format!("offsetof_{s}_{f}")));
    }
    v
}

/// `abi__NAME:` followed by `.quad N` (x86_64), `.xword N` (aarch64) or,
/// for a zero, possibly `.zero 8`.
fn parse_asm(asm: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut label: Option<&str> = None;
    for line in asm.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("abi__").and_then(|l| l.strip_suffix(':')) {
            label = Some(name);
            continue;
        }
        let Some(name) = label else { continue };
        let mut words = line.split_whitespace();
        let value = match (words.next(), words.next()) {
            (Some(".quad" | ".xword" | ".8byte" | ".dword"), Some(v)) => {
                let v = v.trim_end_matches(',');
                let parsed = match v.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => v.parse::<i128>().ok().map(|n| n as u64),
                };
                parsed
            }
            (Some(".zero" | ".space"), Some("8")) => Some(0),
            _ => None,
        };
        if let Some(v) = value {
            out.insert(name.to_string(), v);
            label = None;
        }
    }
    out
}

fn zig_available() -> bool {
    Command::new("python3")
        .args(["-m", "ziglang", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Compiles the probe for every target (in parallel: about a second in
/// all) and returns each target's values.
fn header_values(dir: &Path) -> Vec<(&'static str, BTreeMap<String, u64>)> {
    std::fs::create_dir_all(dir).expect("create probe dir");
    let src = dir.join("probe.c");
    std::fs::write(&src, probe_source()).expect("write probe.c");
    let jobs: Vec<(&str, PathBuf, std::process::Child)> = TARGETS
        .iter()
        .map(|t| {
            let asm = dir.join(format!("probe-{t}.s"));
            let child = Command::new("python3")
                .args(["-m", "ziglang", "cc", "-target", t, "-S", "-O0", "-g0", "-w", "-o"])
                .arg(&asm)
                .arg(&src)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn python3 -m ziglang cc");
            (*t, asm, child)
        })
        .collect();
    jobs.into_iter()
        .map(|(t, asm, child)| {
            let out = child.wait_with_output().expect("wait for zig cc");
            assert!(
                out.status.success(),
                "zig cc -target {t} failed on {}:\n{}",
                src.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            let text = std::fs::read_to_string(&asm).expect("read probe assembly");
            (t, parse_asm(&text))
        })
        .collect()
}

/// Proves every size, offset, request number and constant lagghook hands to
/// the kernel equals what FreeBSD's headers say, on both LP64 targets, and
/// that the probe and `abi_values()` list the same items (so neither can
/// silently stop checking something).
#[test]
fn abi_matches_freebsd_headers() {
    if !zig_available() {
        let why = "python3 -m ziglang is not available: cannot read FreeBSD's headers \
                   (pip install ziglang)";
        if std::env::var_os("CI").is_some() {
            panic!("{why}; CI must install it");
        }
        eprintln!("notice: skipping the FreeBSD ABI comparison: {why}");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("abi-probe");
    let headers = header_values(&dir);
    let ours = abi::abi_values();

    let mut problems = Vec::new();
    let our_names: BTreeSet<&str> = ours.iter().map(|(n, _)| *n).collect();
    let probed: BTreeSet<String> = probe_names().into_iter().collect();
    if our_names.len() != ours.len() {
        problems.push("abi_values() lists a name twice".to_string());
    }
    for name in &probed {
        if !our_names.contains(name.as_str()) {
            problems.push(format!("{name}: probed but missing from abi_values()"));
        }
    }
    for (name, value) in &ours {
        if !probed.contains(*name) {
            problems
                .push(format!("{name}: in abi_values() but not probed (add it to tests/abi.rs)"));
            continue;
        }
        for (target, values) in &headers {
            match values.get(*name) {
                None => problems.push(format!("{name}: not defined by the {target} headers")),
                Some(h) if h != value => problems.push(format!(
                    "{name}: lagghook has {value:#x} ({value}), {target} headers have {h:#x} ({h})"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} ABI difference(s) vs FreeBSD headers (probe kept in {}):\n  {}",
        problems.len(),
        dir.display(),
        problems.join("\n  ")
    );
}

/// Proves the pure-Rust `_IOC` encoding on the published vector (SIOCGLAGG
/// = `_IOWR('i', 143, struct lagg_reqall)`, an 80-byte struct), and pins
/// the computed SIOCGLAGG to the value in `sys/sockio.h` as a regression
/// anchor that needs no zig.
#[test]
fn ioc_encoding_matches_freebsd_vector() {
    assert_eq!(abi::ioc(abi::IOC_INOUT, b'i', 143, 80), 0xc050_698f);
    assert_eq!(abi::SIOCGLAGG, 0xc050_698f);
    assert_eq!(abi::SIOCSLAGGPORT, 0x8048_698d);
    assert_eq!(abi::SIOCSIFLLADDR, 0x8020_693c);
    // The length is masked to 13 bits, as IOCPARM_MASK does in the macro.
    assert_eq!(abi::ioc(abi::IOC_IN, b'i', 1, 0x2000 + 4), abi::ioc(abi::IOC_IN, b'i', 1, 4));
}

/// Proves the model's raw lagg protocol numbers are the header's.
#[test]
fn model_lagg_proto_numbers_are_abi_numbers() {
    let pairs = [
        (LaggProto::None, abi::LAGG_PROTO_NONE),
        (LaggProto::RoundRobin, abi::LAGG_PROTO_ROUNDROBIN),
        (LaggProto::Failover, abi::LAGG_PROTO_FAILOVER),
        (LaggProto::LoadBalance, abi::LAGG_PROTO_LOADBALANCE),
        (LaggProto::Lacp, abi::LAGG_PROTO_LACP),
        (LaggProto::Broadcast, abi::LAGG_PROTO_BROADCAST),
    ];
    for (proto, raw) in pairs {
        assert_eq!(proto.to_raw(), raw, "{proto}");
        assert_eq!(LaggProto::from_raw(raw), proto);
    }
}

/// Proves the probe parser reads both assemblers' spellings.
#[test]
fn probe_parser_reads_x86_and_arm_directives() {
    let asm = "abi__A:\n\t.quad\t3226495375 # 0xc050698f\n\
               abi__B:\n\t.xword\t18\n\
               abi__C:\n\t.zero\t8\n";
    let v = parse_asm(asm);
    assert_eq!(v.get("A"), Some(&0xc050_698f));
    assert_eq!(v.get("B"), Some(&18));
    assert_eq!(v.get("C"), Some(&0));
}
