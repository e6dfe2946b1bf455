//! Conformance: the same scenario bodies run against the simulated kernel
//! (always) and against FreeBSD itself (`cfg(target_os = "freebsd")`,
//! `#[ignore]`: root only, `cargo test -- --ignored`). The FreeBSD arm
//! builds epair(4) interfaces and a real lagg inside a fresh vnet jail, so
//! the host's network is never touched, and removes the jail afterwards.
//! The arms are duplicated on purpose (turmoil's sim_arm/real_arm): each
//! reads as a plain test of its own kernel.
//!
//! Ports are Ethernet-like on both arms (epair on FreeBSD), since a vnet
//! jail has no radio to create a wlan on.

use lagghook::domain::config::Config;
use lagghook::domain::model::{IfName, MacAddr};
use lagghook::domain::plan::Scope;
use lagghook::kernel::Kernel;
use lagghook::run::log::MemoryLog;
use lagghook::run::state::{MemoryStore, StateStore};
use lagghook::run::{pending, reconcile, Context};

/// The identity every port must end up with; a locally administered
/// address so it can never clash with real hardware.
const IDENTITY: &str = "02:00:5e:10:00:01";
const CONFIG: &str = "[lagg0]\nports = [\"lhc0\", \"lhc1\"]\nmac = \"02:00:5e:10:00:01\"\n";

/// What a conformance body can make the world do.
trait World {
    fn kernel(&mut self) -> &mut dyn Kernel;
    /// The port's ifnet goes away (NIC unplugged, driver unloaded).
    fn destroy(&mut self, port: &str);
    /// A new Ethernet-like interface of that name appears, with its own MAC.
    fn attach(&mut self, port: &str);
    /// Time passes until every link that can come up has (and devd would
    /// have run lagghook for it).
    fn settle(&mut self);
}

