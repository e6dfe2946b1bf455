//! DHCPv4: the networks' servers, FreeBSD's dhclient with the effects of
//! its dhclient-script on addresses, routes and ARP entries, and
//! `rc.d/dhclient`, which devd's stock `LINK_UP` rule and rc run.
//!
//! Read in `fel1x-developer/freebsd-src` at
//! 2d614aa2fe3e037bd11d351b0b5cfda776e65814: `sbin/dhclient/dhclient.c`
//! (`main`, `routehandler`, `state_reboot`, `state_init`, `state_selecting`,
//! `dhcpoffer`, `dhcpack`, `dhcpnak`, `bind_lease`, `state_bound`,
//! `send_discover`, `send_request`, `state_panic`), `sbin/dhclient/clparse.c`
//! (`read_client_conf`: timeout 60, select_interval 0, reboot_timeout 10,
//! retry_interval 300, backoff_cutoff 15, initial_interval 3;
//! `parse_client_lease_statement`: the last lease in the file is the active
//! one). `sbin/dhclient/dhclient-script` in `sobomax/freebsd14_vendor` at
//! 3f5fdd6c6beba3cb6da99b13280a684cf7a97be4 (`IFCONFIG='/sbin/ifconfig
//! -n'`, PREINIT adds the alias `0.0.0.0/8`; older copies, e.g.
//! `freebsd/freebsd-src` at 001f040a, replaced the first address instead).
//! `libexec/rc/rc.d/dhclient` in `freebsd/freebsd-src` at
//! 03ccfdd2ecf36648affb5bb7868bc1dd2f8b195d.
//!
//! What dhclient does, as modelled:
//! - start: a second one for an interface with one running fails
//!   ("dhclient already running", the pidfile); it waits up to 10 s for
//!   link (one check a second, then "giving up", exit 1) *before* `-b`
//!   sends it to the background; PREINIT; it reads its lease file (the
//!   last lease is the active one); `-b` daemonises; `state_reboot`.
//!   Without `-b` it stays in the foreground until it binds a lease or
//!   gives up (`go_daemon` in `bind_lease` and `state_panic`): devd, which
//!   waits for its actions, waits with it.
//! - INIT-REBOOT (`state_reboot`) asks for the active lease (no lease:
//!   INIT); a DHCPNAK drops the lease and sends it to INIT at once; the
//!   `reboot` timeout (10 s) is only checked when a retransmission is due,
//!   so silence costs until the first retransmission after 10 s.
//! - INIT: DISCOVER, retransmitted with the backoff; an OFFER is held for
//!   2 s (`dhcpoffer`: the ARPSEND script exits 0, so
//!   `arp_timeout_needed` is 2 and `stop_selecting` is 2 s away; an
//!   `/etc/dhclient-enter-hooks` that fails ARPSEND removes the hold), then
//!   REQUEST, and the ACK binds (BOUND). No offer within `timeout` (60 s):
//!   `state_panic` tries the active lease (TIMEOUT, a ping of its router),
//!   else FAIL and INIT again `retry` (300 s) later.
//! - The backoff adds a random 0 to 2×interval to the interval at each
//!   retransmission (mean: it doubles), capped near `backoff-cutoff`; the
//!   simulator takes the mean: 3, 6, 12, 15, 15 … s (no randomness here).
//! - T1 (lease/2): RENEW, unicast to the server; T2 (7/8): REBIND,
//!   broadcast; expiry: EXPIRE, PREINIT, INIT.
//! - routehandler: RTM_IFINFO for its own interface with IFF_UP cleared
//!   exits (FAIL); a link change to up runs `state_reboot`, down does
//!   nothing; RTM_DELADDR of its lease's address (later than 10 s after
//!   its last script) exits (FAIL); the interface departing exits (FAIL).
//!   RTM_IEEE80211 is heard only for its own interface, so dhclient on a
//!   lagg never hears of a new BSS.
//!
//! dhclient-script, as modelled: PREINIT adds `0.0.0.0/8`;
//! BOUND/RENEW/REBIND/REBOOT delete the old address, the default route and
//! every ARP entry of the interface (`arp_flush`) only when the old
//! address differs, then (BOUND, REBOOT, or a new address) `ifconfig IF
//! inet NEW netmask …`, which replaces the first address, and `route add
//! default ROUTER`, which fails while a default route exists; EXPIRE/FAIL
//! delete the old address and routes and `arp -d -a -i IF`.
//!
//! The servers: a DISCOVER is offered the client's binding, else the
//! address it asks for if free, else the pool's first free address; a
//! REQUEST after an OFFER is ACKed and binds; an INIT-REBOOT REQUEST is
//! ACKed when the server has that binding for the client, NAKed (by an
//! authoritative server) when the address is not on its subnet or belongs
//! to another client, and met with silence when the server has no record
//! of the client (RFC 2131 §4.3.2: it "MUST remain silent"); a RENEW
//! reaches only the server that leased; a REBIND is answered like an
//! INIT-REBOOT. Frames go out and come back only while the interface
//! reaches the server's network ([`SimKernel::reached`]); an answer comes
//! `delay_ms` after the message and is lost if the interface has left.

