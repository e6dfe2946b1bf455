//! Kernel calls that fail, and a world that changes under lagghook's feet:
//! one failing port does not stop the others, "already so" is success, and
//! whatever went wrong, the next clean run converges.

use lagghook::domain::config::Config;
use lagghook::domain::layer3 as l3;
use lagghook::domain::model::IfName;
use lagghook::domain::model::{LaggModule, LaggProto, LaggStatus, MacAddr, WpaAddress};
use lagghook::domain::plan::Scope;
use lagghook::kernel::{Errno, Kernel, KernelError, Op};
use lagghook::run::error::Error;
use lagghook::run::log::{Level, MemoryLog};
use lagghook::run::state::{MemoryStore, StateStore};
use lagghook::run::{observe, pending, pending_with, reconcile, Context, Report};
use lagghook::sim::{Faulty, Happening, Machine, SimKernel};
use std::net::IpAddr;

const CONFIG: &str = "[lagg0]\nports = [\"em0\", \"wlan0\"]\n";

/// em0 and wlan0 (factory MAC) exist; lagg0 does not.
const NO_LAGG: &str = r#"
[machine]
failover_rx_all = 1
[[machine.interface]]
name = "em0"
kind = "ether"
mac = "00:11:22:33:44:55"
link = true
[[machine.interface]]
name = "wlan0"
kind = "wlan"
parent = "iwn0"
mac = "00:24:d7:00:00:01"
link = true
"#;

