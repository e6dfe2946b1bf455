//! The one kind of program lagghook starts: an rc(8) script, by absolute
//! path, with validated arguments, a clean environment and no standard
//! streams. lagghook runs as root from devd, whose environment and
//! descriptors are not lagghook's to pass on: a `PATH`, `LD_PRELOAD` or
//! `IFS` inherited by an rc script would decide what root runs.

use std::path::Path;
use std::process::{Command, Stdio};

/// The `PATH` rc scripts get from `/etc/rc` itself.
pub const SAFE_PATH: &str = "/sbin:/bin:/usr/sbin:/usr/bin";

/// `program args…` with nothing inherited but what is set here: the
/// environment is emptied but for [`SAFE_PATH`], the working directory is
/// `/`, and stdin, stdout and stderr are `/dev/null`. (Descriptors lagghook
/// opens are close-on-exec; the FreeBSD backend also closes any it
/// inherited, see `closefrom(2)` there.)
pub fn command(program: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(args)
        .env_clear()
        .env("PATH", SAFE_PATH)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the child sees no variable of ours: only PATH, the safe one.
    #[test]
    fn the_child_environment_is_empty_but_for_a_safe_path() {
        let out = command(Path::new("/usr/bin/env"), &[])
            .env_remove("NOTHING")
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(std::env::vars().count() > 1, "the test needs an environment to hide");
        assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("PATH={SAFE_PATH}\n"));
        let out = command(Path::new("/bin/pwd"), &[]).stdout(Stdio::piped()).output().unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), "/\n");
    }
}