use std::net::Ipv4Addr;

use crate::domain::model::{IfName, LinkState, MacAddr};

use super::link::{DhcpServer, Ipv4Net, Network};
use super::{Due, SimKernel};

const INITIAL_INTERVAL_MS: u64 = 3_000;
const BACKOFF_CUTOFF_MS: u64 = 15_000;
const REBOOT_TIMEOUT_MS: u64 = 10_000;
const TIMEOUT_MS: u64 = 60_000;
const RETRY_MS: u64 = 300_000;
/// `dhcpoffer`'s `arp_timeout_needed`.
const OFFER_HOLD_MS: u64 = 2_000;
/// `main`'s wait for link: a check a second, giving up after the 11th.
const LINK_WAIT_TRIES: u32 = 11;

/// The lease file rc's dhclient uses for an interface (`_PATH_DHCLIENT_DB`
/// and the interface name, `main` in dhclient.c).
pub fn lease_file(ifname: &IfName) -> String {
    format!("/var/db/dhclient.leases.{ifname}")
}

/// A lease as dhclient keeps it (times on the simulator's clock, ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub addr: Ipv4Net,
    pub router: Option<Ipv4Addr>,
    /// The network whose server leased it (its server identifier).
    pub server: String,
    pub renewal: u64,
    pub rebind: u64,
    pub expiry: u64,
}

/// A server's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Offer { addr: Ipv4Net, router: Option<Ipv4Addr>, server: String, xid: u64 },
    Ack { addr: Ipv4Net, router: Option<Ipv4Addr>, server: String, lease_s: u64, xid: u64 },
    Nak { server: String, xid: u64 },
}

impl Reply {
    fn server(&self) -> &str {
        match self {
            Reply::Offer { server, .. } | Reply::Ack { server, .. } | Reply::Nak { server, .. } => {
                server
            }
        }
    }

    fn xid(&self) -> u64 {
        match self {
            Reply::Offer { xid, .. } | Reply::Ack { xid, .. } | Reply::Nak { xid, .. } => *xid,
        }
    }
}

/// What a client asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Msg {
    Discover(Option<Ipv4Addr>),
    /// After an OFFER (REQUESTING): the server's own offer.
    Select(Ipv4Addr),
    /// INIT-REBOOT, and REBIND (broadcast, the lease's address).
    Reboot(Ipv4Addr),
    /// RENEW: unicast to the server that leased.
    Renew(Ipv4Addr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// `main` waiting for link, this many checks made.
    LinkWait(u32),
    Rebooting,
    Selecting,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
    /// Gave up (`state_panic`'s FAIL), INIT again at the retry.
    Sleeping,
}

/// One dhclient process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::sim) struct Dhclient {
    state: State,
    active: Option<Lease>,
    /// The offer being requested (REQUESTING), from the network named.
    offered: Option<(Ipv4Net, Option<Ipv4Addr>, String)>,
    xid: u64,
    /// The generation of the one timeout set.
    timer: u64,
    first_sending: u64,
    interval: u64,
    background: bool,
    /// In the foreground: whoever started it waits.
    pub(super) foreground: bool,
    lease_file: String,
    linkstat: bool,
    scripttime: u64,
    /// Its pid (the pidfile's).
    pub(super) pid: u32,
}

/// How a dhclient is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhclientArgs {
    /// `-b`: daemonise at once (after the link wait).
    pub background: bool,
    /// `-l FILE`; `None`: `/var/db/dhclient.leases.IF`.
    pub lease_file: Option<String>,
}

impl Dhclient {
    /// A client as a machine file keeps it: bound to `active`, or
    /// sleeping until its retry when it has none.
    pub(super) fn restored(args: &DhclientArgs, active: Option<Lease>) -> Dhclient {
        Dhclient {
            state: if active.is_some() { State::Bound } else { State::Sleeping },
            active,
            offered: None,
            xid: 0,
            timer: 0,
            first_sending: 0,
            interval: 0,
            background: args.background,
            foreground: false,
            lease_file: args.lease_file.clone().unwrap_or_default(),
            linkstat: true,
            scripttime: 0,
            pid: 0,
        }
    }

