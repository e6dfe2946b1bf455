//! The network-check helper's cost on a same-network verdict (issue 20's
//! benchmark row): the one-LAN laptop of tests/scenarios/net-dock-undock-
//! one-lan.toml undocks (em0's LINK_DOWN, lagg0 on wlan0, same LAN); the
//! devd run spawns the helper, and the helper's steps (start, probe,
//! verdict) run in-process on the simulated kernel, as `lagghook netcheck`
//! would run them, without the waits between steps (simulated time). Prints
//! the median wall time of the helper's work and of the devd run that
//! spawned it, the steps and the kernel requests the helper made.
//!
//!   cargo run --release --example helper-cost [RUNS]

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use lagghook::cli::args;
use lagghook::cli::command::reconcile_in;
use lagghook::run::log::MemoryLog;
use lagghook::run::netcheck::{Helper, Next};
use lagghook::run::state::MemoryStore;
use lagghook::scenario::{Scenario, START_TIME};
use lagghook::sim::SimKernel;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("helper-cost: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let runs: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/net-dock-undock-one-lan.toml");
    let scenario = Scenario::load(&file).map_err(|e| e.to_string())?;
    let config = scenario.config.clone();
    let mut kernel = SimKernel::from_machine(&scenario.machine).map_err(|e| e.to_string())?;
    let (mut log, mut store) = (MemoryLog::default(), MemoryStore::default());
    let now_s = START_TIME;
    let command = |words: &[&str]| args::parse(words.iter().copied()).map_err(|e| e.to_string());
    // The boot's reconcile records the network lagg0 is on.
    let reconcile = command(&["reconcile"])?;
    reconcile_in(
        &reconcile,
        &config,
        &mut kernel,
        &mut log,
        &mut store,
        now_s,
        &mut std::io::sink(),
    )
    .map_err(|e| e.to_string())?;
    kernel.settle();
    kernel.take_events();
    kernel
        .happen(&"unplug em0".parse().map_err(|e: lagghook::sim::SimError| e.to_string())?)
        .map_err(|e| e.to_string())?;
    kernel.take_events();
    let event = command(&["event", "IFNET", "em0", "LINK_DOWN"])?;
    let (before_kernel, before_store) = (kernel.clone(), store.clone());

    let (mut devd_times, mut helper_times) = (Vec::new(), Vec::new());
    let (mut steps, mut reads, mut writes, mut verdict) = (0, 0, 0, String::new());
    for _ in 0..runs {
        let (mut k, mut s, mut l) =
            (before_kernel.clone(), before_store.clone(), MemoryLog::default());
        let t = Instant::now();
        reconcile_in(&event, &config, &mut k, &mut l, &mut s, now_s, &mut std::io::sink())
            .map_err(|e| e.to_string())?;
        devd_times.push(t.elapsed());
        let spawned = k.take_spawned();
        let Some(first) = spawned.first() else {
            return Err("the devd run spawned no helper".into());
        };
        k.clear_record();
        let mut helper =
            Helper::new(first.lagg.clone(), first.generation, START_TIME * 1000 + first.at);
        let (mut now, mut n, mut busy) = (START_TIME * 1000 + k.now(), 0, Duration::ZERO);
        loop {
            let t = Instant::now();
            let next = helper.step(&config, &mut k, &mut l, &mut s, now);
            busy += t.elapsed();
            n += 1;
            match next {
                Next::Done => break,
                Next::At(at) => {
                    now = at.max(now);
                    k.advance(now - START_TIME * 1000);
                }
            }
        }
        helper_times.push(busy);
        (steps, reads, writes) = (n, k.reads().len(), k.writes());
        verdict = l
            .lines
            .iter()
            .rev()
            .map(|(_, line)| line.clone())
            .find(|x| x.contains("same network"))
            .unwrap_or_default();
    }
    println!(
        "devd run that starts the check (in-process): {:.1} µs median of {runs}",
        median(devd_times).as_secs_f64() * 1e6
    );
    println!(
        "helper, same-network verdict: {:.1} µs median of {runs} ({steps} steps, {reads} kernel reads, {writes} writes)",
        median(helper_times).as_secs_f64() * 1e6
    );
    println!("its log line: {verdict}");
    Ok(())
}
