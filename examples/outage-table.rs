//! Prints README's outage table: each row's scenario played on the
//! simulated kernel without lagghook (stock devd rules only) and with it.

use std::path::Path;
use std::process::ExitCode;

use lagghook::cli::simulate::{run_baseline, run_scenario};
use lagghook::scenario::table::outage_table;

fn main() -> ExitCode {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    match outage_table(&dir, run_scenario, run_baseline) {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("outage-table: {e}");
            ExitCode::from(2)
        }
    }
}