    pub(super) fn file(&self) -> super::file::DhclientFile {
        super::file::DhclientFile {
            background: self.background,
            lease_file: self.lease_file.clone(),
        }
    }
}

/// A server answering `msg` from `chaddr` (see the module doc).
fn serve(
    server: &mut DhcpServer,
    subnet: Option<Ipv4Net>,
    chaddr: MacAddr,
    msg: Msg,
) -> Option<Answer> {
    let subnet = subnet?;
    let in_pool = |ip: Ipv4Addr| {
        (u32::from(server.pool.0)..=u32::from(server.pool.1)).contains(&u32::from(ip))
    };
    let taken_by_other =
        |s: &DhcpServer, ip: Ipv4Addr| s.bindings.iter().any(|(m, a)| *a == ip && *m != chaddr);
    match msg {
        Msg::Discover(requested) => {
            let mine = server.bindings.get(&chaddr).copied();
            let wanted = requested.filter(|&ip| in_pool(ip) && !taken_by_other(server, ip));
            let free = (u32::from(server.pool.0)..=u32::from(server.pool.1))
                .map(Ipv4Addr::from)
                .find(|&ip| !taken_by_other(server, ip));
            mine.or(wanted).or(free).map(Answer::Offer)
        }
        Msg::Select(ip) => {
            if taken_by_other(server, ip) || !subnet.contains(ip) {
                return Some(Answer::Nak);
            }
            server.bindings.insert(chaddr, ip);
            Some(Answer::Ack(ip))
        }
        Msg::Reboot(ip) | Msg::Renew(ip) => {
            if server.bindings.get(&chaddr) == Some(&ip) {
                Some(Answer::Ack(ip))
            } else if !subnet.contains(ip) || taken_by_other(server, ip) {
                server.authoritative.then_some(Answer::Nak)
            } else {
                None
            }
        }
    }
}

enum Answer {
    Offer(Ipv4Addr),
    Ack(Ipv4Addr),
    Nak,
}

impl SimKernel {
    /// `dhclient [-b] [-l FILE] IF`: starts a client (see the module doc).
    /// `Err` with dhclient's message when it exits at once.
    pub(in crate::sim) fn dhclient_start(
        &mut self,
        ifname: &IfName,
        args: &DhclientArgs,
    ) -> Result<(), String> {
        if self.net.clients.contains_key(ifname) {
            return Err("dhclient already running".into());
        }
        let Some(ifn) = self.ifnets.get(ifname) else {
            return Err(format!("{ifname}: no such interface"));
        };
        let link = ifn.link == LinkState::Up;
        self.net.record.dhcp_exchanges += 1;
        let client = Dhclient {
            state: State::LinkWait(0),
            active: None,
            offered: None,
            xid: 0,
            timer: 0,
            first_sending: self.now,
            interval: 0,
            background: args.background,
            foreground: true,
            lease_file: args.lease_file.clone().unwrap_or_else(|| lease_file(ifname)),
            linkstat: link,
            scripttime: 0,
            pid: self.net.next_pid(),
        };
        self.net.clients.insert(ifname.clone(), client);
        if link {
            self.dhclient_got_link(ifname);
        } else {
            self.dhclient_timeout(ifname, 1_000);
        }
        Ok(())
    }

    /// `main` after the link is there: PREINIT, the lease file, `-b`,
    /// `state_reboot`.
    fn dhclient_got_link(&mut self, ifname: &IfName) {
        self.script_preinit(ifname);
        let Some(c) = self.net.clients.get(ifname) else { return };
        let active = self.net.lease_files.get(&c.lease_file).cloned();
        let background = c.background;
        if let Some(c) = self.net.clients.get_mut(ifname) {
            c.linkstat = true;
            c.active = active;
            if background {
                c.foreground = false;
            }
        }
        self.state_reboot(ifname);
    }

    /// The timer of a client [`Dhclient::restored`] made.
    pub(super) fn dhclient_restored(&mut self, ifname: &IfName) {
        let Some(c) = self.net.clients.get(ifname) else { return };
        let at = match &c.active {
            Some(l) => l.renewal,
            None => self.now + RETRY_MS,
        };
        self.dhclient_timeout_at(ifname, at);
    }

    /// Whether a dhclient runs for `ifname`.
    pub fn dhclient_running(&self, ifname: &str) -> bool {
        self.net.clients.keys().any(|k| k.as_str() == ifname)
    }

