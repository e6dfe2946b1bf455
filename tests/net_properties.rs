//! Issue 20's properties over random storms of the network happenings
//! (`plug IF network=`, `associate IF bss=`, `set-network`, `wait`, a
//! flap within one step), played on a laptop whose cable and WiFi lead to
//! networks, with rc's dhclient in the background (`background_dhclient`):
//! devd never waits beyond the bound; a move that keeps the active port's
//! network never changes an address; at rest every lagg on a DHCP network
//! holds an address of its active port's network.
//!
//! The world: three IPv4 networks, `office` (10.1.0.0/24) and two cafés on
//! one subnet (192.168.1.0/24, gateway 192.168.1.1) behind gateways with
//! other MACs; BSSes `Office` and `OfficeExt` (one LAN, two SSIDs), `CafeA`
//! and `CafeB`. em0 is the primary port, so the active port is em0 while
//! its cable is in and wlan0 while its AP is in reach otherwise.

use proptest::prelude::*;

use lagghook::cli::simulate::run_scenario;
use lagghook::domain::config::Config;
use lagghook::scenario::{render, Expect, Scenario, Step, StepAction};
use lagghook::sim::{Machine, RcConf};

/// The bound of issue 20 point 6: devd never waits on lagghook (its runs
/// take no simulated time) nor on a backgrounded dhclient.
const DEVD_BOUND_S: f64 = 0.0;

const NETWORKS: &str = r#"
[[machine.network]]
name = "office"
subnet = "10.1.0.0/24"
gateway = "10.1.0.1"
gateway_mac = "00:0d:b9:00:00:01"
dhcp = { pool = "10.1.0.100-10.1.0.199" }

[[machine.network]]
name = "cafe-a"
subnet = "192.168.1.0/24"
gateway = "192.168.1.1"
gateway_mac = "00:0d:b9:00:00:a1"
dhcp = { pool = "192.168.1.100-192.168.1.199", delay_ms = 20 }

[[machine.network]]
name = "cafe-b"
subnet = "192.168.1.0/24"
gateway = "192.168.1.1"
gateway_mac = "00:0d:b9:00:00:b1"
dhcp = { pool = "192.168.1.100-192.168.1.199", delay_ms = 20 }

[[machine.bss]]
name = "Office"
ssid = "Office"
network = "office"

[[machine.bss]]
name = "OfficeExt"
ssid = "Office-EXT"
network = "office"

[[machine.bss]]
name = "CafeA"
ssid = "CafeA"
network = "cafe-a"

[[machine.bss]]
name = "CafeB"
ssid = "CafeB"
network = "cafe-b"

[[machine.interface]]
name = "em0"
kind = "ether"
mac = "00:11:22:33:44:55"
link = true
network = "office"

[[machine.interface]]
name = "wlan0"
kind = "wlan"
parent = "iwn0"
mac = "00:11:22:33:44:55"
link = true
bss = "Office"

[[machine.interface]]
name = "lagg0"
kind = "lagg"
proto = "failover"
ports = ["em0", "wlan0"]
dhcp = true
"#;

const RC_CONF: &str = "wlans_iwn0=\"wlan0\"\nifconfig_wlan0=\"WPA\"\n\
                       create_args_wlan0=\"wlanaddr 00:11:22:33:44:55\"\n\
                       ifconfig_em0=\"up\"\ncloned_interfaces=\"lagg0\"\n\
                       ifconfig_lagg0=\"up laggproto failover laggport em0 laggport wlan0 DHCP\"\n\
                       background_dhclient=\"YES\"\n";

const BSS: [(&str, &str); 4] =
    [("Office", "office"), ("OfficeExt", "office"), ("CafeA", "cafe-a"), ("CafeB", "cafe-b")];
const CABLES: [&str; 3] = ["office", "cafe-a", "cafe-b"];

/// What the generator knows of the world, to say which network the
/// active port is on.
#[derive(Clone)]
struct Track {
    cable: Option<&'static str>,
    wifi: Option<&'static str>,
}

impl Track {
    fn active_network(&self) -> Option<&'static str> {
        self.cable.or(self.wifi)
    }
}

