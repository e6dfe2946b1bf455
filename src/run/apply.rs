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
        let needed_failed = action.needs().iter().any(|g| failed.contains(g));
        // A port whose join failed stays down: brought up again, its
        // LINK_UP would bring lagghook back to take it down for the same
        // failing join, every autonegotiation. A member left down by a
        // failure is brought up by the next run.
        let outcome = if failed.contains(&group) || needed_failed {
            // What depends on a skipped action is skipped too.
            failed.insert(group);
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
        Action::RecreateVap { wlan, parent, mac, .. } => kernel.recreate_vap(wlan, parent, *mac),
        Action::AddPort { lagg, port } => kernel.add_lagg_port(lagg, port),
        Action::RemovePort { lagg, port, .. } => kernel.remove_lagg_port(lagg, port),
        Action::SetFailoverRxAll { value } => kernel.set_failover_rx_all(*value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::IfName;
    use crate::sim::{Machine, SimKernel};

    /// Issue 8: at securelevel 1 kldload fails with EPERM; the lagg is then
    /// not attempted (it could only fail with EINVAL) and nothing else
    /// global runs.
    #[test]
    fn issue8_a_failed_kldload_skips_creating_the_lagg() {
        let machine = Machine { if_lagg: Some(false), securelevel: Some(1), ..Machine::default() };
        let mut k = SimKernel::from_machine(&machine).unwrap();
        let lagg0 = IfName::new("lagg0").unwrap();
        let plan = Plan {
            actions: vec![
                Action::LoadLaggModule,
                Action::CreateLagg { lagg: lagg0.clone() },
                Action::Up { ifname: lagg0 },
                Action::SetFailoverRxAll { value: true },
            ],
            ..Plan::default()
        };
        let outcomes: Vec<Outcome> = apply(&mut k, &plan).into_iter().map(|a| a.outcome).collect();
        assert!(
            matches!(&outcomes[0], Outcome::Failed(e) if e.errno_value() == Some(Errno::EPERM)),
            "{outcomes:?}"
        );
        assert_eq!(outcomes[1..], [Outcome::Skipped, Outcome::Skipped, Outcome::Skipped]);
        assert_eq!(k.calls(), ["kldload if_lagg: EPERM"]);
    }
}