    /// Whether the dhclient of `ifname` is still in the foreground (whoever
    /// started it waits).
    pub fn dhclient_in_foreground(&self, ifname: &str) -> bool {
        self.net.clients.iter().any(|(k, c)| k.as_str() == ifname && c.foreground)
    }

    /// SIGTERM: dhclient has no handler for it, so it dies without running
    /// its script (its address, route and lease file stay). Whether one
    /// ran.
    pub(in crate::sim) fn dhclient_kill(&mut self, ifname: &IfName) -> bool {
        self.net.clients.remove(ifname).is_some()
    }

    /// routehandler's `die:`: FAIL, then exit.
    pub(super) fn dhclient_exit(&mut self, ifname: &IfName, _why: &str) {
        if self.net.clients.remove(ifname).is_some() {
            self.script_fail(ifname, None);
        }
    }

    /// routehandler's RTM_IFINFO (link part).
    pub(super) fn dhclient_ifinfo(&mut self, ifname: &IfName, up: bool) {
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        if matches!(c.state, State::LinkWait(_)) || c.linkstat == up {
            return;
        }
        c.linkstat = up;
        if up {
            self.net.record.dhcp_exchanges += 1;
            self.state_reboot(ifname);
        }
    }

    /// routehandler's RTM_DELADDR.
    pub(super) fn dhclient_address_deleted(&mut self, ifname: &IfName, addr: Ipv4Addr) {
        let Some(c) = self.net.clients.get(ifname) else { return };
        let ours = c.active.as_ref().is_some_and(|l| l.addr.addr == addr);
        if ours && !addr.is_unspecified() && self.now >= c.scripttime + 10_000 {
            self.dhclient_exit(ifname, "address deleted");
        }
    }

    fn dhclient_timeout(&mut self, ifname: &IfName, after: u64) {
        let generation = self.net.next_generation();
        if let Some(c) = self.net.clients.get_mut(ifname) {
            c.timer = generation;
        }
        self.net.schedule(self.now + after, false, Due::Dhclient(ifname.clone(), generation));
    }

    /// A lease's renewal, a periodic timer.
    fn dhclient_timeout_at(&mut self, ifname: &IfName, at: u64) {
        let generation = self.net.next_generation();
        if let Some(c) = self.net.clients.get_mut(ifname) {
            c.timer = generation;
        }
        self.net.schedule(at, true, Due::Dhclient(ifname.clone(), generation));
    }

    fn new_xid(&mut self, ifname: &IfName) {
        let xid = self.net.next_generation();
        if let Some(c) = self.net.clients.get_mut(ifname) {
            c.xid = xid;
        }
    }

    /// `state_reboot`.
    fn state_reboot(&mut self, ifname: &IfName) {
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        if c.active.is_none() {
            self.state_init(ifname);
            return;
        }
        (c.state, c.first_sending, c.interval) = (State::Rebooting, self.now, INITIAL_INTERVAL_MS);
        self.new_xid(ifname);
        self.send_request(ifname);
    }

    /// `state_init`.
    fn state_init(&mut self, ifname: &IfName) {
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        (c.state, c.first_sending, c.interval) = (State::Selecting, self.now, INITIAL_INTERVAL_MS);
        c.offered = None;
        self.new_xid(ifname);
        self.send_discover(ifname);
    }

    /// The backoff's mean step: doubled, capped at `backoff-cutoff`.
    fn backoff(interval: u64) -> u64 {
        if interval == 0 {
            INITIAL_INTERVAL_MS
        } else {
            (interval * 2).min(BACKOFF_CUTOFF_MS)
        }
    }

    /// `send_discover`.
    fn send_discover(&mut self, ifname: &IfName) {
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        if self.now - c.first_sending > TIMEOUT_MS {
            self.state_panic(ifname);
            return;
        }
        c.interval = Self::backoff(c.interval);
        let end = c.first_sending + TIMEOUT_MS;
        if self.now + c.interval > end {
            c.interval = end - self.now + 1_000;
        }
        let (interval, requested) = (c.interval, c.active.as_ref().map(|l| l.addr.addr));
        self.dhcp_send(ifname, Msg::Discover(requested));
        self.dhclient_timeout(ifname, interval);
    }