/// A storm: each choice a happening possible at that moment, with whether
/// it is one happening (not a flap) and the network the active port is on
/// before and after it.
fn storm(choices: &[(u8, u8)]) -> Vec<(String, bool, Option<&'static str>, Option<&'static str>)> {
    let mut t = Track { cable: Some("office"), wifi: Some("office") };
    let mut out = Vec::new();
    let mut bss = "Office";
    for &(c, arg) in choices {
        let before = t.active_network();
        let (text, single) = match c % 8 {
            0 => {
                let n = CABLES[usize::from(arg) % CABLES.len()];
                t.cable = Some(n);
                (format!("plug em0 network={n}"), true)
            }
            1 if t.cable.is_some() => {
                t.cable = None;
                ("unplug em0".to_owned(), true)
            }
            2 | 1 => {
                let (b, n) = BSS[usize::from(arg) % BSS.len()];
                t.wifi = Some(n);
                bss = b;
                (format!("associate wlan0 bss={b}"), true)
            }
            3 if t.wifi.is_some() => {
                t.wifi = None;
                ("disassociate wlan0".to_owned(), true)
            }
            3 => {
                t.wifi = BSS.iter().find(|(b, _)| *b == bss).map(|(_, n)| *n);
                (format!("associate wlan0 bss={bss}"), true)
            }
            4 => {
                let n = CABLES[usize::from(arg) % CABLES.len()];
                (format!("set-network {n} dhcp.delay_ms={}", u32::from(arg) * 20), true)
            }
            5 => (format!("wait {}", u32::from(arg) % 120), true),
            6 if t.cable.is_some() => {
                (format!("unplug em0; +{}ms plug em0", u32::from(arg) * 4), false)
            }
            _ => {
                let n = CABLES[usize::from(arg) % CABLES.len()];
                t.cable = Some(n);
                (format!("plug em0 network={n}"), true)
            }
        };
        out.push((text, single, before, t.active_network()));
    }
    out
}

fn scenario(
    steps: &[(String, bool, Option<&'static str>, Option<&'static str>)],
    at_rest: bool,
) -> Scenario {
    let machine: Machine = Machine::parse(NETWORKS).unwrap();
    let config =
        Config::parse("[lagg0]\nports = [\"em0\", \"wlan0\"]\n", "n.toml".as_ref()).unwrap();
    let first = Step {
        text: "reconcile".into(),
        action: StepAction::Reconcile,
        expect: Expect { converged: Some(true), ..Expect::default() },
    };
    let steps = std::iter::once(first)
        .chain(steps.iter().map(|(text, single, before, after)| {
            let mut expect = Expect { devd_blocked_max: Some(DEVD_BOUND_S), ..Expect::default() };
            if at_rest {
                if *single && before.is_some() && before == after {
                    expect.addr_changes = Some(0);
                }
                if let Some(n) = after {
                    expect.network.insert("lagg0".into(), (*n).to_owned());
                }
            }
            let action = text.parse().map(StepAction::Happen).unwrap_or_else(|_| {
                // A flap: the parser of scenario files builds it.
                let file = format!(
                    "description = \"\"\nconfig = \"\"\n{NETWORKS}\n[[step]]\ndo = \"{text}\"\n"
                );
                Scenario::parse(&file, "flap").unwrap().steps.remove(0).action
            });
            Step { text: text.clone(), action, expect }
        }))
        .collect();
    Scenario {
        name: "network storm".into(),
        description: String::new(),
        config,
        machine,
        rc_conf: Some(RcConf::parse(RC_CONF).unwrap()),
        steps,
    }
}

proptest! {
    // A tenth of PROPTEST_CASES (CI: 2,000 of its 20,000) with a floor of
    // 32: one case plays up to 8 steps of up to two minutes of simulated
    // time each, with lagghook's runs and their -n copies.
    #![proptest_config(ProptestConfig::with_cases(
        (ProptestConfig::default().cases / 10).max(32)
    ))]

    /// devd never waits on an action beyond the bound, whatever the
    /// networks do (lagghook's runs and a backgrounded dhclient return at
    /// once), and every run succeeds.
    #[test]
    fn network_storms_never_keep_devd_waiting(
        choices in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..8),
    ) {
        let steps = storm(&choices);
        let scenario = scenario(&steps, false);
        let report = run_scenario(&scenario).unwrap();
        let texts: Vec<&String> = steps.iter().map(|s| &s.0).collect();
        prop_assert!(report.failures() == 0, "storm {:?}\n{}", texts, render(&scenario, &report, true));
        let failed_runs: Vec<&String> = report
            .steps
            .iter()
            .flat_map(|step| &step.log)
            .filter(|line| line.starts_with("lagghook ") && line.contains(" exited "))
            .collect();
        prop_assert!(failed_runs.is_empty(), "storm {:?}: {:?}", texts, failed_runs);
    }

    /// A move that keeps the active port's network never changes an
    /// address, and at rest the lagg is on its active port's network (an
    /// address of it, the default route to its gateway, the right ARP
    /// entry): the stock recipe fails it on the first plug into another
    /// network (lagg0 stays up, so rc's dhclient hears nothing).
    #[test]
    #[ignore = "h20core: open — storms of undecided moves onto networks never recorded, whose DHCP server is slow, can end without an address (the saved regression and h20-notes 05:55); the deadline path and the undecided restart need another look"]
    fn network_storms_keep_same_network_addresses_and_readdress_new_ones(
        choices in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..8),
    ) {
        let steps = storm(&choices);
        let scenario = scenario(&steps, true);
        let report = run_scenario(&scenario).unwrap();
        let texts: Vec<&String> = steps.iter().map(|s| &s.0).collect();
        prop_assert!(report.failures() == 0, "storm {:?}\n{}", texts, render(&scenario, &report, true));
    }
}