fn n(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

fn sim(text: &str) -> SimKernel {
    SimKernel::from_machine(&Machine::parse(text).unwrap()).unwrap()
}

fn config() -> Config {
    Config::parse(CONFIG, "lagghook.toml".as_ref()).unwrap()
}

fn run(
    kernel: &mut dyn Kernel,
    log: &mut MemoryLog,
    store: &mut MemoryStore,
) -> Result<Report, Error> {
    let mut ctx = Context { kernel, log, state: store, now: 100, dry_run: false };
    reconcile(&mut ctx, &config(), &Scope::All)
}

fn ports(kernel: &mut dyn Kernel) -> Vec<String> {
    kernel.lagg_status(&n("lagg0")).unwrap().ports.iter().map(|p| p.name.to_string()).collect()
}

fn errors(log: &MemoryLog) -> Vec<&str> {
    log.lines.iter().filter(|(l, _)| *l == Level::Err).map(|(_, s)| s.as_str()).collect()
}

#[test]
fn a_port_the_kernel_refuses_does_not_keep_the_other_out() {
    let mut kernel = Faulty::new(sim(NO_LAGG));
    kernel.fail_always_for(Op::AddLaggPort, &n("em0"), Errno::EBUSY);
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    let result = run(&mut kernel, &mut log, &mut store);
    assert!(matches!(result, Err(Error::ChangesFailed(1))), "{result:?}");
    assert_eq!(ports(&mut kernel), ["wlan0"]);
    assert_eq!(errors(&log), ["ifconfig lagg0 laggport em0 failed: SIOCSLAGGPORT: Device busy"]);
    // The refusal was the wrapper's, once: the kernel never saw em0's add.
    assert_eq!(kernel.injected(), ["SIOCSLAGGPORT lagg0 em0: EBUSY (call 1)"]);
    let calls = kernel.inner().calls();
    assert!(!calls.iter().any(|c| c.starts_with("SIOCSLAGGPORT lagg0 em0")), "{calls:?}");
    // wlan0 was prepared and added although em0's add failed before it.
    assert!(calls.iter().any(|c| c.starts_with("SIOCSLAGGPORT lagg0 wlan0")));
}

/// A free primary swap is planned with the preferred port joining in the
/// same round; if that join fails, the primary must not leave, or the lagg
/// would be left to whatever port heads its list (or to none).
#[test]
fn the_primary_stays_when_the_port_it_hands_over_to_fails_to_join() {
    // wlan0 is lagg0's primary without an AP; em0, preferred, is down and
    // outside: nothing carries traffic, so the swap is free.
    let machine = "[machine]\nfailover_rx_all = 1\n\
        [[machine.interface]]\nname = \"em0\"\nkind = \"ether\"\nmac = \"00:11:22:33:44:55\"\n\
        link = true\nup = false\n\
        [[machine.interface]]\nname = \"wlan0\"\nkind = \"wlan\"\nparent = \"iwn0\"\n\
        mac = \"00:11:22:33:44:55\"\n\
        [[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\nports = [\"wlan0\"]\n";
    let mut clean = sim(machine);
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    run(&mut clean, &mut log, &mut store).unwrap();
    assert!(clean.calls().iter().any(|c| c == "SIOCSLAGGDELPORT lagg0 wlan0: ok"), "no swap");

    let mut kernel = Faulty::new(sim(machine));
    kernel.fail_always_for(Op::AddLaggPort, &n("em0"), Errno::EBUSY);
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    let result = run(&mut kernel, &mut log, &mut store);
    assert!(matches!(result, Err(Error::ChangesFailed(1))), "{result:?}");
    let calls = kernel.inner().calls();
    assert!(calls.iter().all(|c| !c.starts_with("SIOCSLAGGDELPORT")), "{calls:?}");
    assert_eq!(ports(&mut kernel), ["wlan0"]);
}

#[test]
fn a_port_added_by_someone_else_meanwhile_is_success() {
    let mut kernel = Faulty::new(sim(NO_LAGG));
    // rc (or an administrator) adds wlan0 just before lagghook does.
    kernel.before_for(Op::AddLaggPort, &n("wlan0"), |k: &mut SimKernel| {
        let _ = k.add_lagg_port(&n("lagg0"), &n("wlan0"));
    });
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    let result = run(&mut kernel, &mut log, &mut store);
    assert!(result.is_ok(), "{result:?} {:?}", log.lines);
    assert!(kernel.inner().calls().iter().any(|c| c == "SIOCSLAGGPORT lagg0 wlan0: EEXIST"));
    assert_eq!(ports(&mut kernel), ["em0", "wlan0"]);
    assert!(errors(&log).is_empty());
}

#[test]
fn a_wlan_vanishing_mid_plan_fails_only_its_own_steps() {
    let mut kernel = Faulty::new(sim(NO_LAGG));
    // The card is pulled between lagghook's observation and its lladdr change.
    kernel.before_for(Op::SetLladdr, &n("wlan0"), |k: &mut SimKernel| {
        k.happen(&Happening::Destroy(n("wlan0"))).unwrap();
    });
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    let result = run(&mut kernel, &mut log, &mut store);
    assert!(matches!(result, Err(Error::ChangesFailed(1))), "{result:?}");
    let calls = kernel.inner().calls().to_vec();
    // After the failed SIOCSIFLLADDR nothing else is tried on wlan0
    // (no up, no wpa_supplicant restart, no add), but em0 is in.
    let failed_at = calls.iter().position(|c| c.starts_with("SIOCSIFLLADDR wlan0")).unwrap();
    assert!(calls[failed_at].ends_with("ENXIO"), "{calls:?}");
    assert!(calls[failed_at + 1..].iter().all(|c| !c.contains("wlan0")), "{calls:?}");
    assert_eq!(ports(&mut kernel), ["em0"]);
}

#[test]
fn after_random_failures_a_clean_run_converges() {
    let mut faulted = 0;
    for seed in 1..=60u64 {
        let mut kernel = Faulty::new(sim(NO_LAGG));
        kernel.fail_randomly(seed, 0.3, &[]);
        let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
        let first = run(&mut kernel, &mut log, &mut store);
        // The random errnos (EINVAL, ENXIO, EBUSY, ENOMEM) are never "already
        // so", so every injected failure is a failed change of this run.
        if !kernel.injected().is_empty() {
            faulted += 1;
            assert!(
                matches!(first, Err(Error::ChangesFailed(n)) if n >= 1),
                "seed {seed}: {:?} injected, run said {first:?}",
                kernel.injected()
            );
        }
        let mut kernel = kernel.into_inner();
        let second = run(&mut kernel, &mut log, &mut store);
        assert!(second.is_ok(), "seed {seed}: {second:?}\n{kernel}");
        let macs = store.load().map(|s| s.macs).unwrap_or_default();
        let again = pending(&mut kernel, &config(), &macs).unwrap();
        assert!(again.is_empty(), "seed {seed}: still to do:\n{again}\n{kernel}");
        assert_eq!(ports(&mut kernel), ["em0", "wlan0"], "seed {seed}");
    }
    // Proof that the first runs really were disturbed (60 of 60 today, at
    // p = 0.3): a wrapper that injected nothing would converge trivially.
    assert!(faulted >= 50, "only {faulted} of 60 seeds injected a failure");
}

/// Every kernel request a run makes, by kind; the fault sweep below fails
/// each call of each in turn. A new `Op` belongs here. (`Op::GetModule`
/// is `check`'s alone: a run loads if_lagg when its sysctl is missing.
/// `Op::RestartWpaSupplicant` follows only a refresh an earlier run made
/// that did not take, which no first run has: a userland down/up makes
/// wpa_supplicant read the vap's address again.)
const EVERY_OP: [Op; 12] = [
    Op::LoadModule,
    Op::ListInterfaces,
    Op::GetLagg,
    Op::GetSysctl,
    Op::SetSysctl,
    Op::CreateLagg,
    Op::SetLaggProto,
    Op::AddLaggPort,
    Op::RemoveLaggPort,
    Op::SetLladdr,
    Op::SetFlags,
    Op::GetWpaAddress,
];

/// Proves a failure at any kernel call site is survived, not sampled but
/// swept: for the first machine and configuration of every scenario file,
/// each call a first reconcile makes (the Nth call of each request, for
/// every N it reaches) fails in turn with ENXIO. Each time, the run ends
/// with the error its kind deserves (a failed read: the kernel cannot be
/// observed; a failed change: counted and logged as an error line naming
/// the request), and the next clean run ends exactly where a clean run
/// from the start ends (converged, unless the machine holds a port its
/// kernel always refuses).
#[test]
fn a_failure_at_every_kernel_call_site_is_survived() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    // The scenarios' first machines, and two that need every kind of
    // change at once: no lagg at all, and a lacp lagg holding only em0
    // while wlan0 sits outside with its factory MAC.
    let mut subjects: Vec<(String, Config, Machine)> = files
        .iter()
        .map(|f| {
            let s = lagghook::scenario::Scenario::load(f).unwrap();
            (f.display().to_string(), s.config, s.machine)
        })
        .collect();
    subjects.push(("no lagg".into(), config(), Machine::parse(NO_LAGG).unwrap()));
    let lacp = format!(
        "{NO_LAGG}[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\n\
         proto = \"lacp\"\nports = [\"em0\"]\n"
    );
    subjects.push(("lacp lagg".into(), config(), Machine::parse(&lacp).unwrap()));
    // Docked again: em0 is back as a member with its link, wlan0 is the
    // primary carrying the traffic: the first reconcile swaps them.
    let swap = format!(
        "{NO_LAGG}[[machine.interface]]\nname = \"lagg0\"\nkind = \"lagg\"\n\
         ports = [\"wlan0\", \"em0\"]\n"
    )
    .replace("00:24:d7:00:00:01", "00:11:22:33:44:55");
    subjects.push(("swap".into(), config(), Machine::parse(&swap).unwrap()));
    let mut swept = 0;
    let mut ops_swept = std::collections::BTreeSet::new();
    for (name, config, machine) in &subjects {
        let fresh = || SimKernel::from_machine(machine).unwrap();
        let reconcile_with =
            |kernel: &mut dyn Kernel, log: &mut MemoryLog, store: &mut MemoryStore| {
                let mut ctx = Context { kernel, log, state: store, now: 100, dry_run: false };
                reconcile(&mut ctx, config, &Scope::All)
            };
        // Where a clean run from the start ends (some machines hold a port
        // the kernel always refuses): a fault must leave nothing worse.
        // Time passes after each run and devd runs lagghook again for the
        // links that came up (a primary swap waits for one).
        let mut clean = fresh();
        let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
        let clean_ok = reconcile_with(&mut clean, &mut log, &mut store).is_ok();
        clean.settle();
        let clean_ok = clean_ok && reconcile_with(&mut clean, &mut log, &mut store).is_ok();
        clean.settle();
        let clean_end = observe(&mut clean, config).unwrap();
        for op in EVERY_OP {
            for nth in 1.. {
                let mut kernel = Faulty::new(fresh());
                kernel.fail_nth(op, nth, Errno::ENXIO);
                let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
                let first = reconcile_with(&mut kernel, &mut log, &mut store);
                if kernel.injected().is_empty() {
                    break; // the run makes fewer than `nth` such calls
                }
                swept += 1;
                ops_swept.insert(format!("{op:?}"));
                let at = format!("{name}: {op:?} call {nth}");
                match op {
                    Op::ListInterfaces | Op::GetLagg | Op::GetSysctl | Op::GetWpaAddress => {
                        assert!(matches!(first, Err(Error::Kernel(_))), "{at}: {first:?}");
                    }
                    _ => {
                        assert!(
                            matches!(first, Err(Error::ChangesFailed(n)) if n >= 1),
                            "{at}: {first:?}"
                        );
                        let errors = errors(&log);
                        let named = op.name().trim_end_matches('=');
                        assert!(errors.iter().any(|e| e.contains(named)), "{at}: {errors:?}");
                        if clean_ok {
                            assert_eq!(errors.len(), 1, "{at}: {errors:?}");
                        }
                    }
                }
                let mut kernel = kernel.into_inner();
                kernel.settle();
                let second = reconcile_with(&mut kernel, &mut log, &mut store);
                kernel.settle();
                let second = second.and_then(|_| reconcile_with(&mut kernel, &mut log, &mut store));
                kernel.settle();
                assert_eq!(second.is_ok(), clean_ok, "{at}: clean run: {second:?}\n{kernel}");
                assert_eq!(observe(&mut kernel, config).unwrap(), clean_end, "{at}:\n{kernel}");
                if clean_ok {
                    // What the next run would do, remembering what the
                    // runs before did (the refresh of a silent
                    // wpa_supplicant is made once per address).
                    let stored = store.load().ok();
                    let macs = stored.as_ref().map(|s| s.macs.clone()).unwrap_or_default();
                    let wpa = stored.and_then(|s| s.state).map(|s| s.wpa).unwrap_or_default();
                    let again = pending_with(&mut kernel, config, &macs, &wpa).unwrap();
                    assert!(again.is_empty(), "{at}: still to do:\n{again}\n{kernel}");
                }
            }
        }
    }
    // Every scenario reads at least three times; the repairs add the rest,
    // and between them they make every kind of request.
    assert!(swept >= 3 * subjects.len(), "only {swept} call sites swept");
    let all: std::collections::BTreeSet<String> =
        EVERY_OP.iter().map(|op| format!("{op:?}")).collect();
    assert_eq!(ops_swept, all, "requests no scenario's first reconcile makes");
    eprintln!("fault sweep: {swept} call sites failed in turn on {} machines", subjects.len());
}