    /// `send_request` (REBOOTING, REQUESTING, RENEWING, REBINDING).
    fn send_request(&mut self, ifname: &IfName) {
        let now = self.now;
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        let elapsed = now - c.first_sending;
        if matches!(c.state, State::Rebooting | State::Requesting) && elapsed > REBOOT_TIMEOUT_MS {
            self.state_init(ifname);
            return;
        }
        let expired = c.active.as_ref().is_some_and(|l| now > l.expiry);
        if c.state != State::Requesting && expired {
            let old = c.active.take();
            self.script_expire(ifname, old);
            self.script_preinit(ifname);
            self.state_init(ifname);
            return;
        }
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        c.interval = Self::backoff(c.interval);
        if let (true, Some(l)) = (c.state != State::Requesting, &c.active) {
            if now + c.interval > l.expiry {
                c.interval = l.expiry - now + 1_000;
            }
        }
        if let (State::Renewing, Some(l)) = (c.state, &c.active) {
            if now > l.rebind {
                c.state = State::Rebinding;
            }
        }
        let msg = match (c.state, &c.active, &c.offered) {
            (State::Requesting, _, Some((addr, _, _))) => Msg::Select(addr.addr),
            (State::Renewing, Some(l), _) => Msg::Renew(l.addr.addr),
            (_, Some(l), _) => Msg::Reboot(l.addr.addr),
            _ => return,
        };
        let interval = c.interval;
        self.dhcp_send(ifname, msg);
        self.dhclient_timeout(ifname, interval);
    }

    /// A message leaving `ifname`: the server of the network it reaches
    /// answers `delay_ms` later (see the module doc).
    fn dhcp_send(&mut self, ifname: &IfName, msg: Msg) {
        let Some(c) = self.net.clients.get(ifname) else { return };
        let (xid, generation) = (c.xid, c.xid);
        let renew_to = match (msg, &c.active) {
            (Msg::Renew(_), Some(l)) => Some(l.server.clone()),
            _ => None,
        };
        let Some(chaddr) = self.ifnets.get(ifname).map(|i| i.lladdr) else { return };
        let Some((name, _)) = self.reached(ifname) else { return };
        let name = name.to_owned();
        if renew_to.as_ref().is_some_and(|s| *s != name) {
            return;
        }
        let Some(network) = self.net.networks.get_mut(&name) else { return };
        let subnet = network.subnet;
        let router = network.gateway;
        let Some(server) = network.dhcp.as_mut() else { return };
        let (delay, lease_s) = (server.delay_ms, server.lease_s);
        let Some(answer) = serve(server, subnet, chaddr, msg) else { return };
        let len = subnet.map_or(32, |s| s.len);
        let net = |ip| Ipv4Net { addr: ip, len };
        let reply = match answer {
            Answer::Offer(ip) => Reply::Offer { addr: net(ip), router, server: name, xid },
            Answer::Ack(ip) => Reply::Ack { addr: net(ip), router, server: name, lease_s, xid },
            Answer::Nak => Reply::Nak { server: name, xid },
        };
        self.net.schedule(
            self.now + delay,
            false,
            Due::DhcpReply(ifname.clone(), generation, reply),
        );
    }

    /// A server's answer arriving (dropped when the interface no longer
    /// reaches its network, or the client no longer waits for it).
    pub(super) fn dhclient_receive(&mut self, ifname: &IfName, _generation: u64, reply: Reply) {
        if self.reached(ifname).map(|(n, _)| n) != Some(reply.server()) {
            return;
        }
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        if c.xid != reply.xid() {
            return;
        }
        match reply {
            Reply::Offer { addr, router, server, .. } => {
                // `dhcpoffer`: only while SELECTING; the first offer is
                // requested 2 s later.
                if c.state != State::Selecting || c.offered.is_some() {
                    return;
                }
                c.offered = Some((addr, router, server));
                let hold = if self.arpsend_fails() { 0 } else { OFFER_HOLD_MS };
                self.dhclient_timeout(ifname, hold);
            }
            Reply::Ack { addr, router, server, lease_s, .. } => {
                let accepting =
                    [State::Rebooting, State::Requesting, State::Renewing, State::Rebinding];
                if !accepting.contains(&c.state) {
                    return;
                }
                // `dhcpack`: T1 = lease/2, T2 = T1/4×7.
                let (now, lease) = (self.now, lease_s.max(60) * 1_000);
                let renewal = now + lease / 2;
                let rebind = now + lease / 2 / 4 * 7;
                let new = Lease { addr, router, server, renewal, rebind, expiry: now + lease };
                self.bind_lease(ifname, new);
            }
            Reply::Nak { .. } => {
                let accepting =
                    [State::Rebooting, State::Requesting, State::Renewing, State::Rebinding];
                if !accepting.contains(&c.state) || c.active.is_none() {
                    return;
                }
                c.active = None;
                self.state_init(ifname);
            }
        }
    }

