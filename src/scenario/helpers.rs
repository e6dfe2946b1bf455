//! The network-check helpers on simulated time (issue 20, point 6): what
//! the detached `lagghook netcheck LAGG GENERATION` processes a devd run
//! spawned do, each as its own run at the simulated instants it would act.
//! The harness takes each spawn from the kernel ([`SimKernel::take_spawned`]),
//! keeps the helper's memory ([`Helper`]) and runs its next step when the
//! world's clock reaches it; devd runs in between share the same state
//! store, so a newer helper for the same lagg makes the older one give way,
//! as on FreeBSD. A helper's pending step keeps the world unsettled; its
//! deadline is its own ([`netcheck::DEADLINE_MS`]).

use crate::domain::config::Config;
use crate::run::log::MemoryLog;
use crate::run::netcheck::{Helper, Next};
use crate::run::state::MemoryStore;
use crate::scenario::START_TIME;
use crate::sim::SimKernel;

/// A helper between two steps.
#[derive(Debug, Clone)]
struct Running {
    helper: Helper,
    /// Simulated ms of its next step.
    next: u64,
}

/// Every helper still running.
#[derive(Debug, Clone, Default)]
pub struct Helpers {
    running: Vec<Running>,
    /// How many were spawned, in all.
    pub spawned: u32,
}

/// Simulated ms as the Unix ms the helpers' clock reads.
fn unix_ms(sim_ms: u64) -> u64 {
    START_TIME * 1000 + sim_ms
}

impl Helpers {
    /// Takes the helpers the kernel was asked to spawn since the last
    /// take; each runs its first step at its spawn instant.
    pub fn take_spawned(&mut self, kernel: &mut SimKernel) {
        for s in kernel.take_spawned() {
            self.spawned += 1;
            let helper = Helper::new(s.lagg, s.generation, unix_ms(s.at));
            self.running.push(Running { helper, next: s.at });
        }
    }

    /// The next instant a helper acts at, if any runs.
    pub fn next_due(&self) -> Option<u64> {
        self.running.iter().map(|r| r.next).min()
    }

    /// Runs every step due at the kernel's instant, in spawn order, until
    /// none is (a step may ask for the same instant again). Returns how
    /// many steps ran.
    pub fn run_due(
        &mut self,
        config: &Config,
        kernel: &mut SimKernel,
        log: &mut MemoryLog,
        store: &mut MemoryStore,
    ) -> usize {
        let mut ran = 0;
        // Bounded: a helper asks for a later instant or finishes; the
        // bound only guards against a bug turning into a hang.
        for _ in 0..1000 {
            let now = kernel.now();
            let Some(i) = self.running.iter().position(|r| r.next <= now) else { break };
            let mut r = self.running.remove(i);
            ran += 1;
            match r.helper.step(config, kernel, log, store, unix_ms(now)) {
                Next::Done => {}
                Next::At(at) => {
                    r.next = at.saturating_sub(START_TIME * 1000).max(now);
                    self.running.insert(i, r);
                }
            }
            self.take_spawned(kernel);
        }
        ran
    }
}