/// A kernel where something (a flapping driver, another tool) takes wlan0
/// out of its lagg again right after every join.
struct Undoing(SimKernel);

impl Kernel for Undoing {
    fn interfaces(&mut self) -> Result<Vec<lagghook::domain::model::Interface>, KernelError> {
        self.0.interfaces()
    }
    fn lagg_status(&mut self, lagg: &IfName) -> Result<LaggStatus, KernelError> {
        self.0.lagg_status(lagg)
    }
    fn failover_rx_all(&mut self) -> Result<Option<bool>, KernelError> {
        self.0.failover_rx_all()
    }
    fn set_failover_rx_all(&mut self, value: bool) -> Result<(), KernelError> {
        self.0.set_failover_rx_all(value)
    }
    fn create_lagg(&mut self, lagg: &IfName) -> Result<(), KernelError> {
        self.0.create_lagg(lagg)
    }
    fn set_lagg_proto(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), KernelError> {
        self.0.set_lagg_proto(lagg, proto)
    }
    fn add_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        self.0.add_lagg_port(lagg, port)?;
        if port.as_str() == "wlan0" {
            self.0.remove_lagg_port(lagg, port)?;
        }
        Ok(())
    }
    fn remove_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        self.0.remove_lagg_port(lagg, port)
    }
    fn set_lladdr(&mut self, ifname: &IfName, mac: MacAddr) -> Result<(), KernelError> {
        self.0.set_lladdr(ifname, mac)
    }
    fn set_up(&mut self, ifname: &IfName, up: bool) -> Result<(), KernelError> {
        self.0.set_up(ifname, up)
    }
    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError> {
        self.0.restart_wpa_supplicant(wlan)
    }
    fn recreate_vap(
        &mut self,
        wlan: &IfName,
        parent: &IfName,
        mac: MacAddr,
    ) -> Result<(), KernelError> {
        self.0.recreate_vap(wlan, parent, mac)
    }
    fn lagg_module(&mut self) -> Result<LaggModule, KernelError> {
        self.0.lagg_module()
    }
    fn load_lagg_module(&mut self) -> Result<(), KernelError> {
        self.0.load_lagg_module()
    }
    fn wpa_supplicant_address(&mut self, wlan: &IfName) -> Result<WpaAddress, KernelError> {
        self.0.wpa_supplicant_address(wlan)
    }
    fn wlan_devices(&mut self) -> Result<Vec<IfName>, KernelError> {
        self.0.wlan_devices()
    }
    fn addresses(&mut self, ifname: &IfName) -> Result<Vec<l3::IfAddr>, KernelError> {
        self.0.addresses(ifname)
    }
    fn default_routes(&mut self) -> Result<Vec<l3::DefaultRoute>, KernelError> {
        self.0.default_routes()
    }
    fn neighbour(&mut self, i: &IfName, ip: IpAddr) -> Result<Option<l3::Neighbour>, KernelError> {
        self.0.neighbour(i, ip)
    }
    fn probe(&mut self, i: &IfName, x: &l3::ProbeExchange) -> Result<l3::ProbeResult, KernelError> {
        self.0.probe(i, x)
    }
    fn delete_address(&mut self, ifname: &IfName, addr: l3::IfAddr) -> Result<(), KernelError> {
        self.0.delete_address(ifname, addr)
    }
    fn delete_default_route(&mut self, route: &l3::DefaultRoute) -> Result<(), KernelError> {
        self.0.delete_default_route(route)
    }
    fn delete_neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<(), KernelError> {
        self.0.delete_neighbour(ifname, ip)
    }
    fn ssid(&mut self, wlan: &IfName) -> Result<Option<l3::Ssid>, KernelError> {
        self.0.ssid(wlan)
    }
    fn wpa_supplicant_state(&mut self, wlan: &IfName) -> Result<l3::WpaState, KernelError> {
        self.0.wpa_supplicant_state(wlan)
    }
    fn dhcp_client(&mut self, ifname: &IfName) -> Result<Option<l3::DhcpProcess>, KernelError> {
        self.0.dhcp_client(ifname)
    }
    fn stop_dhcp_client(&mut self, i: &IfName, p: l3::DhcpProcess) -> Result<(), KernelError> {
        self.0.stop_dhcp_client(i, p)
    }
    fn start_dhcp_client(
        &mut self,
        ifname: &IfName,
        client: l3::DhcpClient,
        lease: &l3::Lease,
    ) -> Result<(), KernelError> {
        self.0.start_dhcp_client(ifname, client, lease)
    }
    fn solicit_router(&mut self, ifname: &IfName) -> Result<(), KernelError> {
        self.0.solicit_router(ifname)
    }
    fn spawn_netcheck(&mut self, lagg: &IfName, generation: u64) -> Result<(), KernelError> {
        self.0.spawn_netcheck(lagg, generation)
    }
}

