//! Issue 10's doctor and devd points through the binary: `check` against
//! simulated broken laptops, each with its own files (`[machine.files]`),
//! and `simulate -c`.

use crate::support::{lagghook, stderr, stdout, Sandbox};

/// Issue 10, point 11: `simulate -c FILE` plays the scenario with FILE's
/// configuration instead of its own. The built-in laptop's day with a
/// configuration that leaves wlan0 out keeps lagg0 on em0 alone, so the
/// expectations about wlan0 fail (exit 1), and the run says which
/// configuration it used.
#[test]
fn simulate_runs_the_scenario_with_the_configuration_given_by_c() {
    let sb = Sandbox::new("simulate-c");
    let config = sb.write("mine.toml", "[lagg0]\nports = [\"em0\"]\n");
    let own = lagghook(&["simulate"], &sb.path("log.sock"));
    assert_eq!(own.status.code(), Some(0), "{}", stderr(&own));
    let mine =
        lagghook(&["-c".as_ref(), config.as_os_str(), "simulate".as_ref()], &sb.path("log.sock"));
    assert_eq!(mine.status.code(), Some(1), "{}", stdout(&mine));
    assert!(stdout(&mine).contains("laggport: em0 flags=5<MASTER,ACTIVE>"), "{}", stdout(&mine));
    assert!(!stdout(&mine).contains("laggport: wlan0"), "{}", stdout(&mine));
    let first = format!("configuration: {} (instead of the scenario's own)\n", config.display());
    assert!(stdout(&mine).starts_with(&first), "{}", stdout(&mine));
    // After the command word, as people type it.
    let after =
        lagghook(&["simulate".as_ref(), "-c".as_ref(), config.as_os_str()], &sb.path("log.sock"));
    assert_eq!(stdout(&after), stdout(&mine));
}
