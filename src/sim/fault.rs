//! Fault injection around any [`Kernel`]: scripted failures (the N-th call
//! of an operation, optionally for one interface, fails with an errno),
//! hooks that change the world just before an operation (the race between
//! observe and apply), and a seeded, reproducible random mode for property
//! tests. A failed injected call never reaches the wrapped kernel.
//!
//! Deterministic: the random mode is an xorshift64* generator seeded by the
//! caller; nothing reads the clock.

use std::fmt;

use crate::domain::layer3::{
    DefaultRoute, DhcpClient, DhcpProcess, IfAddr, Lease, Neighbour, ProbeExchange, ProbeResult,
    Ssid, WpaState,
};
use crate::domain::model::WpaAddress;
use crate::domain::model::{IfName, Interface, LaggModule, LaggProto, LaggStatus, MacAddr};
use crate::kernel::{Errno, Kernel, KernelError, Op};
use std::net::IpAddr;

/// A scripted failure.
#[derive(Debug, Clone)]
struct Rule {
    op: Op,
    ifname: Option<IfName>,
    /// 1-based number of the matching call that fails; 0 = every one.
    nth: u32,
    errno: Errno,
    seen: u32,
}

/// A world-changing closure run on the wrapped kernel.
type HookFn<K> = Box<dyn FnMut(&mut K)>;

/// A hook run once, just before the first matching call.
struct Hook<K> {
    op: Op,
    ifname: Option<IfName>,
    run: Option<HookFn<K>>,
}

/// The seeded random mode.
#[derive(Debug, Clone)]
struct Random {
    state: u64,
    probability: f64,
    errnos: Vec<Errno>,
}

impl Random {
    /// xorshift64* (Vigna): small, fast, and the same on every platform.
    fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A uniform value in [0, 1) from the top 53 bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Errnos a real kernel can plausibly answer to a mutating request.
const DEFAULT_RANDOM_ERRNOS: [Errno; 4] =
    [Errno::EINVAL, Errno::ENXIO, Errno::EBUSY, Errno::ENOMEM];

/// Wraps a kernel and makes chosen calls fail or the world change.
pub struct Faulty<K: Kernel> {
    inner: K,
    rules: Vec<Rule>,
    hooks: Vec<Hook<K>>,
    random: Option<Random>,
    injected: Vec<String>,
}

impl<K: Kernel + fmt::Debug> fmt::Debug for Faulty<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Faulty")
            .field("inner", &self.inner)
            .field("rules", &self.rules)
            .field("hooks", &self.hooks.iter().filter(|h| h.run.is_some()).count())
            .field("random", &self.random)
            .field("injected", &self.injected)
            .finish()
    }
}

/// Ops that change state (the random mode only fails these).
fn mutating(op: Op) -> bool {
    !matches!(
        op,
        Op::ListInterfaces
            | Op::GetLagg
            | Op::GetSysctl
            | Op::GetModule
            | Op::GetWpaAddress
            | Op::GetWlanDevices
            | Op::GetAddresses
            | Op::GetDefaultRoutes
            | Op::GetNeighbour
            | Op::GetSsid
            | Op::GetWpaState
            | Op::GetDhcpClient
    )
}

impl<K: Kernel> Faulty<K> {
    /// Wraps `inner` with no faults: every call passes through.
    pub fn new(inner: K) -> Faulty<K> {
        Faulty { inner, rules: Vec::new(), hooks: Vec::new(), random: None, injected: Vec::new() }
    }

    pub fn inner(&self) -> &K {
        &self.inner
    }

    pub fn inner_mut(&mut self) -> &mut K {
        &mut self.inner
    }

    pub fn into_inner(self) -> K {
        self.inner
    }

    /// The `nth` call (1-based) of `op` fails with `errno`.
    pub fn fail_nth(&mut self, op: Op, nth: u32, errno: Errno) -> &mut Self {
        self.rules.push(Rule { op, ifname: None, nth: nth.max(1), errno, seen: 0 });
        self
    }

