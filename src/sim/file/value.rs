//! The typed values of machine-file keys that are neither names nor
//! addresses: durations in seconds (`autoneg`, `assoc`) and the address
//! wpa_supplicant read (`wpa_mac`). TOML checks them as it reads the file,
//! so a bad one is reported with its line and column.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::model::{MacAddr, MacAddrError};

/// A duration given in seconds (`2.5`, `3`), kept in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SecondsText", into = "f64")]
pub struct Seconds(pub u64);

#[derive(Deserialize)]
#[serde(untagged)]
enum SecondsText {
    Whole(i64),
    Fraction(f64),
}

impl TryFrom<SecondsText> for Seconds {
    type Error = String;

    fn try_from(t: SecondsText) -> Result<Seconds, String> {
        let s = match t {
            SecondsText::Whole(n) => n as f64,
            SecondsText::Fraction(f) => f,
        };
        if !(0.0..=3600.0).contains(&s) {
            return Err(format!("{s} s: want 0 to 3600 seconds"));
        }
        // In range, so the cast is exact to the millisecond.
        Ok(Seconds((s * 1000.0).round() as u64))
    }
}

impl From<Seconds> for f64 {
    fn from(s: Seconds) -> f64 {
        s.0 as f64 / 1000.0
    }
}

/// The `wpa_mac` key: the address wpa_supplicant read when it started, or
/// `"none"` when no wpa_supplicant runs for the vap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum WpaMac {
    NotRunning,
    Read(MacAddr),
}

impl WpaMac {
    /// As the simulator keeps it: `None` when not running.
    pub fn mac(self) -> Option<MacAddr> {
        match self {
            WpaMac::NotRunning => None,
            WpaMac::Read(m) => Some(m),
        }
    }
}

impl From<Option<MacAddr>> for WpaMac {
    fn from(mac: Option<MacAddr>) -> WpaMac {
        mac.map_or(WpaMac::NotRunning, WpaMac::Read)
    }
}

impl TryFrom<String> for WpaMac {
    type Error = MacAddrError;

    fn try_from(s: String) -> Result<WpaMac, MacAddrError> {
        if s == "none" {
            Ok(WpaMac::NotRunning)
        } else {
            s.parse().map(WpaMac::Read)
        }
    }
}

impl From<WpaMac> for String {
    fn from(w: WpaMac) -> String {
        w.to_string()
    }
}

impl fmt::Display for WpaMac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WpaMac::NotRunning => f.write_str("none"),
            WpaMac::Read(m) => write!(f, "{m}"),
        }
    }
}