    /// `bind_lease`: the lease file, the script, T1, BOUND, `go_daemon`.
    fn bind_lease(&mut self, ifname: &IfName, new: Lease) {
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        let reason = match c.state {
            State::Requesting => "BOUND",
            State::Renewing => "RENEW",
            State::Rebooting => "REBOOT",
            _ => "REBIND",
        };
        let old = if c.state == State::Rebooting { None } else { c.active.clone() };
        let file = c.lease_file.clone();
        self.net.lease_files.insert(file, new.clone());
        self.script_bound(ifname, reason, old.as_ref(), &new);
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        let renewal = new.renewal;
        (c.active, c.state, c.offered, c.foreground) = (Some(new), State::Bound, None, false);
        self.dhclient_timeout_at(ifname, renewal);
    }

    /// A client's own timeout.
    pub(super) fn dhclient_timer(&mut self, ifname: &IfName, generation: u64) {
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        if c.timer != generation {
            return;
        }
        match c.state {
            State::LinkWait(tries) => {
                let link = self.ifnets.get(ifname).is_some_and(|i| i.link == LinkState::Up);
                if link {
                    self.dhclient_got_link(ifname);
                } else if tries + 1 >= LINK_WAIT_TRIES {
                    // " giving up", exit(1): no script ran yet.
                    self.net.clients.remove(ifname);
                } else {
                    c.state = State::LinkWait(tries + 1);
                    self.dhclient_timeout(ifname, 1_000);
                }
            }
            State::Selecting if c.offered.is_some() => {
                // `state_selecting`: REQUEST the offer.
                (c.state, c.first_sending, c.interval) =
                    (State::Requesting, self.now, INITIAL_INTERVAL_MS);
                self.send_request(ifname);
            }
            State::Selecting => self.send_discover(ifname),
            State::Bound => {
                // `state_bound`: T1.
                (c.state, c.first_sending, c.interval) =
                    (State::Renewing, self.now, INITIAL_INTERVAL_MS);
                self.new_xid(ifname);
                self.send_request(ifname);
            }
            State::Sleeping => self.state_init(ifname),
            State::Rebooting | State::Requesting | State::Renewing | State::Rebinding => {
                self.send_request(ifname)
            }
        }
    }

    /// `state_panic`: the recorded lease if its router answers a ping
    /// (TIMEOUT), else FAIL and INIT again at the retry; either way
    /// `go_daemon`.
    fn state_panic(&mut self, ifname: &IfName) {
        let now = self.now;
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        c.foreground = false;
        let usable = c.active.clone().filter(|l| l.expiry > now);
        if let Some(lease) = usable {
            if self.script_timeout(ifname, &lease) {
                let Some(c) = self.net.clients.get_mut(ifname) else { return };
                c.state = State::Bound;
                let at = lease.renewal.max(now);
                self.dhclient_timeout_at(ifname, at);
                return;
            }
        }
        self.script_fail(ifname, None);
        let Some(c) = self.net.clients.get_mut(ifname) else { return };
        (c.state, c.active) = (State::Sleeping, None);
        // Periodic: a client that found nothing sleeps and tries again
        // forever; the world around it is settled meanwhile.
        self.dhclient_timeout_at(ifname, now + RETRY_MS);
    }

    /// Whether the ARPSEND script exits non-zero: dhclient-script sources
    /// `/etc/dhclient-enter-hooks` first and exits with the `exit_status`
    /// a hook set (`exit_with_hooks`'s caller at the top of the script, in
    /// the 14.x copy cited above), so a hook that fails ARPSEND removes
    /// `dhcpoffer`'s 2 s hold (`if (script_go()) arp_timeout_needed = 0`).
    /// The simulator takes a hook file that names ARPSEND to do that.
    fn arpsend_fails(&self) -> bool {
        self.files.get("/etc/dhclient-enter-hooks").is_some_and(|t| t.contains("ARPSEND"))
    }

    fn note_script(&mut self, ifname: &IfName) {
        let now = self.now;
        if let Some(c) = self.net.clients.get_mut(ifname) {
            c.scripttime = now;
        }
    }

    /// PREINIT: `ifconfig -n IF inet alias 0.0.0.0 netmask 255.0.0.0 …
    /// up`.
    fn script_preinit(&mut self, ifname: &IfName) {
        self.note_script(ifname);
        let zero = Ipv4Net { addr: Ipv4Addr::UNSPECIFIED, len: 8 };
        self.net.stack_mut(ifname).add_inet(zero);
        let _ = self.siocsifflags(ifname, true);
    }

    /// Whether the default route is on `ifname` or there is none
    /// (`is_default_interface`).
    fn is_default_interface(&self, ifname: &IfName) -> bool {
        self.net.default4.as_ref().is_none_or(|r| &r.ifname == ifname)
    }

