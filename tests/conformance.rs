//! Conformance, the simulator half (always) and the FreeBSD half
//! (`cfg(target_os = "freebsd")`, `#[ignore]`: root only).
//!
//! The differential harness (`lagghook::conformance`) plays kernel
//! happenings on a vnet jail's real kernel and on the simulator and reports
//! every difference; the command that runs it is `cargo run --example
//! conformance` (README, CONTRIBUTING.md). What can be proved here, without
//! a FreeBSD kernel: every one of lagghook's bodies passes on the
//! simulator; the simulator's answers to the probes are what its code
//! claims (so a kernel run that answers otherwise is a difference, not a
//! surprise); the harness finds a difference a wrong world makes, and
//! refuses to start where it cannot work. The clean-up after a signal is
//! tested by `tests/cleanup.rs`, a binary of its own (it must block
//! signals in its main thread).

use lagghook::conformance::bodies::{self, BodyResult};
use lagghook::conformance::command::{compare_all, parse, run_with_host};
use lagghook::conformance::jail::{exit, FreeBsdHost};
use lagghook::conformance::report::{ask, play};
use lagghook::conformance::sequence::{probes, Sequence};
use lagghook::conformance::step::{Outcome, Step};
use lagghook::conformance::world::{SimWorld, World, WorldError};
use lagghook::domain::event::DevdEvent;
use lagghook::kernel::Kernel;

/// Proves each body of lagghook passes against the simulator, and names
/// the one that cannot run yet (issue 20's network check) as skipped.
#[test]
fn every_body_passes_on_the_simulator() {
    for body in bodies::all() {
        let got = bodies::run_body(&body, &mut SimWorld::new());
        if body.name.contains("network check") {
            assert!(matches!(got, BodyResult::Skipped(_)), "{}: {got:?}", body.name);
        } else {
            assert_eq!(got, BodyResult::Passed, "{}", body.name);
        }
    }
}

/// The simulator's answer to probe `n` (0-based), as the report prints it.
fn sim_answer(n: usize) -> Vec<String> {
    let probe = &probes()[n];
    ask(probe, &mut SimWorld::new(), &mut SimWorld::new()).unwrap().sim
}

/// Pins what the simulator predicts for the open questions, so a kernel
/// run that answers otherwise shows up as a difference to fix or cite.
#[test]
fn the_simulator_answers_the_probes_as_its_code_says() {
    // 1. `ifconfig down` on a tap and an epair: no LINK_DOWN, link stays.
    let a = sim_answer(0);
    assert!(a[0].ends_with("events none"), "{a:?}");
    assert!(a[1].contains("lhc0 ether down link active"), "{a:?}");
    assert!(a[2].ends_with("events none"), "{a:?}");
    // 2. SIOCSIFLLADDR on a running member: taken, no event, the lagg's
    // address unchanged; lagg_init gives the member the lagg's back.
    let a = sim_answer(1);
    assert!(a[0].ends_with("events none"), "{a:?}");
    assert!(a[1].contains("ether 02:00:5e:10:00:09"), "{a:?}");
    assert!(a[2].contains("lagg0 lagg UP link active mtu 1500 ether hw:lhc0"), "{a:?}");
    assert!(a[3].contains("lhc1 ether UP link active mtu 1500 ether hw:lhc0"), "{a:?}");
    // 3. A destroyed port's LINK_DOWN before its DETACH; an epair's peer
    // goes with it, its LINK_DOWN before the lagg's.
    let a = sim_answer(2);
    assert!(a[0].ends_with("events lhc0 LINK_DOWN, lhc0 DETACH"), "{a:?}");
    assert!(
        a[1].ends_with(
            "events lhc1 LINK_DOWN, lhp1 LINK_DOWN, lagg0 LINK_DOWN, lhc1 DETACH, lhp1 DETACH"
        ),
        "{a:?}"
    );
    // 4. The last port goes: lagg0 LINK_DOWN, zero address, no capability.
    let a = sim_answer(3);
    assert!(a[0].ends_with("events lagg0 LINK_DOWN"), "{a:?}");
    assert!(a[1].contains("link no carrier mtu 1500 ether 00:00:00:00:00:00 caps=-/-"), "{a:?}");
    // 5. A vap takes `ether` up or down; wlanaddr at creation.
    let a = sim_answer(4);
    assert!(a[0].contains("ether 02:00:5e:10:00:0a"), "{a:?}");
    assert!(a[1].contains("ether 02:00:5e:10:00:0b"), "{a:?}");
    assert!(a[3].contains("ether 02:00:5e:10:00:0c"), "{a:?}");
}