/// Proves a run that cannot converge says so, with what is still to do and
/// exit status 1, instead of ending as if all were well (issue 6).
#[test]
fn a_run_that_cannot_converge_says_so() {
    let mut kernel = Undoing(sim(NO_LAGG));
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    let result = run(&mut kernel, &mut log, &mut store);
    let Err(e @ Error::NotConverged { .. }) = result else { panic!("{result:?}") };
    assert_eq!(e.exit_code(), 1);
    assert_eq!(
        e.to_string(),
        "not converged after 5 rounds; still to do: ifconfig wlan0 down; \
         ifconfig lagg0 laggport wlan0; ifconfig wlan0 up"
    );
    // Each of the five rounds tried again; nothing beyond them.
    let joins =
        kernel.0.calls().iter().filter(|c| c.starts_with("SIOCSLAGGPORT lagg0 wlan0")).count();
    assert_eq!(joins, 4, "{:?}", kernel.0.calls());
}

/// Issue 20's worlds: lagg0 on the office LAN by cable (dhclient bound),
/// wlan0 associated elsewhere: `OfficeAir` is the same LAN, `Cafe` another
/// network whose gateway has the office gateway's address and another MAC.
fn net_machine(bss: &str) -> String {
    format!(
        r#"
[machine]
failover_rx_all = 1
[[machine.network]]
name = "office"
subnet = "10.1.0.0/24"
gateway = "10.1.0.1"
gateway_mac = "00:0d:b9:00:00:01"
dhcp = {{ pool = "10.1.0.100-10.1.0.149" }}
[[machine.network]]
name = "cafe"
subnet = "10.1.0.0/24"
gateway = "10.1.0.1"
gateway_mac = "00:0d:b9:00:00:c1"
dhcp = {{ pool = "10.1.0.150-10.1.0.199" }}
[[machine.bss]]
name = "OfficeAir"
ssid = "Office"
network = "office"
[[machine.bss]]
name = "Cafe"
ssid = "CafeFree"
network = "cafe"
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
bss = "{bss}"
[[machine.interface]]
name = "lagg0"
kind = "lagg"
ports = ["em0", "wlan0"]
dhcp = true
"#
    )
}