    /// `delete_old_address` and `delete_old_routes` (with `arp_flush`).
    fn delete_old(&mut self, ifname: &IfName, old: &Lease) {
        self.inet_delete(ifname, old.addr.addr);
        if self.is_default_interface(ifname) {
            self.route_delete_default();
        }
        self.net.stack_mut(ifname).arp.clear();
    }

    /// `add_new_address` and `add_new_routes`.
    fn add_new(&mut self, ifname: &IfName, new: &Lease) {
        self.inet_replace_first(ifname, new.addr);
        if let Some(router) = new.router {
            if self.is_default_interface(ifname) {
                self.route_add_default(ifname, router);
            }
        }
    }

    /// BOUND, RENEW, REBIND, REBOOT.
    fn script_bound(&mut self, ifname: &IfName, reason: &str, old: Option<&Lease>, new: &Lease) {
        self.note_script(ifname);
        let changed = old.is_some_and(|o| o.addr.addr != new.addr.addr);
        if let (true, Some(old)) = (changed, old) {
            self.delete_old(ifname, old);
        }
        if matches!(reason, "BOUND" | "REBOOT") || old.is_none() || changed {
            self.add_new(ifname, new);
        }
    }

    /// EXPIRE.
    fn script_expire(&mut self, ifname: &IfName, old: Option<Lease>) {
        self.script_fail(ifname, old.as_ref());
    }

    /// EXPIRE and FAIL: the old address and routes, then `arp -d -a -i IF`.
    fn script_fail(&mut self, ifname: &IfName, old: Option<&Lease>) {
        self.note_script(ifname);
        if let Some(old) = old {
            self.delete_old(ifname, old);
        }
        if let Some(s) = self.net.stacks.get_mut(ifname) {
            s.arp.clear();
        }
    }

    /// TIMEOUT: the address, a ping of the router (answered when the
    /// network reached has that gateway and it answers ARP), the routes;
    /// without an answer the address goes again. Whether it worked.
    fn script_timeout(&mut self, ifname: &IfName, lease: &Lease) -> bool {
        self.note_script(ifname);
        self.inet_replace_first(ifname, lease.addr);
        let answers = |n: &Network| {
            lease.router.and_then(|r| n.kernel_learns(r)).is_some()
                && n.subnet.is_some_and(|s| s.contains(lease.addr.addr))
        };
        if self.reached(ifname).is_some_and(|(_, n)| answers(n)) {
            if let Some(router) = lease.router {
                if self.is_default_interface(ifname) {
                    self.route_add_default(ifname, router);
                }
            }
            return true;
        }
        self.inet_delete(ifname, lease.addr.addr);
        if self.is_default_interface(ifname) {
            self.route_delete_default();
        }
        false
    }