/// The simulator, but a tap's cable pull reports nothing: the kind of
/// wrong model the harness exists to catch.
struct Mutant(SimWorld);

impl World for Mutant {
    fn label(&self) -> &'static str {
        "kernel"
    }
    fn reset(&mut self) -> Result<(), WorldError> {
        self.0.reset()
    }
    fn apply(&mut self, step: &Step) -> Result<Outcome, WorldError> {
        self.0.apply(step)
    }
    fn settle(&mut self) {
        self.0.settle()
    }
    fn kernel(&mut self) -> &mut dyn Kernel {
        self.0.kernel()
    }
    fn take_events(&mut self) -> Result<Vec<DevdEvent>, WorldError> {
        let events = self.0.take_events()?;
        Ok(events.into_iter().filter(|e| e.kind != "LINK_DOWN").collect())
    }
    fn transient(&self) -> &std::collections::BTreeMap<String, String> {
        self.0.transient()
    }
}

/// Proves the harness can fail: a world that loses LINK_DOWN events is
/// reported at the very step, and the run's count of differences (the exit
/// status) is not 0.
#[test]
fn a_world_that_differs_is_reported_at_the_step() {
    let seq = Sequence::of("pull", &["create-tap lhc0", "open lhc0", "close lhc0", "destroy lhc0"]);
    let r = play(&seq, &mut Mutant(SimWorld::new()), &mut SimWorld::new()).unwrap();
    let diffs: Vec<(usize, &Vec<String>)> = r
        .steps
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.diffs.is_empty())
        .map(|(i, s)| (i + 1, &s.diffs))
        .collect();
    // The destroy of a closed tap reports no LINK_DOWN in either world.
    assert_eq!(diffs.len(), 1, "{diffs:?}");
    assert_eq!(diffs[0].0, 3);
    assert_eq!(diffs[0].1, &vec!["link events: kernel none; simulator lhc0 LINK_DOWN".to_owned()]);
    let o = parse(&["--random".into(), "1".into(), "--steps".into(), "10".into()]).unwrap();
    let report =
        compare_all(&o, &mut Mutant(SimWorld::new()), &mut SimWorld::new(), vec![]).unwrap();
    assert!(report.differences() > 0);
    let text = report.render_brief();
    assert!(text.contains("DIFFERENCE link events: kernel"), "{text}");
    assert!(text.contains("summary:"), "{text}");
}

/// Proves the command refuses to start where it cannot create a vnet jail
/// of its own (here: not FreeBSD, or not root), with EX_UNAVAILABLE and the
/// reason, and takes no step; and that a bad option is a usage error.
#[test]
fn the_command_refuses_to_start_outside_freebsd_as_root() {
    let on_freebsd_as_root = std::env::consts::OS == "freebsd" && nix::unistd::geteuid().is_root();
    if !on_freebsd_as_root {
        assert_eq!(run_with_host(&[], &mut FreeBsdHost), exit::REFUSED);
    }
    assert_eq!(run_with_host(&["--frobnicate".into()], &mut FreeBsdHost), exit::USAGE);
}

#[cfg(target_os = "freebsd")]
mod freebsd_arm {
    //! The kernel half: the whole conformance run, in a vnet jail the
    //! command creates and removes (root on FreeBSD 14 or 15). The command
    //! itself is what CI and README run; this is the same through
    //! `cargo test -- --ignored`.
    use super::*;
    use lagghook::domain::model::{IfName, MacAddr};
    use lagghook::sys::NativeKernel;
    use std::process::Command;

