//! lagghook.toml: parsing (serde + toml) and validation into [`Config`].
//! A config that fails validation is rejected whole, with file:line:column.

use std::path::PathBuf;

use crate::model::{IfName, MacAddr};

/// Where a lagg's identity MAC comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacSource {
    /// That port's hardware address (`SIOCGHWADDR`), remembered in the
    /// state file while the port is absent.
    Port(IfName),
    Literal(MacAddr),
}

/// Per-wlan settings (`wlan.wlan0.parent = "iwn0"`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WlanConfig {
    pub parent: Option<IfName>,
}

/// One `[laggN]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaggConfig {
    pub name: IfName,
    /// Preference order: the first is the wanted primary.
    pub ports: Vec<IfName>,
    pub mac: MacSource,
    pub failover_rx_all: bool,
    pub wlans: Vec<(IfName, WlanConfig)>,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub path: PathBuf,
    /// In file order.
    pub laggs: Vec<LaggConfig>,
}