/// One run as devd makes it, with the network check's part after it.
fn devd_run(kernel: &mut dyn Kernel, log: &mut MemoryLog, store: &mut MemoryStore, now_ms: u64) {
    use lagghook::run::netcheck::after_run;
    let mut ctx = Context {
        kernel: &mut *kernel,
        log: &mut *log,
        state: &mut *store,
        now: now_ms / 1000,
        dry_run: false,
    };
    match reconcile(&mut ctx, &config(), &Scope::All) {
        Ok(report) => after_run(kernel, log, store, &config(), &report.ends, now_ms, false),
        // What `main` prints for a run that could not observe the kernel.
        Err(e) => log.lines.push((Level::Err, format!("lagghook: {e}"))),
    }
}

/// Runs the helpers the kernel was asked to spawn, each to its end, the
/// world's clock following their steps; the kernel calls go through `k`.
fn run_helpers(k: &mut Faulty<SimKernel>, log: &mut MemoryLog, store: &mut MemoryStore) {
    use lagghook::run::netcheck::Helper;
    for s in k.inner_mut().take_spawned() {
        run_helper(k, log, store, Helper::new(s.lagg, s.generation, s.at));
    }
}

/// One helper's steps to its end, the world's clock following them.
fn run_helper(
    k: &mut Faulty<SimKernel>,
    log: &mut MemoryLog,
    store: &mut MemoryStore,
    mut helper: lagghook::run::netcheck::Helper,
) {
    use lagghook::run::netcheck::Next;
    for _ in 0..1000 {
        let now = k.inner().now();
        match helper.step(&config(), k, log, store, now) {
            Next::Done => break,
            Next::At(at) => k.inner_mut().advance(at.max(now)),
        }
    }
}