    /// `service dhclient start|quietstart IF` (`rc.d/dhclient`): nothing
    /// unless rc.conf makes IF a DHCP interface (`dhclient_pre_check`:
    /// "'IF' is not a DHCP-enabled interface"), nothing when one runs
    /// (rc.subr's pidfile check), else `dhclient [-b] IF` with `-b` from
    /// `background_dhclient_IF` or `background_dhclient`. Whether a new
    /// client was started (and is in the foreground while it looks for a
    /// lease).
    pub fn service_dhclient(&mut self, ifname: &str) -> bool {
        let Ok(ifname) = IfName::new(ifname) else { return false };
        let ifname = &ifname;
        if !self.net.enabled() || !self.rc_conf.is_dhcp(ifname) {
            return false;
        }
        if self.net.clients.contains_key(ifname) {
            return false;
        }
        let background = self.rc_conf.net.background(ifname);
        let args = DhclientArgs { background, lease_file: None };
        self.dhclient_start(ifname, &args).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::sim::{Machine, RcConf, SimKernel};

    /// Two networks on one subnet pattern: the office on the cable, the
    /// café behind a BSS, lagg0 bound to the office as rc left it.
    const MACHINE: &str = r#"
[[machine.network]]
name = "office"
subnet = "10.1.0.0/24"
gateway = "10.1.0.1"
gateway_mac = "00:0d:b9:00:00:01"
dhcp = { pool = "10.1.0.100-10.1.0.199" }

[[machine.network]]
name = "cafe"
subnet = "10.1.0.0/24"
gateway = "10.1.0.1"
gateway_mac = "00:0d:b9:00:00:c1"
dhcp = { pool = "10.1.0.100-10.1.0.199", delay_ms = 20 }

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
bss = "Cafe"

[[machine.interface]]
name = "lagg0"
kind = "lagg"
ports = ["em0", "wlan0"]
dhcp = true
"#;

    fn kernel() -> SimKernel {
        SimKernel::from_machine(&Machine::parse(MACHINE).unwrap()).unwrap()
    }

    /// Proves a `dhcp = true` lagg starts as rc left it: bound, with the
    /// office's first pool address, its gateway as default route and the
    /// gateway's ARP entry, so IPv4 flows; and a saved machine reloads to
    /// the same state.
    #[test]
    fn a_dhcp_lagg_starts_bound_to_its_networks_lease() {
        let k = kernel();
        assert!(k.dhclient_running("lagg0"));
        assert!(!k.dhclient_in_foreground("lagg0"));
        assert_eq!(
            k.inet_addrs("lagg0").iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ["10.1.0.100/24"]
        );
        assert!(k.inet_flows("lagg0"));
        assert_eq!(k.network_of("lagg0").as_deref(), Some("office"));
        let again = SimKernel::from_machine(&k.to_machine()).unwrap();
        assert_eq!(again, k, "{}", k.to_machine().to_toml().unwrap());
        assert!(again.inet_flows("lagg0"));
    }

    /// Proves the stale ARP entry rule and dhclient's INIT-REBOOT silence:
    /// on the café (same subnet and gateway address, another gateway MAC)
    /// the office's ARP entry carries nothing; rc's dhclient hears lagg0
    /// come up (routehandler, RTM_IFINFO down → up), asks the café for
    /// 10.1.0.100, and the café's server, with no record of the client,
    /// stays silent (RFC 2131 §4.3.2): the request is retransmitted at 6 s
    /// (the backoff's mean) and at 18 s, past the 10 s `reboot` timeout,
    /// dhclient goes to INIT; DISCOVER, the offer held 2 s (`dhcpoffer`),
    /// REQUEST, ACK; BOUND with the same address replaces it (`ifconfig
    /// inet` without `alias`), which flushes the prefix's ARP entries, and
    /// the café's gateway is resolved afresh.
    #[test]
    fn a_new_gateway_behind_the_same_address_needs_a_new_arp_entry() {
        let mut k = kernel();
        k.happen(&"unplug em0".parse().unwrap()).unwrap();
        k.happen(&"associate wlan0 bss=Cafe".parse().unwrap()).unwrap();
        k.advance(k.now() + 2_000);
        assert!(k.traffic_flows("lagg0"), "the link carries");
        assert!(!k.inet_flows("lagg0"), "the office's ARP entry for 10.1.0.1 is stale");
        assert_eq!(k.network_of("lagg0"), None);
        let up = k.now();
        k.advance(up + 17_999);
        assert!(!k.inet_flows("lagg0"), "INIT-REBOOT is still unanswered");
        k.advance(up + 18_000 + 20 + 2_000 + 20);
        assert!(k.inet_flows("lagg0"));
        assert_eq!(k.network_of("lagg0").as_deref(), Some("cafe"));
        assert_eq!(k.inet_addrs("lagg0")[0].to_string(), "10.1.0.100/24");
    }

    /// Proves `service dhclient quietstart` follows rc.d/dhclient: nothing
    /// for an interface rc.conf does not make a DHCP one, nothing while one
    /// runs, and without `background_dhclient` a foreground dhclient until
    /// it binds (`go_daemon` in `bind_lease`); with it, `-b`.
    #[test]
    fn rc_dhclient_is_foreground_unless_background_dhclient() {
        let mut k = kernel();
        let rc = "ifconfig_lagg0=\"up laggproto failover laggport em0 DHCP\"\n";
        k.set_rc_conf(RcConf::parse(rc).unwrap());
        assert!(!k.service_dhclient("em0"), "em0 is no DHCP interface");
        assert!(!k.service_dhclient("lagg0"), "one runs already");
        k.happen(&"reboot".parse().unwrap()).unwrap();
        assert!(!k.dhclient_running("lagg0"), "a reboot ends it");
        for (lines, foreground) in [("", true), ("background_dhclient=\"YES\"\n", false)] {
            let mut k = kernel();
            k.set_rc_conf(RcConf::parse(&format!("ifconfig_em0=\"DHCP\"\n{lines}")).unwrap());
            assert!(k.service_dhclient("em0"));
            assert_eq!(k.dhclient_in_foreground("em0"), foreground, "{lines:?}");
            k.settle();
        }
        let mut k = kernel();
        k.set_rc_conf(RcConf::parse("ifconfig_em0=\"DHCP\"\n").unwrap());
        assert!(k.service_dhclient("em0"));
        k.settle();
        assert!(!k.dhclient_in_foreground("em0"), "bound, daemonised");
    }
}