    /// The `nth` call (1-based) of `op` that names `ifname` (as the
    /// interface, the lagg or the port) fails with `errno`.
    pub fn fail_nth_for(&mut self, op: Op, ifname: &IfName, nth: u32, errno: Errno) -> &mut Self {
        self.rules.push(Rule { op, ifname: Some(ifname.clone()), nth: nth.max(1), errno, seen: 0 });
        self
    }

    /// Every call of `op` fails with `errno`.
    pub fn fail_always(&mut self, op: Op, errno: Errno) -> &mut Self {
        self.rules.push(Rule { op, ifname: None, nth: 0, errno, seen: 0 });
        self
    }

    /// Every call of `op` naming `ifname` fails with `errno`.
    pub fn fail_always_for(&mut self, op: Op, ifname: &IfName, errno: Errno) -> &mut Self {
        self.rules.push(Rule { op, ifname: Some(ifname.clone()), nth: 0, errno, seen: 0 });
        self
    }

    /// Runs `hook` on the wrapped kernel once, just before the first call of
    /// `op` (before any fault for that call is decided), e.g. to destroy
    /// wlan0 right before lagghook's SIOCSLAGGPORT.
    pub fn before(&mut self, op: Op, hook: impl FnMut(&mut K) + 'static) -> &mut Self {
        self.hooks.push(Hook { op, ifname: None, run: Some(Box::new(hook)) });
        self
    }

    /// Like [`Faulty::before`], for the first call of `op` naming `ifname`.
    pub fn before_for(
        &mut self,
        op: Op,
        ifname: &IfName,
        hook: impl FnMut(&mut K) + 'static,
    ) -> &mut Self {
        self.hooks.push(Hook { op, ifname: Some(ifname.clone()), run: Some(Box::new(hook)) });
        self
    }

    /// Fails each mutating call with `probability` (0.0–1.0), drawing the
    /// errno from `errnos` (a default set of EINVAL, ENXIO, EBUSY, ENOMEM
    /// when empty). The same seed gives the same failures for the same call
    /// sequence.
    pub fn fail_randomly(&mut self, seed: u64, probability: f64, errnos: &[Errno]) -> &mut Self {
        let errnos =
            if errnos.is_empty() { DEFAULT_RANDOM_ERRNOS.to_vec() } else { errnos.to_vec() };
        // xorshift must not start at zero; mix the seed (splitmix64 step).
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        let state = if z == 0 { 1 } else { z };
        self.random = Some(Random { state, probability: probability.clamp(0.0, 1.0), errnos });
        self
    }

    /// Every fault injected so far, e.g.
    /// `"SIOCSLAGGPORT lagg0 wlan0: EBUSY (call 1)"`.
    pub fn injected(&self) -> &[String] {
        &self.injected
    }

    /// Runs due hooks, then decides whether this call fails. `names` are
    /// the interfaces the call names, the one errors carry first.
    fn check(&mut self, op: Op, names: &[&IfName]) -> Result<(), KernelError> {
        let names_it = |n: &Option<IfName>| n.as_ref().is_none_or(|n| names.contains(&n));
        for h in self.hooks.iter_mut() {
            if h.op == op && names_it(&h.ifname) {
                if let Some(mut run) = h.run.take() {
                    run(&mut self.inner);
                }
            }
        }
        let mut fail = None;
        for r in self.rules.iter_mut() {
            if r.op == op && names_it(&r.ifname) {
                r.seen += 1;
                if fail.is_none() && (r.nth == 0 || r.seen == r.nth) {
                    fail = Some((r.errno, format!("call {}", r.seen)));
                }
            }
        }
        if fail.is_none() && mutating(op) {
            if let Some(rnd) = self.random.as_mut() {
                if rnd.unit() < rnd.probability {
                    let len = rnd.errnos.len() as u64;
                    let pick = if len == 0 { 0 } else { (rnd.next() % len) as usize };
                    let errno = rnd.errnos.get(pick).copied().unwrap_or(Errno::EINVAL);
                    fail = Some((errno, "random".to_owned()));
                }
            }
        }
        match fail {
            None => Ok(()),
            Some((errno, why)) => {
                let args: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
                self.injected.push(format!("{} {}: {errno:?} ({why})", op.name(), args.join(" ")));
                // The last name is the one a real error names: the port for
                // SIOCSLAGGPORT/SIOCSLAGGDELPORT, the only one otherwise.
                Err(KernelError::errno(op, names.last().copied(), errno))
            }
        }
    }
}

