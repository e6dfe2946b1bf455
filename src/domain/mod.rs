//! The pure core: everything lagghook decides, with no OS call, no clock
//! and no I/O beyond parsing text handed to it.

/// Detecting network attachment: when a check is due, the probe
/// exchange, the verdict and its actions.
pub mod attach;
/// lagghook.toml parsing and validation.
pub mod config;
/// A vap's `create_args_IF` as ifconfig reads it: create parameters
/// first, so `wlanaddr` counts only before any other word.
pub mod create_args;
/// devd event lines and arguments.
pub mod event;
/// A flapping port in the log: one line per episode, not two per retry.
pub mod flap;
/// Each lagg's identity MAC: which source wins, when a provisional one
/// gives way.
pub mod identity;
/// Layer-3 values for the network check: addresses, routes, neighbours,
/// the probe exchange, SSIDs, the DHCP client.
pub mod layer3;
/// Value types: interface names, MAC addresses, lagg protocols, snapshots.
pub mod model;
/// What lagghook remembers of the networks a lagg has been on.
pub mod network;
/// The `network.*` keys of a lagg: the network check's settings.
pub mod network_config;
/// The reconcile planner: (config, snapshot) → ordered actions.
pub mod plan;
/// rc.conf(5) files as sh leaves their variables set, for `check`.
pub mod rc_vars;
/// How outside values are quoted in messages.
pub mod text;
/// Transitions between two observations, as log lines.
pub mod transition;
/// How a vap gets its lagg's address the way its driver takes one,
/// re-creating it with `wlanaddr` where that is the only way.
pub mod vap;
/// The one-line verdict `status` gives for a lagg.
pub mod verdict;
/// What lagghook believes of a WiFi driver: its module, how it takes a
/// cloned MAC.
pub mod wifi_driver;
