//! What makes lagghook run again after this run: `check` reports each
//! problem as a trap, and `status` as a reason a lagg is not converged
//! (issue 16, point 6), from the same readers:
//! - devd's rules, [`devd_files::DEVD_RULES`], as `devd-conf` prints them for the
//!   configuration ([`devd_files::installed_rules`]): without them, no
//!   event reaches lagghook;
//! - devd reading them at all: `/etc/devd.conf` there and naming their
//!   directory ([`devd_files::devd_reads_rules`]);
//! - the program they run, [`devd::PROGRAM`], which root must be able to
//!   run ([`Root::program_problem`]);
//! - the rc.d script, [`RC_SCRIPT`], and `lagghook_enable` as the script's
//!   `load_rc_config lagghook` reads it ([`rc::lagghook_script`]): without
//!   them nothing reconciles at boot and after a resume, when what changed
//!   sent no event lagghook saw.
//!
//! Rules of other files competing with lagghook's for some events are
//! `check`'s alone ([`devd_files`]): they take events from lagghook, not
//! every event.

use serde::Serialize;

use crate::devd;
use crate::domain::config::Config;
use crate::domain::rc_vars::{checkyesno, YesNo};
use crate::domain::text::echo;
use crate::root::Root;

use super::devd_files;
use super::rc;

/// Where `make install` and the package (`USE_RC_SUBR`) put the rc.d
/// script.
pub const RC_SCRIPT: &str = "/usr/local/etc/rc.d/lagghook";

/// What `make install` or the package puts back.
const REINSTALL: &str = "make install, or reinstall the lagghook package";

/// One thing that keeps lagghook from running again, and its fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub what: String,
    pub fix: String,
}

/// Everything that keeps lagghook from running again, in the order
/// `check` and `status` print it; nothing when no lagg is configured
/// (then there is nothing to run for).
pub fn problems(config: &Config, root: &dyn Root) -> Vec<Problem> {
    if config.laggs.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<Problem> = devd_files::installed_rules(config, root).into_iter().collect();
    found.extend(devd_files::devd_reads_rules(root));
    if let Some(why) = root.program_problem(devd::PROGRAM) {
        found.push(Problem {
            what: format!(
                "{}: {why}: the devd rules run it, so no event reaches lagghook",
                devd::PROGRAM
            ),
            fix: REINSTALL.to_owned(),
        });
    }
    found.extend(rc_script(root));
    found
}

/// The rc.d script missing, or not enabled as rc.subr's `checkyesno`
/// reads `lagghook_enable`.
fn rc_script(root: &dyn Root) -> Option<Problem> {
    let then = "nothing reconciles at boot or after a resume";
    let missing = match root.read(RC_SCRIPT) {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!("{RC_SCRIPT}: missing: {then}")),
        Err(e) => Some(format!("{e}: {then}")),
    };
    if let Some(what) = missing {
        return Some(Problem { what, fix: REINSTALL.to_owned() });
    }
    let vars = rc::lagghook_script(root);
    // The script's own `: ${lagghook_enable:="NO"}` makes unset and empty
    // NO.
    let set = vars.get("lagghook_enable").filter(|v| !v.is_empty());
    let (what, file) = match (set, vars.origin("lagghook_enable")) {
        (Some(v), Some(file)) => match checkyesno(v) {
            YesNo::Yes => return None,
            YesNo::No => (format!("lagghook_enable={} in {file}", echo(v)), Some(file)),
            YesNo::Neither => (
                format!("lagghook_enable={} in {file}, which rc takes for NO", echo(v)),
                Some(file),
            ),
        },
        _ => ("lagghook_enable is not set, and the script's default is NO".to_owned(), None),
    };
    // Where rc reads it last, so that the fix is the line that counts;
    // unset, where setup puts it.
    let fix = format!("sysrc -f {} lagghook_enable=YES", file.unwrap_or("/etc/rc.conf"));
    Some(Problem { what: format!("{RC_SCRIPT}: disabled ({what}): {then}"), fix })
}