impl<K: Kernel> Kernel for Faulty<K> {
    fn lagg_module(&mut self) -> Result<LaggModule, KernelError> {
        self.check(Op::GetModule, &[])?;
        self.inner.lagg_module()
    }

    fn load_lagg_module(&mut self) -> Result<(), KernelError> {
        self.check(Op::LoadModule, &[])?;
        self.inner.load_lagg_module()
    }

    fn interfaces(&mut self) -> Result<Vec<Interface>, KernelError> {
        self.check(Op::ListInterfaces, &[])?;
        self.inner.interfaces()
    }

    fn lagg_status(&mut self, lagg: &IfName) -> Result<LaggStatus, KernelError> {
        self.check(Op::GetLagg, &[lagg])?;
        self.inner.lagg_status(lagg)
    }

    fn failover_rx_all(&mut self) -> Result<Option<bool>, KernelError> {
        self.check(Op::GetSysctl, &[])?;
        self.inner.failover_rx_all()
    }

    fn set_failover_rx_all(&mut self, value: bool) -> Result<(), KernelError> {
        self.check(Op::SetSysctl, &[])?;
        self.inner.set_failover_rx_all(value)
    }

    fn create_lagg(&mut self, lagg: &IfName) -> Result<(), KernelError> {
        self.check(Op::CreateLagg, &[lagg])?;
        self.inner.create_lagg(lagg)
    }

    fn set_lagg_proto(&mut self, lagg: &IfName, proto: LaggProto) -> Result<(), KernelError> {
        self.check(Op::SetLaggProto, &[lagg])?;
        self.inner.set_lagg_proto(lagg, proto)
    }

