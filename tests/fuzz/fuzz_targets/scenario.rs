//! Scenario files: `Scenario::parse` on the input as a scenario's text. It
//! parses the embedded config and every step, and builds the simulated
//! kernel from the `[machine]` table, so the machine-file format is fuzzed
//! through it too.
//!
//! Properties, beyond "no panic":
//! - an error's message is one line with no control character;
//! - an accepted scenario's machine builds (`SimKernel::from_machine`);
//! - that kernel, described again (`to_machine`) and written as the TOML
//!   `-k sim` saves (`to_toml`), reads back (`Machine::parse`) and builds
//!   an equal kernel: what a scenario or a saved machine file sets up
//!   survives a save and reload;
//! - the `[machine]` table itself survives `to_toml` and `Machine::parse`;
//! - every step's happening, written back, parses to the same happening.
#![no_main]

use lagghook::scenario::{Scenario, StepAction};
use lagghook::sim::{Happening, Machine, SimKernel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let scenario = match Scenario::parse(&text, "fuzz.toml") {
        Ok(s) => s,
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.contains(char::is_control), "control character in {msg:?}");
            return;
        }
    };

    let kernel = match SimKernel::from_machine(&scenario.machine) {
        Ok(k) => k,
        Err(e) => panic!("accepted scenario's machine does not build: {e}"),
    };

    let described = kernel.to_machine();
    match SimKernel::from_machine(&described) {
        Ok(again) => assert_eq!(again, kernel, "to_machine does not rebuild: {described:?}"),
        Err(e) => panic!("to_machine does not rebuild: {e}\n{described:?}"),
    }
    let saved = match described.to_toml() {
        Ok(t) => t,
        Err(e) => panic!("kernel cannot be saved: {e}\n{described:?}"),
    };
    match Machine::parse(&saved).map(|m| SimKernel::from_machine(&m)) {
        Ok(Ok(again)) => assert_eq!(again, kernel, "saved as\n{saved}"),
        Ok(Err(e)) | Err(e) => panic!("saved kernel does not load: {e}\n{saved}"),
    }

    match scenario.machine.to_toml().map(|t| (Machine::parse(&t), t)) {
        Ok((Ok(m), _)) => assert_eq!(m, scenario.machine),
        Ok((Err(e), t)) => panic!("[machine] written as\n{t}\ndoes not parse: {e}"),
        Err(e) => panic!("[machine] cannot be written: {e}"),
    }

    for step in &scenario.steps {
        if let StepAction::Happen(h) = &step.action {
            let written = h.to_string();
            match written.parse::<Happening>() {
                Ok(back) => assert_eq!(&back, h, "{written:?}"),
                Err(e) => panic!("{h:?} written as {written:?} does not parse: {e}"),
            }
        }
    }
});
