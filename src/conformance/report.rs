//! Playing sequences in two worlds side by side, and the report a person
//! reads: each step with the kernel's observation, the simulator's where
//! it differs, and every difference; each probe's question and both
//! answers; each of lagghook's bodies; a summary whose count of
//! differences is the command's exit status.

use std::fmt::Write as _;

use super::bodies::BodyResult;
use super::compare::differences;
use super::observe::{observe, render_events, render_interface, render_lagg, MacBook, Observation};
use super::sequence::{Probe, Sequence};
use super::step::Outcome;
use super::world::{World, WorldError};

/// One step in both worlds.
#[derive(Debug, Clone)]
pub struct StepReport {
    pub step: String,
    pub commands: Vec<String>,
    pub kernel: Observation,
    pub sim: Observation,
    pub diffs: Vec<String>,
}

/// One sequence in both worlds.
#[derive(Debug, Clone)]
pub struct SequenceReport {
    pub name: String,
    pub steps: Vec<StepReport>,
    /// Where comparing stopped because one world could not express a
    /// step: the step and why (not a difference).
    pub skipped: Option<String>,
}

impl SequenceReport {
    pub fn differences(&self) -> usize {
        self.steps.iter().map(|s| s.diffs.len()).sum()
    }
}

/// Plays `seq` in `kernel` and `sim`, both reset first, comparing after
/// every step. Stops at the first step either world skips.
pub fn play(
    seq: &Sequence,
    kernel: &mut dyn World,
    sim: &mut dyn World,
) -> Result<SequenceReport, WorldError> {
    kernel.reset()?;
    sim.reset()?;
    kernel.take_events()?;
    sim.take_events()?;
    let scope = seq.scope();
    let mut books = (MacBook::default(), MacBook::default());
    let mut report = SequenceReport { name: seq.name.clone(), steps: Vec::new(), skipped: None };
    for step in &seq.steps {
        for m in step.macs() {
            books.0.literal(m);
            books.1.literal(m);
        }
        let k = step_in(kernel, step, &scope, &mut books.0)?;
        let s = step_in(sim, step, &scope, &mut books.1)?;
        let skip = [&k.outcome, &s.outcome].into_iter().find_map(|o| match o {
            Outcome::Skipped(why) => Some(why.clone()),
            _ => None,
        });
        if let Some(why) = skip {
            report.skipped = Some(format!("`{step}`: {why}"));
            break;
        }
        let diffs = differences(&k, &s);
        report.steps.push(StepReport {
            step: step.to_string(),
            commands: step.commands(),
            kernel: k,
            sim: s,
            diffs,
        });
    }
    Ok(report)
}

/// One step in one world, then what it shows.
fn step_in(
    world: &mut dyn World,
    step: &super::step::Step,
    scope: &std::collections::BTreeSet<crate::domain::model::IfName>,
    book: &mut MacBook,
) -> Result<Observation, WorldError> {
    let outcome = world.apply(step)?;
    world.settle();
    let events = world.take_events()?;
    let transient = world.transient().clone();
    Ok(observe(world.kernel(), scope, book, outcome, &events, &transient)?)
}

/// A probe played: the sequence and each world's answer.
#[derive(Debug, Clone)]
pub struct ProbeReport {
    pub question: String,
    pub scope_note: String,
    pub played: SequenceReport,
    pub kernel: Vec<String>,
    pub sim: Vec<String>,
}

/// Plays a probe.
pub fn ask(
    probe: &Probe,
    kernel: &mut dyn World,
    sim: &mut dyn World,
) -> Result<ProbeReport, WorldError> {
    let played = play(&probe.sequence, kernel, sim)?;
    let k: Vec<Observation> = played.steps.iter().map(|s| s.kernel.clone()).collect();
    let s: Vec<Observation> = played.steps.iter().map(|s| s.sim.clone()).collect();
    Ok(ProbeReport {
        question: probe.question.to_owned(),
        scope_note: probe.scope_note.to_owned(),
        kernel: probe.answer(&k),
        sim: probe.answer(&s),
        played,
    })
}

/// One of lagghook's bodies in both worlds.
#[derive(Debug, Clone)]
pub struct BodyReport {
    pub name: String,
    pub kernel: BodyResult,
    pub sim: BodyResult,
}

/// Everything one run found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Lines about the run: the kernel, the jail, the seed.
    pub header: Vec<String>,
    pub sequences: Vec<SequenceReport>,
    pub probes: Vec<ProbeReport>,
    pub bodies: Vec<BodyReport>,
}

