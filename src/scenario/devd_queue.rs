//! devd as the harness plays it: each queued event, in order, through the
//! one statement devd picks, its commands run one after the other, and
//! devd waiting for each (it `fork`s `/bin/sh -c ACTION` and waits:
//! `config::find_and_execute` in `sbin/devd/devd.cc`). lagghook's runs take
//! no simulated time; `service dhclient quietstart IF` (the stock
//! `LINK_UP` rule's action, chained by lagghook's rules for the ports) runs
//! `rc.d/dhclient` in the simulated machine, and a dhclient started
//! without `-b` keeps devd waiting until it binds or gives up: the rest of
//! the action and every later event wait with it. The longest wait of a
//! step is its `devd_blocked_max`.

use std::collections::VecDeque;

use crate::devd::{self, Rule, PROGRAM};
use crate::domain::event::DevdEvent;
use crate::run::log::MemoryLog;
use crate::run::state::MemoryStore;
use crate::sim::SimKernel;

use super::{Outage, Program, StepReport, MAX_EVENTS_PER_STEP};

/// devd's progress through its queue, kept across instants.
#[derive(Default)]
pub(super) struct Devd {
    /// Events read and not yet handled.
    queue: VecDeque<DevdEvent>,
    /// The commands of the action being run still to run, with its event.
    rest: VecDeque<(DevdEvent, Vec<String>)>,
    /// The interface whose foreground dhclient devd waits for, and since.
    waiting: Option<(String, u64)>,
    /// The longest wait that ended (or is under way) in this step, ms.
    longest: u64,
}

/// `service dhclient start|quietstart IF`: the interface.
fn dhclient_service(argv: &[String]) -> Option<&str> {
    match argv {
        [service, dhclient, verb, ifname]
            if service == "service"
                && dhclient == "dhclient"
                && matches!(verb.as_str(), "start" | "quietstart") =>
        {
            Some(ifname)
        }
        _ => None,
    }
}

impl Devd {
    pub(super) fn begin_step(&mut self, now: u64) {
        self.longest = self.waiting.as_ref().map_or(0, |(_, since)| now - since);
    }

    /// The step's longest wait so far, counting one still under way.
    pub(super) fn longest(&self, now: u64) -> u64 {
        let current = self.waiting.as_ref().map_or(0, |(_, since)| now - since);
        self.longest.max(current)
    }

    /// devd at one instant: unless it still waits, every queued event
    /// through its statement (see the module doc). Returns how many events
    /// it took.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn pump(
        &mut self,
        rules: &[Rule],
        program: &Program<'_>,
        kernel: &mut SimKernel,
        log: &mut MemoryLog,
        store: &mut MemoryStore,
        now: u64,
        sr: &mut StepReport,
    ) -> usize {
        if let Some((ifname, since)) = &self.waiting {
            if kernel.dhclient_in_foreground(ifname) {
                return 0;
            }
            self.longest = self.longest.max(kernel.now() - since);
            self.waiting = None;
        }
        let offset = Outage::Millis(kernel.now().saturating_sub(sr.at));
        let mut handled = 0;
        loop {
            while let Some((event, argv)) = self.rest.pop_front() {
                sr.dispatched.push(format!("+{offset} {event}: {}", argv.join(" ")));
                if argv.first().map(String::as_str) == Some(PROGRAM) {
                    let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
                    program.run(&args, kernel, log, store, now, sr);
                } else if let Some(ifname) = dhclient_service(&argv) {
                    if kernel.service_dhclient(ifname) && kernel.dhclient_in_foreground(ifname) {
                        self.waiting = Some((ifname.to_owned(), kernel.now()));
                        return handled;
                    }
                }
            }
            self.queue.extend(kernel.take_events());
            let Some(event) = self.queue.pop_front() else { break };
            handled += 1;
            if handled > MAX_EVENTS_PER_STEP {
                return handled;
            }
            let media = |name: &str| kernel.media_type(name);
            let Some(rule) = devd::select(rules, &event, &media) else {
                sr.dispatched.push(format!("+{offset} {event}: no rule"));
                continue;
            };
            self.rest.extend(rule.commands(&event).into_iter().map(|argv| (event.clone(), argv)));
        }
        handled
    }
}