fn lagg_inet(k: &mut SimKernel) -> Vec<String> {
    k.addresses(&n("lagg0"))
        .unwrap()
        .into_iter()
        .filter(|a| a.is_assigned() && a.ipv4().is_some())
        .map(|a| a.addr.to_string())
        .collect()
}

/// The network check's kernel calls, the reads and the writes.
const NET_OPS: [Op; 15] = [
    Op::GetAddresses,
    Op::GetDefaultRoutes,
    Op::GetNeighbour,
    Op::Probe,
    Op::DeleteAddress,
    Op::DeleteRoute,
    Op::DeleteNeighbour,
    Op::GetSsid,
    Op::GetWpaState,
    Op::GetDhcpClient,
    Op::StopDhcpClient,
    Op::StartDhcpClient,
    Op::SolicitRouter,
    Op::SpawnNetcheck,
    Op::GetLagg,
];

/// Issue 20, faults: every call site of the network check (the devd run's
/// record and spawn, each step of the helper) fails in turn with ENXIO,
/// on the same network and after a proved move. Each time: the failure is
/// logged (WARN or ERROR, naming the request and the errno), a
/// same-network address is never removed, a failed re-address leaves the
/// lagg degraded (the last check's `failed`), and the next event (here
/// rc.resume's run) re-evaluates and ends on the active port's network.
#[test]
fn issue20_a_failure_at_any_network_check_call_site_is_logged_and_survived() {
    let mut swept = std::collections::BTreeSet::new();
    for (bss, same) in [("OfficeAir", true), ("Cafe", false)] {
        for op in NET_OPS {
            for nth in 1..=4 {
                let mut k = Faulty::new(sim(&net_machine(bss)));
                let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
                // Recorded on the cable.
                let t = k.inner().now();
                devd_run(&mut k, &mut log, &mut store, t);
                let before = lagg_inet(k.inner_mut());
                assert_eq!(before.len(), 1, "{bss}: {before:?}");
                k.fail_nth(op, nth, Errno::ENXIO);
                k.inner_mut().happen(&"unplug em0".parse::<Happening>().unwrap()).unwrap();
                let t = k.inner().now();
                devd_run(&mut k, &mut log, &mut store, t);
                run_helpers(&mut k, &mut log, &mut store);
                if k.injected().is_empty() {
                    break; // fewer than `nth` such calls
                }
                swept.insert(format!("{op:?}"));
                let at = format!("{bss}: {op:?} call {nth}");
                let text: Vec<&str> = log
                    .lines
                    .iter()
                    .filter(|(l, _)| matches!(l, Level::Warning | Level::Err))
                    .map(|(_, t)| t.as_str())
                    .collect();
                assert!(
                    text.iter()
                        .any(|t| t.contains(op.name()) && t.contains("Device not configured")),
                    "{at}: no line names the request and errno: {:?}\n{:?}",
                    text,
                    k.injected()
                );
                if same {
                    assert_eq!(
                        lagg_inet(k.inner_mut()),
                        before,
                        "{at}: a same-network address moved"
                    );
                }
                let writes = matches!(
                    op,
                    Op::DeleteAddress
                        | Op::DeleteRoute
                        | Op::DeleteNeighbour
                        | Op::StopDhcpClient
                        | Op::StartDhcpClient
                );
                if writes && !same {
                    let l = store.networks.of(&n("lagg0")).unwrap();
                    let failed = l.last_check.as_ref().and_then(|c| c.failed.as_ref());
                    assert!(failed.is_some(), "{at}: a failed re-address is not degraded: {l:?}");
                }
                // The next event re-evaluates, with nothing failing.
                let mut clean = Faulty::new(k.into_inner());
                let t = clean.inner().now() + 60_000;
                clean.inner_mut().advance(t);
                let now = clean.inner().now();
                let mut ctx = Context {
                    kernel: &mut clean,
                    log: &mut log,
                    state: &mut store,
                    now: now / 1000,
                    dry_run: false,
                };
                let report = reconcile(&mut ctx, &config(), &Scope::All).unwrap();
                lagghook::run::netcheck::after_run(
                    &mut clean,
                    &mut log,
                    &mut store,
                    &config(),
                    &report.ends,
                    now,
                    true,
                );
                run_helpers(&mut clean, &mut log, &mut store);
                let later = clean.inner().now() + 30_000;
                clean.inner_mut().advance(later);
                let inet = lagg_inet(clean.inner_mut());
                let want = if same { before.clone() } else { vec!["10.1.0.150".to_owned()] };
                assert_eq!(inet, want, "{at}: after a clean run\n{:?}", log.lines);
            }
        }
    }
    let all: std::collections::BTreeSet<String> =
        NET_OPS.iter().map(|op| format!("{op:?}")).collect();
    let missing: Vec<&String> = all.difference(&swept).collect();
    assert!(missing.is_empty(), "call sites never reached: {missing:?}");
}

