//! Executes a [`Plan`] against a [`Kernel`], in order. "Already so" answers
//! count as success (EEXIST on add, ENOENT on remove), like `ifconfig`'s
//! `setlaggport`; a failure skips the rest of its action's group and
//! nothing else, so one bad port cannot keep the others out of the lagg.

use std::collections::BTreeSet;

use crate::domain::plan::{Action, Group, Plan};
use crate::kernel::{Errno, Kernel, KernelError};

/// What became of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The kernel said it was already so.
    AlreadyDone,
    Failed(KernelError),
    /// An earlier action of the same group failed.
    Skipped,
}

/// One action and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub action: Action,
    pub outcome: Outcome,
}

/// Applies `plan`, returning every action's outcome in order.
pub fn apply(kernel: &mut dyn Kernel, plan: &Plan) -> Vec<Applied> {
    let mut failed: BTreeSet<Group> = BTreeSet::new();
    let mut out = Vec::with_capacity(plan.actions.len());
    for action in &plan.actions {
        let group = action.group();
        let lagg_failed = match action {
            Action::AddPort { lagg, .. } | Action::RemovePort { lagg, .. } => {
                failed.contains(&Group::Lagg(lagg.clone()))
            }
            _ => false,
        };
        let outcome = if failed.contains(&group) || lagg_failed {
            Outcome::Skipped
        } else {
            match execute(kernel, action) {
                Ok(()) => Outcome::Done,
                Err(e) if already_done(action, &e) => Outcome::AlreadyDone,
                Err(e) => {
                    failed.insert(group);
                    Outcome::Failed(e)
                }
            }
        };
        out.push(Applied { action: action.clone(), outcome });
    }
    out
}

/// EEXIST from `lagg_port_create` means the port is already a member of
/// this lagg; ENOENT from SIOCSLAGGDELPORT that it already left;
/// EEXIST from the cloner that the lagg exists (`if_clone_create`).
fn already_done(action: &Action, err: &KernelError) -> bool {
    matches!(
        (action, err.errno_value()),
        (Action::AddPort { .. }, Some(Errno::EEXIST))
            | (Action::RemovePort { .. }, Some(Errno::ENOENT))
            | (Action::CreateLagg { .. }, Some(Errno::EEXIST))
    )
}

fn execute(kernel: &mut dyn Kernel, action: &Action) -> Result<(), KernelError> {
    match action {
        Action::LoadLaggModule => kernel.load_lagg_module(),
        Action::CreateLagg { lagg } => kernel.create_lagg(lagg),
        Action::SetProto { lagg, proto } => kernel.set_lagg_proto(lagg, *proto),
        Action::Up { ifname } => kernel.set_up(ifname, true),
        Action::Down { ifname } => kernel.set_up(ifname, false),
        Action::SetLladdr { ifname, mac, .. } => kernel.set_lladdr(ifname, *mac),
        Action::RestartWpaSupplicant { wlan } => kernel.restart_wpa_supplicant(wlan),
        Action::AddPort { lagg, port } => kernel.add_lagg_port(lagg, port),
        Action::RemovePort { lagg, port } => kernel.remove_lagg_port(lagg, port),
        Action::SetFailoverRxAll { value } => kernel.set_failover_rx_all(*value),
    }
}