fn n(s: &str) -> IfName {
    IfName::new(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn config() -> Config {
    Config::parse(CONFIG, "conformance.toml".as_ref()).unwrap()
}

/// `lagghook reconcile` as devd would run it: once, and again when the
/// links it brought up come up (a swap waits for the preferred port's
/// LINK_UP), then proof that a further run would do nothing.
fn converge(world: &mut dyn World, store: &mut MemoryStore) {
    let config = config();
    let mut log = MemoryLog::default();
    for _ in 0..3 {
        world.settle();
        let mut ctx =
            Context { kernel: world.kernel(), log: &mut log, state: store, now: 1, dry_run: false };
        let result = reconcile(&mut ctx, &config, &Scope::All);
        assert!(result.is_ok(), "{result:?}: {:?}", log.lines);
    }
    world.settle();
    let macs = store.load().map(|s| s.macs).unwrap_or_default();
    let again = pending(world.kernel(), &config, &macs).unwrap();
    assert!(again.is_empty(), "second run would do:\n{again}");
}

fn lagg_ports(world: &mut dyn World) -> (Vec<String>, Option<String>) {
    let status = world.kernel().lagg_status(&n("lagg0")).unwrap();
    let ports = status.ports.iter().map(|p| p.name.to_string()).collect();
    (ports, status.primary().map(|p| p.to_string()))
}

fn mac_of(world: &mut dyn World, name: &str) -> MacAddr {
    let ifaces = world.kernel().interfaces().unwrap();
    ifaces.into_iter().find(|i| i.name.as_str() == name).map(|i| i.mac).unwrap_or_default()
}

/// Body: from two bare ports, reconcile builds lagg0 with the identity MAC
/// on every port and the preferred port as primary.
fn body_builds_the_lagg(world: &mut dyn World) {
    let mut store = MemoryStore::default();
    converge(world, &mut store);
    assert_eq!(lagg_ports(world), (vec!["lhc0".into(), "lhc1".into()], Some("lhc0".into())));
    for name in ["lagg0", "lhc0", "lhc1"] {
        assert_eq!(mac_of(world, name).to_string(), IDENTITY, "{name}");
    }
}

/// Body: the preferred port disappears (lagg makes the other primary) and
/// comes back; after reconcile it is primary again and the lagg's MAC
/// never changed.
fn body_preferred_port_comes_back_as_primary(world: &mut dyn World) {
    let mut store = MemoryStore::default();
    converge(world, &mut store);
    world.destroy("lhc0");
    assert_eq!(lagg_ports(world), (vec!["lhc1".into()], Some("lhc1".into())));
    assert_eq!(mac_of(world, "lagg0").to_string(), IDENTITY);
    world.attach("lhc0");
    converge(world, &mut store);
    let (ports, primary) = lagg_ports(world);
    assert_eq!(primary.as_deref(), Some("lhc0"), "ports {ports:?}");
    assert_eq!(ports.len(), 2);
    assert_eq!(mac_of(world, "lagg0").to_string(), IDENTITY);
    assert_eq!(mac_of(world, "lhc0").to_string(), IDENTITY);
}

/// Body: a backup port re-created with its own MAC is re-cloned and re-added.
fn body_backup_port_is_recloned_and_readded(world: &mut dyn World) {
    let mut store = MemoryStore::default();
    converge(world, &mut store);
    world.destroy("lhc1");
    world.attach("lhc1");
    assert_ne!(mac_of(world, "lhc1").to_string(), IDENTITY);
    converge(world, &mut store);
    assert_eq!(lagg_ports(world), (vec!["lhc0".into(), "lhc1".into()], Some("lhc0".into())));
    assert_eq!(mac_of(world, "lhc1").to_string(), IDENTITY);
}

/// Body (issue 8): once a lagg exists, if_lagg is there for `modfind`,
/// nothing stops it being there, and loading it again is a no-op that
/// succeeds (ifconfig's `ifmaybeload`; in a jail kldload itself would fail,
/// so this proves modfind is asked first).
fn body_lagg_module_is_found_and_reloading_is_a_no_op(world: &mut dyn World) {
    let mut store = MemoryStore::default();
    converge(world, &mut store);
    let module = world.kernel().lagg_module().unwrap();
    assert!(module.loaded, "{module:?}");
    assert_eq!(module.unloadable(), None);
    world.kernel().load_lagg_module().unwrap();
    assert!(world.kernel().failover_rx_all().unwrap().is_some());
}

// ---- Issue 20: the network check's probe against a gateway in another
// network stack. The laptop's lagg0 holds 192.0.2.100/24 with 192.0.2.1 as
// its default gateway; the gateway answers ARP. First the probe says the
// same network; after the gateway's MAC changes, another.

/// The laptop's and the gateway's addresses (TEST-NET-1, RFC 5737).
const NET_LAGG_ADDR: &str = "192.0.2.100";
const NET_GATEWAY: &str = "192.0.2.1";

/// What the network bodies need of a world.
trait NetWorld {
    fn kernel(&mut self) -> &mut dyn Kernel;
}

fn net_config() -> Config {
    Config::parse("[lagg0]\nports = [\"lhc0\"]\n", "conformance.toml".as_ref()).unwrap()
}

/// Phase 1: what a converged run records of lagg0's network (its address,
/// the default route, the gateway's MAC from the neighbour table).
fn net_record(world: &mut dyn NetWorld) -> lagghook::domain::network::Networks {
    use lagghook::run::netcheck::observation;
    let lagg = n("lagg0");
    let obs = observation(world.kernel(), &lagg).unwrap();
    let seen = obs.network(1).unwrap_or_else(|| panic!("no network in {obs:?}"));
    assert_eq!(seen.gateway.map(|g| g.ip.to_string()), Some(NET_GATEWAY.to_owned()), "{obs:?}");
    assert_eq!(seen.inet.first().map(|a| a.addr.to_string()), Some(NET_LAGG_ADDR.to_owned()));
    let mut nets = lagghook::domain::network::Networks::default();
    nets.of_mut(&lagg).record(seen);
    nets
}

/// The probe exchange for the recorded network, and its verdict.
fn net_probe(
    world: &mut dyn NetWorld,
    nets: &lagghook::domain::network::Networks,
) -> lagghook::domain::attach::Verdict {
    use lagghook::domain::attach::{exchange, probed, verdict};
    let lagg = n("lagg0");
    let cfg = &net_config().laggs[0].network;
    let mine = nets.of(&lagg).unwrap();
    let networks = probed(cfg, mine);
    let mac = mac_of_kernel(world.kernel(), "lagg0");
    let x = exchange(cfg, mac, &networks, None).unwrap();
    let result = world.kernel().probe(&lagg, &x).unwrap();
    assert!(result.elapsed_ms <= x.budget_ms, "{result:?}");
    verdict(&networks, &x, &result, None)
}

fn mac_of_kernel(kernel: &mut dyn Kernel, name: &str) -> MacAddr {
    kernel.interfaces().unwrap().into_iter().find(|i| i.name.as_str() == name).unwrap().mac
}

mod sim_arm {
    use super::*;
    use lagghook::sim::{Happening, SimKernel};

    /// Two bare Ethernet ports with link, like a fresh pair of epairs.
    struct SimWorld {
        kernel: SimKernel,
        attached: u8,
    }

    impl SimWorld {
        fn new() -> SimWorld {
            let mut world = SimWorld { kernel: SimKernel::new(), attached: 0 };
            world.attach("lhc0");
            world.attach("lhc1");
            world
        }
    }

    impl World for SimWorld {
        fn kernel(&mut self) -> &mut dyn Kernel {
            &mut self.kernel
        }
        fn destroy(&mut self, port: &str) {
            self.kernel.happen(&Happening::Destroy(n(port))).unwrap();
        }
        fn attach(&mut self, port: &str) {
            self.attached += 1;
            let mac = MacAddr([0x02, 0, 0x5e, 0x20, 0, self.attached]);
            self.kernel.happen(&Happening::AttachEther { name: n(port), mac }).unwrap();
            // epair(4) comes up with link once both ends are up, which the
            // FreeBSD arm does at once.
            self.kernel.set_up(&n(port), true).unwrap();
        }
        fn settle(&mut self) {
            self.kernel.settle();
        }
    }

    #[test]
    fn builds_the_lagg() {
        body_builds_the_lagg(&mut SimWorld::new());
    }

    #[test]
    fn preferred_port_comes_back_as_primary() {
        body_preferred_port_comes_back_as_primary(&mut SimWorld::new());
    }

    #[test]
    fn backup_port_is_recloned_and_readded() {
        body_backup_port_is_recloned_and_readded(&mut SimWorld::new());
    }

    #[test]
    fn lagg_module_is_found_and_reloading_is_a_no_op() {
        body_lagg_module_is_found_and_reloading_is_a_no_op(&mut SimWorld::new());
    }

    /// lagg0 over lhc0, bound by DHCP on a network whose gateway is
    /// 192.0.2.1, as the FreeBSD arm configures it by hand.
    struct SimNetWorld(SimKernel);

    impl NetWorld for SimNetWorld {
        fn kernel(&mut self) -> &mut dyn Kernel {
            &mut self.0
        }
    }

    const NET_MACHINE: &str = r#"
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

    /// Issue 20: the probe says same, then, after the gateway's MAC
    /// changes, another.
    #[test]
    fn the_probe_says_same_then_another_after_the_gateway_mac_changes() {
        use lagghook::domain::attach::Verdict;
        let machine = lagghook::sim::Machine::parse(NET_MACHINE).unwrap();
        let mut world = SimNetWorld(SimKernel::from_machine(&machine).unwrap());
        let nets = net_record(&mut world);
        let v = net_probe(&mut world, &nets);
        assert!(matches!(v, Verdict::Same { unicast: true, .. }), "{v:?}");
        world.0.happen(&"set-network test gateway_mac=02:00:5e:30:00:02".parse().unwrap()).unwrap();
        let v = net_probe(&mut world, &nets);
        assert!(matches!(v, Verdict::Another { .. }), "{v:?}");
    }
}

#[cfg(target_os = "freebsd")]
mod freebsd_arm {
    //! Each test re-runs itself inside a fresh vnet jail (`jexec`), where
    //! it creates epairs named lhc0/lhc1 (their peers stay up, so the ports
    //! have link) and lets lagghook's real backend build lagg0. Removing
    //! the jail destroys everything cloned in its vnet.
    use super::*;
    use lagghook::sys::NativeKernel;
    use std::process::Command;

    const INSIDE: &str = "LAGGHOOK_CONFORMANCE_INSIDE";

    fn sh(cmd: &str, args: &[&str]) -> String {
        let out = Command::new(cmd).args(args).output().unwrap();
        assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    struct EpairWorld {
        kernel: NativeKernel,
    }

    impl EpairWorld {
        fn new() -> EpairWorld {
            let mut world = EpairWorld { kernel: NativeKernel::open().unwrap() };
            world.attach("lhc0");
            world.attach("lhc1");
            world
        }
    }

    impl World for EpairWorld {
        fn kernel(&mut self) -> &mut dyn Kernel {
            &mut self.kernel
        }
        fn destroy(&mut self, port: &str) {
            sh("/sbin/ifconfig", &[port, "destroy"]);
        }
        fn attach(&mut self, port: &str) {
            // `ifconfig epair create` prints the a side, e.g. epair3a.
            let a = sh("/sbin/ifconfig", &["epair", "create"]);
            let b = format!("{}b", a.trim_end_matches('a'));
            sh("/sbin/ifconfig", &[&b, "up"]);
            sh("/sbin/ifconfig", &[&a, "name", port]);
        }
        fn settle(&mut self) {
            // epair(4) has no negotiation: its link state change is only
            // queued to the taskqueue. A moment is plenty.
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }

    /// Runs `test` inside a new vnet jail, or the body if already inside.
    fn in_jail(test: &str, body: fn(&mut dyn World)) {
        if std::env::var_os(INSIDE).is_some() {
            body(&mut EpairWorld::new());
            return;
        }
        let name = format!("lagghook-conformance-{}", std::process::id());
        sh("/usr/sbin/jail", &["-c", &format!("name={name}"), "path=/", "vnet", "persist"]);
        let exe = std::env::current_exe().unwrap();
        let status = Command::new("/usr/sbin/jexec")
            .env(INSIDE, "1")
            .args([
                name.as_str(),
                exe.to_str().unwrap(),
                "--ignored",
                "--exact",
                test,
                "--nocapture",
            ])
            .status();
        // Clean up whatever happened inside.
        let _ = Command::new("/usr/sbin/jail").args(["-r", &name]).status();
        assert!(status.unwrap().success(), "{test} failed inside the jail");
    }

    #[test]
    #[ignore = "needs root on FreeBSD 14 or 15 (vnet jail, epair, lagg)"]
    fn builds_the_lagg() {
        in_jail("conformance::freebsd_arm::builds_the_lagg", body_builds_the_lagg);
    }

    #[test]
    #[ignore = "needs root on FreeBSD 14 or 15 (vnet jail, epair, lagg)"]
    fn preferred_port_comes_back_as_primary() {
        in_jail(
            "conformance::freebsd_arm::preferred_port_comes_back_as_primary",
            body_preferred_port_comes_back_as_primary,
        );
    }

    #[test]
    #[ignore = "needs root on FreeBSD 14 or 15 (vnet jail, epair, lagg)"]
    fn backup_port_is_recloned_and_readded() {
        in_jail(
            "conformance::freebsd_arm::backup_port_is_recloned_and_readded",
            body_backup_port_is_recloned_and_readded,
        );
    }

    #[test]
    #[ignore = "needs root on FreeBSD 14 or 15 (vnet jail, epair, lagg)"]
    fn lagg_module_is_found_and_reloading_is_a_no_op() {
        in_jail(
            "conformance::freebsd_arm::lagg_module_is_found_and_reloading_is_a_no_op",
            body_lagg_module_is_found_and_reloading_is_a_no_op,
        );
    }

    struct NativeNetWorld(NativeKernel);

    impl NetWorld for NativeNetWorld {
        fn kernel(&mut self) -> &mut dyn Kernel {
            &mut self.0
        }
    }

    /// Where the phases inside the laptop's jail keep the recorded
    /// networks between them.
    const NET_STORE: &str = "LAGGHOOK_CONFORMANCE_NETWORKS";
    const NET_PHASE: &str = "LAGGHOOK_CONFORMANCE_PHASE";
    const NET_PORT: &str = "LAGGHOOK_CONFORMANCE_PORT";

    /// Inside the laptop's jail: phase 1 names the epair's a side lhc0,
    /// lets lagghook build lagg0 over it, gives lagg0 its address and
    /// default route by hand (ifconfig, route: what dhclient-script's
    /// BOUND does), pings the gateway once so its ARP entry exists,
    /// records the network and probes: the same network. Phase 2 probes
    /// the recorded network again, after the host changed the gateway's
    /// MAC: another network.
    fn net_inside() {
        use lagghook::domain::attach::Verdict;
        let store = std::env::var(NET_STORE).unwrap();
        match std::env::var(NET_PHASE).unwrap().as_str() {
            "1" => {
                sh("/sbin/ifconfig", &[&std::env::var(NET_PORT).unwrap(), "name", "lhc0", "up"]);
                let mut world = EpairWorld { kernel: NativeKernel::open().unwrap() };
                let mut config_store = MemoryStore::default();
                let config = net_config();
                let mut log = MemoryLog::default();
                for _ in 0..3 {
                    world.settle();
                    let mut ctx = Context {
                        kernel: world.kernel(),
                        log: &mut log,
                        state: &mut config_store,
                        now: 1,
                        dry_run: false,
                    };
                    reconcile(&mut ctx, &config, &Scope::All).unwrap();
                }
                sh("/sbin/ifconfig", &["lagg0", "inet", &format!("{NET_LAGG_ADDR}/24")]);
                sh("/sbin/route", &["-q", "add", "default", NET_GATEWAY]);
                sh("/sbin/ping", &["-c", "1", "-t", "2", NET_GATEWAY]);
                let mut world = NativeNetWorld(NativeKernel::open().unwrap());
                let nets = net_record(&mut world);
                let v = net_probe(&mut world, &nets);
                assert!(matches!(v, Verdict::Same { unicast: true, .. }), "{v:?}");
                std::fs::write(&store, lagghook::run::networks::to_text(&nets).unwrap()).unwrap();
            }
            _ => {
                let text = std::fs::read(&store).unwrap();
                let nets = lagghook::run::networks::parse(&text).unwrap();
                let mut world = NativeNetWorld(NativeKernel::open().unwrap());
                let v = net_probe(&mut world, &nets);
                assert!(matches!(v, Verdict::Another { .. }), "{v:?}");
            }
        }
    }

    /// Issue 20: two vnet jails joined by an epair, one the laptop (lagg0
    /// over the a side), one the gateway (the b side, 192.0.2.1); the
    /// probe, by bpf(4) on lagg0, says same, then, after the gateway's
    /// MAC changes (`ifconfig epairNb ether`), another. Both jails are
    /// removed afterwards, and their interfaces with them.
    #[test]
    #[ignore = "needs root on FreeBSD 14 or 15 (vnet jails, epair, lagg, bpf)"]
    fn the_probe_says_same_then_another_after_the_gateway_mac_changes() {
        if std::env::var_os(INSIDE).is_some() {
            return net_inside();
        }
        let id = std::process::id();
        let (laptop, gw) = (format!("lagghook-net-laptop-{id}"), format!("lagghook-net-gw-{id}"));
        for j in [&laptop, &gw] {
            sh("/usr/sbin/jail", &["-c", &format!("name={j}"), "path=/", "vnet", "persist"]);
        }
        let a = sh("/sbin/ifconfig", &["epair", "create"]);
        let b = format!("{}b", a.trim_end_matches('a'));
        sh("/sbin/ifconfig", &[&a, "vnet", &laptop]);
        sh("/sbin/ifconfig", &[&b, "vnet", &gw]);
        sh(
            "/usr/sbin/jexec",
            &[&gw, "/sbin/ifconfig", &b, "inet", &format!("{NET_GATEWAY}/24"), "up"],
        );
        let store = std::env::temp_dir().join(format!("lagghook-net-{id}.toml"));
        let exe = std::env::current_exe().unwrap();
        let test = "conformance::freebsd_arm::the_probe_says_same_then_another_after_the_gateway_mac_changes";
        let phase = |p: &str| {
            Command::new("/usr/sbin/jexec")
                .env(INSIDE, "1")
                .env(NET_PHASE, p)
                .env(NET_PORT, &a)
                .env(NET_STORE, &store)
                .args([
                    laptop.as_str(),
                    exe.to_str().unwrap(),
                    "--ignored",
                    "--exact",
                    test,
                    "--nocapture",
                ])
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
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