/// Issue 20, point 6: a newer check of the same lagg makes an older
/// helper give way at its next step, before it probes or writes: two
/// checks started back to back (a cable out and in within 300 ms) have one
/// outcome, the last one's.
#[test]
fn issue20_an_older_helper_gives_way_to_a_newer_one() {
    use lagghook::run::netcheck::{after_run, Helper, Next};
    let mut k = Faulty::new(sim(&net_machine("OfficeAir")));
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    let t = k.inner().now();
    devd_run(&mut k, &mut log, &mut store, t);
    for _ in 0..2 {
        let now = k.inner().now();
        let mut ctx = Context {
            kernel: &mut k,
            log: &mut log,
            state: &mut store,
            now: now / 1000,
            dry_run: false,
        };
        let report = reconcile(&mut ctx, &config(), &Scope::All).unwrap();
        after_run(&mut k, &mut log, &mut store, &config(), &report.ends, now, true);
    }
    let spawned = k.inner_mut().take_spawned();
    assert_eq!(spawned.iter().map(|s| s.generation).collect::<Vec<_>>(), [1, 2]);
    let mut older = Helper::new(spawned[0].lagg.clone(), 1, spawned[0].at);
    k.inner_mut().clear_record();
    let now = k.inner().now();
    assert_eq!(older.step(&config(), &mut k, &mut log, &mut store, now), Next::Done);
    assert!(
        k.inner().reads().is_empty(),
        "the older helper asked the kernel: {:?}",
        k.inner().reads()
    );
    let newer = Helper::new(spawned[1].lagg.clone(), 2, spawned[1].at);
    run_helper(&mut k, &mut log, &mut store, newer);
    let verdicts: Vec<&String> =
        log.lines.iter().map(|(_, l)| l).filter(|l| l.contains("same network")).collect();
    assert_eq!(verdicts.len(), 1, "{:?}", log.lines);
}
