//! The machine file's `[[machine.radio]]` tables: `name` (the radio, as
//! wlans' `parent` names it) and `lladdr`, how its driver takes a new
//! address ([`LladdrClass`], see `sim::net80211`): `native` (net80211's
//! rules, the default), `while-down` (only an address set while the vap is
//! down) or `at-create` (only the creation address, `wlanaddr`). A radio
//! listed here is one of the machine's 802.11 devices whether or not a vap
//! names it, unless `absent_radios` lists it (its driver not attached
//! yet): the class is the card's, attached or not.

use serde::{Deserialize, Serialize};

use crate::domain::model::IfName;
use crate::domain::wifi_driver::LladdrClass;

use super::super::{SimError, SimKernel};

/// One `[[machine.radio]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineRadio {
    pub name: IfName,
    /// `native` (default), `while-down` or `at-create`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lladdr: Option<String>,
}

/// Gives `k` the radios and their classes; a radio listed twice or a class
/// that is no class is an error naming the radio.
pub(super) fn build<'a>(
    radios: impl Iterator<Item = &'a MachineRadio>,
    k: &mut SimKernel,
) -> Result<(), SimError> {
    let mut seen = std::collections::BTreeSet::new();
    for r in radios {
        let class = match r.lladdr.as_deref() {
            None => LladdrClass::Native,
            Some(word) => word
                .parse()
                .map_err(|e| SimError::new(format!("machine: radio {}: lladdr {e}", r.name)))?,
        };
        if !seen.insert(r.name.clone()) {
            return Err(SimError::new(format!("machine: radio {}: listed twice", r.name)));
        }
        // Native is the default: only the other classes are kept.
        if class != LladdrClass::Native {
            k.radio_lladdr.insert(r.name.clone(), class);
        }
        if !k.absent_radios.contains(&r.name) {
            k.radios.insert(r.name.clone());
        }
    }
    Ok(())
}

/// The tables that rebuild `k`'s radio classes: one per radio that is
/// not native.
pub(super) fn describe(k: &SimKernel) -> Option<Vec<MachineRadio>> {
    let classes: Vec<MachineRadio> = k
        .radio_lladdr
        .iter()
        .map(|(name, c)| MachineRadio { name: name.clone(), lladdr: Some(c.to_string()) })
        .collect();
    (!classes.is_empty()).then_some(classes)
}