impl Report {
    /// Differences in all, and failed bodies: the exit status is 1 when
    /// this is not 0.
    pub fn differences(&self) -> usize {
        let seqs: usize = self.sequences.iter().map(SequenceReport::differences).sum();
        let probes: usize = self.probes.iter().map(|p| p.played.differences()).sum();
        let failed = |r: &BodyResult| matches!(r, BodyResult::Failed(_));
        let bodies = self.bodies.iter().filter(|b| failed(&b.kernel) || failed(&b.sim)).count();
        seqs + probes + bodies
    }

    /// The report as text: every step.
    pub fn render(&self) -> String {
        self.render_as(false)
    }

    /// Only the steps that differ, the answers, the bodies, the summary.
    pub fn render_brief(&self) -> String {
        self.render_as(true)
    }

    fn render_as(&self, brief: bool) -> String {
        let mut out = String::new();
        out.push_str("lagghook differential conformance report\n");
        for h in &self.header {
            let _ = writeln!(out, "{h}");
        }
        for s in &self.sequences {
            let _ = writeln!(out, "\n== sequence: {}", s.name);
            render_sequence(&mut out, s, brief);
        }
        for p in &self.probes {
            let _ = writeln!(out, "\n== probe: {}", p.question);
            let _ = writeln!(out, "   (answered {})", p.scope_note);
            render_sequence(&mut out, &p.played, brief);
            let _ = writeln!(out, "   answer, kernel:");
            for a in &p.kernel {
                let _ = writeln!(out, "     {a}");
            }
            let _ = writeln!(out, "   answer, simulator:");
            for a in &p.sim {
                let _ = writeln!(out, "     {a}");
            }
        }
        for b in &self.bodies {
            let show = |r: &BodyResult| match r {
                BodyResult::Passed => "passed".to_owned(),
                BodyResult::Failed(e) => format!("FAILED: {e}"),
                BodyResult::Skipped(why) => format!("skipped: {why}"),
            };
            let _ = writeln!(
                out,
                "\n== lagghook body: {}\n   kernel: {}\n   simulator: {}",
                b.name,
                show(&b.kernel),
                show(&b.sim)
            );
        }
        let steps: usize = self.sequences.iter().map(|s| s.steps.len()).sum::<usize>()
            + self.probes.iter().map(|p| p.played.steps.len()).sum::<usize>();
        let skipped = self
            .sequences
            .iter()
            .map(|s| &s.skipped)
            .chain(self.probes.iter().map(|p| &p.played.skipped))
            .filter(|s| s.is_some())
            .count();
        let _ = writeln!(
            out,
            "\nsummary: {} sequences and {} probes, {steps} steps compared, {} skipped from a \
             step on; {} bodies; {} differences",
            self.sequences.len(),
            self.probes.len(),
            skipped,
            self.bodies.len(),
            self.differences()
        );
        out
    }
}

fn render_sequence(out: &mut String, s: &SequenceReport, brief: bool) {
    for (i, st) in s.steps.iter().enumerate() {
        if brief && st.diffs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {}. {}    [{}]", i + 1, st.step, st.commands.join("; "));
        render_observation(out, "kernel:   ", &st.kernel);
        if st.diffs.is_empty() {
            let _ = writeln!(out, "     simulator: the same");
        } else {
            render_observation(out, "simulator:", &st.sim);
            for d in &st.diffs {
                let _ = writeln!(out, "     DIFFERENCE {d}");
            }
        }
    }
    if let Some(why) = &s.skipped {
        let _ = writeln!(out, "  (not compared from {why})");
    }
}

fn render_observation(out: &mut String, who: &str, o: &Observation) {
    let _ = writeln!(out, "     {who} {}", o.outcome);
    for i in &o.interfaces {
        let _ = writeln!(out, "       {}", render_interface(i));
    }
    for l in &o.laggs {
        let _ = writeln!(out, "       {}", render_lagg(l));
    }
    if let Some(v) = o.failover_rx_all {
        let _ = writeln!(out, "       net.link.lagg.failover_rx_all {}", u8::from(v));
    }
    let _ = writeln!(out, "       events: {}", render_events(&o.events));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::sequence::{fixed, probes, random};
    use crate::conformance::world::SimWorld;

    /// Proves the harness is deterministic and its comparison sound on the
    /// simulator half: the simulator against itself differs nowhere, over
    /// every fixed sequence, probe and random sequence.
    #[test]
    fn the_simulator_against_itself_differs_nowhere() {
        let (mut a, mut b) = (SimWorld::new(), SimWorld::new());
        let mut report = Report::default();
        for s in fixed().iter().chain(&random(42, 4, 30)) {
            report.sequences.push(play(s, &mut a, &mut b).unwrap());
        }
        for p in probes() {
            report.probes.push(ask(&p, &mut a, &mut b).unwrap());
        }
        let text = report.render();
        assert_eq!(report.differences(), 0, "{text}");
        if std::env::var_os("LAGGHOOK_SHOW_REPORT").is_some() {
            eprintln!("{text}");
        }
    }
}