    fn add_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        self.check(Op::AddLaggPort, &[lagg, port])?;
        self.inner.add_lagg_port(lagg, port)
    }

    fn remove_lagg_port(&mut self, lagg: &IfName, port: &IfName) -> Result<(), KernelError> {
        self.check(Op::RemoveLaggPort, &[lagg, port])?;
        self.inner.remove_lagg_port(lagg, port)
    }

    fn set_lladdr(&mut self, ifname: &IfName, mac: MacAddr) -> Result<(), KernelError> {
        self.check(Op::SetLladdr, &[ifname])?;
        self.inner.set_lladdr(ifname, mac)
    }

    fn set_up(&mut self, ifname: &IfName, up: bool) -> Result<(), KernelError> {
        self.check(Op::SetFlags, &[ifname])?;
        self.inner.set_up(ifname, up)
    }

    fn restart_wpa_supplicant(&mut self, wlan: &IfName) -> Result<(), KernelError> {
        self.check(Op::RestartWpaSupplicant, &[wlan])?;
        self.inner.restart_wpa_supplicant(wlan)
    }

    fn recreate_vap(
        &mut self,
        wlan: &IfName,
        parent: &IfName,
        mac: MacAddr,
    ) -> Result<(), KernelError> {
        self.check(Op::RecreateVap, &[wlan])?;
        self.inner.recreate_vap(wlan, parent, mac)
    }

    fn wpa_supplicant_address(&mut self, wlan: &IfName) -> Result<WpaAddress, KernelError> {
        self.check(Op::GetWpaAddress, &[wlan])?;
        self.inner.wpa_supplicant_address(wlan)
    }

    fn wlan_devices(&mut self) -> Result<Vec<IfName>, KernelError> {
        self.check(Op::GetWlanDevices, &[])?;
        self.inner.wlan_devices()
    }

    fn addresses(&mut self, ifname: &IfName) -> Result<Vec<IfAddr>, KernelError> {
        self.check(Op::GetAddresses, &[ifname])?;
        self.inner.addresses(ifname)
    }

    fn default_routes(&mut self) -> Result<Vec<DefaultRoute>, KernelError> {
        self.check(Op::GetDefaultRoutes, &[])?;
        self.inner.default_routes()
    }

    fn neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<Option<Neighbour>, KernelError> {
        self.check(Op::GetNeighbour, &[ifname])?;
        self.inner.neighbour(ifname, ip)
    }

    fn probe(
        &mut self,
        lagg: &IfName,
        exchange: &ProbeExchange,
    ) -> Result<ProbeResult, KernelError> {
        self.check(Op::Probe, &[lagg])?;
        self.inner.probe(lagg, exchange)
    }

    fn delete_address(&mut self, ifname: &IfName, addr: IfAddr) -> Result<(), KernelError> {
        let op = if addr.ipv4().is_some() { Op::DeleteAddress } else { Op::DeleteAddress6 };
        self.check(op, &[ifname])?;
        self.inner.delete_address(ifname, addr)
    }

    fn delete_default_route(&mut self, route: &DefaultRoute) -> Result<(), KernelError> {
        self.check(Op::DeleteRoute, &[&route.ifname])?;
        self.inner.delete_default_route(route)
    }

    fn delete_neighbour(&mut self, ifname: &IfName, ip: IpAddr) -> Result<(), KernelError> {
        self.check(Op::DeleteNeighbour, &[ifname])?;
        self.inner.delete_neighbour(ifname, ip)
    }

    fn ssid(&mut self, wlan: &IfName) -> Result<Option<Ssid>, KernelError> {
        self.check(Op::GetSsid, &[wlan])?;
        self.inner.ssid(wlan)
    }

    fn wpa_supplicant_state(&mut self, wlan: &IfName) -> Result<WpaState, KernelError> {
        self.check(Op::GetWpaState, &[wlan])?;
        self.inner.wpa_supplicant_state(wlan)
    }

    fn dhcp_client(&mut self, ifname: &IfName) -> Result<Option<DhcpProcess>, KernelError> {
        self.check(Op::GetDhcpClient, &[ifname])?;
        self.inner.dhcp_client(ifname)
    }

    fn stop_dhcp_client(
        &mut self,
        ifname: &IfName,
        process: DhcpProcess,
    ) -> Result<(), KernelError> {
        self.check(Op::StopDhcpClient, &[ifname])?;
        self.inner.stop_dhcp_client(ifname, process)
    }

    fn start_dhcp_client(
        &mut self,
        ifname: &IfName,
        client: DhcpClient,
        lease: &Lease,
    ) -> Result<(), KernelError> {
        self.check(Op::StartDhcpClient, &[ifname])?;
        self.inner.start_dhcp_client(ifname, client, lease)
    }

    fn solicit_router(&mut self, ifname: &IfName) -> Result<(), KernelError> {
        self.check(Op::SolicitRouter, &[ifname])?;
        self.inner.solicit_router(ifname)
    }

    fn spawn_netcheck(&mut self, lagg: &IfName, generation: u64) -> Result<(), KernelError> {
        self.check(Op::SpawnNetcheck, &[lagg])?;
        self.inner.spawn_netcheck(lagg, generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::{n, Laptop};
    use crate::sim::{Happening, SimKernel};

    /// The laptop with wlan0 not yet in lagg0.
    fn laptop() -> SimKernel {
        Laptop::new().ports(&["em0"]).build()
    }

    #[test]
    fn nth_call_fails_and_never_reaches_the_kernel() {
        let mut f = Faulty::new(laptop());
        f.fail_nth(Op::SetFlags, 2, Errno::ENETDOWN);
        f.set_up(&n("em0"), true).unwrap();
        let err = f.set_up(&n("wlan0"), true).unwrap_err();
        assert_eq!(err, KernelError::errno(Op::SetFlags, Some(&n("wlan0")), Errno::ENETDOWN));
        f.set_up(&n("wlan0"), true).unwrap();
        assert_eq!(f.inner().writes(), 2, "the injected failure is not a kernel call");
        assert_eq!(f.injected(), ["SIOCSIFFLAGS wlan0: ENETDOWN (call 2)"]);
    }

    #[test]
    fn per_interface_rule_counts_only_that_interface() {
        let mut f = Faulty::new(laptop());
        f.fail_nth_for(Op::AddLaggPort, &n("wlan0"), 1, Errno::EBUSY);
        // A call naming another port does not count.
        assert_eq!(
            f.add_lagg_port(&n("lagg0"), &n("em0")).unwrap_err().errno_value(),
            Some(Errno::EEXIST),
            "the real kernel answered"
        );
        let err = f.add_lagg_port(&n("lagg0"), &n("wlan0")).unwrap_err();
        assert_eq!(err.errno_value(), Some(Errno::EBUSY));
        assert_eq!(err.ifname, Some(n("wlan0")), "named like the real backend names it");
        f.add_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        f.fail_always(Op::RestartWpaSupplicant, Errno::Other(1));
        for _ in 0..3 {
            assert!(f.restart_wpa_supplicant(&n("wlan0")).is_err());
        }
    }

    #[test]
    fn hook_changes_the_world_between_observe_and_apply() {
        let mut f = Faulty::new(laptop());
        f.before(Op::AddLaggPort, |k: &mut SimKernel| {
            k.happen(&Happening::Destroy(IfName::new("wlan0").unwrap())).unwrap();
        });
        assert!(f.interfaces().unwrap().iter().any(|i| i.name.as_str() == "wlan0"));
        // lagghook saw wlan0; by the time it adds it, wlan0 is gone.
        let err = f.add_lagg_port(&n("lagg0"), &n("wlan0")).unwrap_err();
        assert_eq!(err.errno_value(), Some(Errno::EINVAL));
        let kinds: Vec<String> = f.inner_mut().take_events().into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["DETACH", "LINK_DOWN"]);
        // Only once: a second matching call through the same wrapper finds
        // the re-created wlan0 still there, so the hook did not run again.
        f.inner_mut().happen(&"create-wlan wlan0 iwn0".parse().unwrap()).unwrap();
        f.add_lagg_port(&n("lagg0"), &n("wlan0")).unwrap();
        assert!(f.inner().interface("wlan0").is_some());
        assert!(f.injected().is_empty(), "a hook is not an injected failure");
    }

    #[test]
    fn random_mode_is_reproducible_and_spares_reads() {
        let run = |seed: u64| {
            let mut f = Faulty::new(laptop());
            f.fail_randomly(seed, 0.5, &[]);
            let mut outcome = Vec::new();
            for i in 0..40 {
                assert!(f.interfaces().is_ok() && f.lagg_status(&n("lagg0")).is_ok());
                let up = i % 2 == 0;
                outcome.push(f.set_up(&n("em0"), up).err().and_then(|e| e.errno_value()));
            }
            outcome
        };
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
        let failures = a.iter().filter(|o| o.is_some()).count();
        assert!((5..35).contains(&failures), "{failures} of 40 at p=0.5");
        let mut never = Faulty::new(laptop());
        never.fail_randomly(1, 0.0, &[Errno::Other(5)]);
        assert!(never.set_up(&n("em0"), false).is_ok());
        let mut always = Faulty::new(laptop());
        always.fail_randomly(1, 1.0, &[Errno::EPERM]);
        assert_eq!(always.set_up(&n("em0"), false).unwrap_err().errno_value(), Some(Errno::EPERM));
        assert!(always.failover_rx_all().is_ok());
    }
}