    #[test]
    #[ignore = "needs root on FreeBSD 14 or 15 (creates a vnet jail, taps, epairs, laggs)"]
    fn the_kernel_and_the_simulator_agree() {
        let args: Vec<String> =
            ["--random", "2", "--steps", "20", "--brief"].map(String::from).into();
        assert_eq!(run_with_host(&args, &mut FreeBsdHost), exit::SAME);
    }

    /// wpa_supplicant's own address as the backend reads it (its control
    /// socket, `sys::wpa_ctrl`) against `wpa_cli -i IF status`, hostap's
    /// own client, for every vap of this host. It has no jail and no sim
    /// twin: a vnet jail has no radio, and the simulator's answer is its
    /// own model, so the only thing to compare with is the host's real
    /// wpa_supplicant. It only reads (it may create /var/run/lagghook,
    /// the directory a run creates anyway). Where wpa_cli gets an
    /// `address=` line, the backend must read `Known` with that address;
    /// where wpa_cli gets none, it must not claim one. On a host without
    /// a vap, or where no wpa_supplicant answers, it proves nothing, and
    /// says so on stderr.
    #[test]
    #[ignore = "needs root on FreeBSD with a wlan vap that wpa_supplicant runs for"]
    fn wpa_supplicant_address_is_what_wpa_cli_reads() {
        use lagghook::domain::model::{IfKind, WpaAddress};
        let mut kernel = NativeKernel::open().unwrap();
        let vaps: Vec<IfName> = kernel
            .interfaces()
            .unwrap()
            .into_iter()
            .filter(|i| i.kind == IfKind::Wlan)
            .map(|i| i.name)
            .collect();
        let mut compared = 0;
        for vap in &vaps {
            let ours = kernel.wpa_supplicant_address(vap).unwrap();
            let out = Command::new("/usr/sbin/wpa_cli")
                .args(["-p", "/var/run/wpa_supplicant", "-i", vap.as_str(), "status"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let theirs = text
                .lines()
                .find_map(|line| line.strip_prefix("address="))
                .map(|mac| mac.trim().parse::<MacAddr>().unwrap());
            match theirs {
                Some(mac) if out.status.success() => {
                    assert_eq!(ours, WpaAddress::Known(mac), "{vap}: wpa_cli said\n{text}");
                    compared += 1;
                }
                _ => assert!(
                    !matches!(ours, WpaAddress::Known(_)),
                    "{vap}: lagghook read {ours:?}, wpa_cli got no address:\n{text}"
                ),
            }
        }
        eprintln!("wpa_supplicant: {compared} of {} vaps compared with wpa_cli", vaps.len());
    }
}

/// Issue 20: the network check's probe against a gateway in another
/// network stack. lagg0 (over lhc0) holds 192.0.2.100/24 with 192.0.2.1 as
/// its default gateway, which answers ARP. First the probe says the same
/// network; after the gateway's MAC changes, another. Kept apart from the
/// differential harness's bodies: its FreeBSD half needs a second vnet
/// jail as the gateway, which the harness's worlds do not have.
mod network_check {
    use lagghook::domain::attach::{exchange, probed, verdict, Verdict};
    use lagghook::domain::config::Config;
    use lagghook::domain::model::{IfName, MacAddr};
    use lagghook::domain::network::Networks;
    use lagghook::kernel::Kernel;
    use lagghook::run::netcheck::observation;

    /// TEST-NET-1 (RFC 5737).
    pub(super) const LAGG_ADDR: &str = "192.0.2.100";
    pub(super) const GATEWAY: &str = "192.0.2.1";

    fn lagg0() -> IfName {
        IfName::new("lagg0").unwrap()
    }

    pub(super) fn config() -> Config {
        Config::parse("[lagg0]\nports = [\"lhc0\"]\n", "conformance.toml".as_ref()).unwrap()
    }

    /// What a converged run records of lagg0's network: its address, the
    /// default route, the gateway's MAC from the neighbour table.
    pub(super) fn record(kernel: &mut dyn Kernel) -> Networks {
        let obs = observation(kernel, &lagg0()).unwrap();
        let seen = obs.network(1).unwrap_or_else(|| panic!("no network in {obs:?}"));
        assert_eq!(seen.gateway.map(|g| g.ip.to_string()), Some(GATEWAY.to_owned()), "{obs:?}");
        assert_eq!(seen.inet.first().map(|a| a.addr.to_string()), Some(LAGG_ADDR.to_owned()));
        let mut nets = Networks::default();
        nets.of_mut(&lagg0()).record(seen);
        nets
    }

    /// The probe exchange for the recorded network, and its verdict.
    pub(super) fn probe(kernel: &mut dyn Kernel, nets: &Networks) -> Verdict {
        let cfg = &config().laggs[0].network;
        let networks = probed(cfg, nets.of(&lagg0()).unwrap());
        let mac: MacAddr =
            kernel.interfaces().unwrap().into_iter().find(|i| i.name == lagg0()).unwrap().mac;
        let x = exchange(cfg, mac, &networks, None).unwrap();
        let result = kernel.probe(&lagg0(), &x).unwrap();
        assert!(result.elapsed_ms <= x.budget_ms, "{result:?}");
        verdict(&networks, &x, &result, None)
    }

    const MACHINE: &str = r#"
[machine]
failover_rx_all = 1
[[machine.network]]
name = "test"
subnet = "192.0.2.0/24"
gateway = "192.0.2.1"
gateway_mac = "02:00:5e:30:00:01"
dhcp = { pool = "192.0.2.100-192.0.2.100" }
[[machine.interface]]
name = "lhc0"
kind = "ether"
mac = "02:00:5e:10:00:01"
link = true
network = "test"
[[machine.interface]]
name = "lagg0"
kind = "lagg"
ports = ["lhc0"]
dhcp = true
"#;

    /// The simulator half.
    #[test]
    fn the_probe_says_same_then_another_after_the_gateway_mac_changes() {
        use lagghook::sim::{Machine, SimKernel};
        let mut k = SimKernel::from_machine(&Machine::parse(MACHINE).unwrap()).unwrap();
        let nets = record(&mut k);
        let v = probe(&mut k, &nets);
        assert!(matches!(v, Verdict::Same { unicast: true, .. }), "{v:?}");
        k.happen(&"set-network test gateway_mac=02:00:5e:30:00:02".parse().unwrap()).unwrap();
        let v = probe(&mut k, &nets);
        assert!(matches!(v, Verdict::Another { .. }), "{v:?}");
    }

    /// The FreeBSD half: two vnet jails joined by an epair, one the laptop
    /// (lagghook builds lagg0 over the a side), one the gateway (the b
    /// side, 192.0.2.1); the probe, by bpf(4) on lagg0, says same, then,
    /// after the gateway's MAC changes (`ifconfig epairNb ether`), another.
    /// The laptop's part runs in two phases inside its jail, the networks
    /// recorded by the first kept in a file for the second; both jails go
    /// afterwards, and their interfaces with them.
    #[cfg(target_os = "freebsd")]
    mod freebsd {
        use super::*;
        use lagghook::domain::plan::Scope;
        use lagghook::run::log::MemoryLog;
        use lagghook::run::state::MemoryStore;
        use lagghook::run::{reconcile, Context};
        use lagghook::sys::NativeKernel;
        use std::process::Command;

        const INSIDE: &str = "LAGGHOOK_NETCHECK_INSIDE";
        const STORE: &str = "LAGGHOOK_NETCHECK_NETWORKS";
        const PORT: &str = "LAGGHOOK_NETCHECK_PORT";
        const TEST: &str =
            "conformance::network_check::freebsd::the_probe_says_same_then_another_after_the_gateway_mac_changes";

        fn sh(cmd: &str, args: &[&str]) -> String {
            let out = Command::new(cmd).args(args).output().unwrap();
            assert!(
                out.status.success(),
                "{cmd} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        }

        /// Inside the laptop's jail. Phase 1: the a side becomes lhc0,
        /// lagghook builds lagg0 over it, lagg0 gets its address and
        /// default route by hand (what dhclient-script's BOUND does), one
        /// ping makes the gateway's ARP entry; then the record and a probe:
        /// the same network. Phase 2, after the host changed the gateway's
        /// MAC: the probe of the recorded network says another.
        fn inside(phase: &str) {
            let store = std::env::var(STORE).unwrap();
            let mut kernel = NativeKernel::open().unwrap();
            if phase == "1" {
                sh("/sbin/ifconfig", &[&std::env::var(PORT).unwrap(), "name", "lhc0", "up"]);
                let (mut log, mut state) = (MemoryLog::default(), MemoryStore::default());
                for _ in 0..3 {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    let mut ctx = Context {
                        kernel: &mut kernel,
                        log: &mut log,
                        state: &mut state,
                        now: 1,
                        dry_run: false,
                    };
                    reconcile(&mut ctx, &config(), &Scope::All).unwrap();
                }
                sh("/sbin/ifconfig", &["lagg0", "inet", &format!("{LAGG_ADDR}/24")]);
                sh("/sbin/route", &["-q", "add", "default", GATEWAY]);
                sh("/sbin/ping", &["-c", "1", "-t", "2", GATEWAY]);
                let nets = record(&mut kernel);
                let v = probe(&mut kernel, &nets);
                assert!(matches!(v, Verdict::Same { unicast: true, .. }), "{v:?}");
                let text = lagghook::run::networks::to_text(&nets).unwrap();
                std::fs::write(&store, text).unwrap();
            } else {
                let nets = lagghook::run::networks::parse(&std::fs::read(&store).unwrap()).unwrap();
                let v = probe(&mut kernel, &nets);
                assert!(matches!(v, Verdict::Another { .. }), "{v:?}");
            }
        }

        #[test]
        #[ignore = "needs root on FreeBSD 14 or 15 (vnet jails, epair, lagg, bpf)"]
        fn the_probe_says_same_then_another_after_the_gateway_mac_changes() {
            if let Ok(phase) = std::env::var(INSIDE) {
                return inside(&phase);
            }
            let id = std::process::id();
            let (laptop, gw) =
                (format!("lagghook-net-laptop-{id}"), format!("lagghook-net-gw-{id}"));
            for j in [&laptop, &gw] {
                sh("/usr/sbin/jail", &["-c", &format!("name={j}"), "path=/", "vnet", "persist"]);
            }
            let a = sh("/sbin/ifconfig", &["epair", "create"]);
            let b = format!("{}b", a.trim_end_matches('a'));
            sh("/sbin/ifconfig", &[&a, "vnet", &laptop]);
            sh("/sbin/ifconfig", &[&b, "vnet", &gw]);
            let gw_addr = format!("{GATEWAY}/24");
            sh("/usr/sbin/jexec", &[&gw, "/sbin/ifconfig", &b, "inet", &gw_addr, "up"]);
            let store = std::env::temp_dir().join(format!("lagghook-net-{id}.toml"));
            let exe = std::env::current_exe().unwrap();
            let phase = |p: &str| {
                Command::new("/usr/sbin/jexec")
                    .env(INSIDE, p)
                    .env(PORT, &a)
                    .env(STORE, &store)
                    .args([
                        laptop.as_str(),
                        exe.to_str().unwrap(),
                        "--ignored",
                        "--exact",
                        TEST,
                        "--nocapture",
                    ])
                    .status()
                    .is_ok_and(|s| s.success())
            };
            let first = phase("1");
            let second = first && {
                sh("/usr/sbin/jexec", &[&gw, "/sbin/ifconfig", &b, "ether", "02:00:5e:30:00:02"]);
                phase("2")
            };
            for j in [&laptop, &gw] {
                let _ = Command::new("/usr/sbin/jail").args(["-r", j]).status();
            }
            let _ = std::fs::remove_file(&store);
            assert!(first, "phase 1 (same network) failed inside the laptop's jail");
            assert!(second, "phase 2 (another network) failed inside the laptop's jail");
        }
    }
}
