//! The devd(8) of the body with a real devd: its own directory, its own
//! configuration, the freshly built lagghook-devd, and FreeBSD's stock
//! rules as the host has them.
//!
//! How devd reads its configuration (`sbin/devd/devd.cc`,
//! `fel1x-developer/freebsd-src` @ 2d614aa2fe3e037bd11d351b0b5cfda776e65814):
//! `-f FILE` replaces `/etc/devd.conf` (`configfile`); `config::parse`
//! reads it, then every `*.conf` of each `directory` its `options` name
//! (`parse_files_in_dir`, in readdir(3)'s order). `-d` (`no_daemon`)
//! keeps it in the foreground, never opens its pid file (only the
//! daemonising paths call `open_pidfile`), and sends its log to standard
//! error (`devdlog`: "Processing event", "Executing"), which goes to
//! `devd.log` here. Its `event_loop` opens /dev/devctl, which one reader
//! at a time may hold (`devopen` in `sys/kern/kern_devctl.c`: EBUSY), so
//! the host's devd is stopped first (`jail::Host::stop_devd`); it also
//! binds /var/run/devd.pipe and devd.seqpacket.pipe anew (`create_socket`
//! unlinks them first), which the host's devd does again when it starts.
//!
//! The files, in a directory of its own under /var/run:
//! - `devd.conf`: the host's `/etc/devd.conf` with its `directory` lines
//!   replaced by one, `devd.d/` here (so `/usr/local/etc/devd`, where an
//!   installed lagghook's rules for the host's own lagg live, is not
//!   read);
//! - `devd.d/`: the host's `/etc/devd/*.conf` (FreeBSD's stock rules for
//!   its other subsystems), and `lagghook.conf`, what `lagghook devd-conf`
//!   writes for the body's configuration, its actions running the freshly
//!   built lagghook-devd with `-c` this directory's `lagghook.toml`.
//!
//! lagghook-devd's runs keep their state where any run does
//! (`/var/run/lagghook`, `/var/db/lagghook`): the host is disposable.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use crate::devd;
use crate::domain::config::Config;
use crate::sys::file::{self, Links};
use crate::sys::spawn;

use super::jail::DEVD;

/// FreeBSD's devd.conf and its directory of stock rules.
pub const HOST_DEVD_CONF: &str = "/etc/devd.conf";
pub const HOST_DEVD_DIR: &str = "/etc/devd";

/// How long devd gets to read its files and open /dev/devctl before the
/// body goes on: it has failed by then if it cannot (`err(1, "Can't open
/// devctl device")`).
const STARTUP: Duration = Duration::from_millis(800);

/// The host's devd.conf text with its `directory` lines replaced by one
/// naming `dir` (see the module doc); an error if it has no `options {`.
pub fn devd_conf_for(host: &str, dir: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut placed = false;
    for line in host.lines() {
        let t = line.trim_start();
        if t.starts_with("directory") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if !placed && t.starts_with("options") && t.contains('{') {
            out.push_str(&format!("\tdirectory \"{dir}\";\n"));
            placed = true;
        }
    }
    if !placed {
        return Err(format!(
            "{HOST_DEVD_CONF} has no `options {{` to name the rules' directory in"
        ));
    }
    Ok(out)
}

/// Writes the files and starts `devd -d -f DIR/devd.conf`: the child and
/// the directory, or why not.
pub fn start(config: &Config, text: &str, program: &Path) -> Result<(Child, PathBuf), String> {
    let dir = PathBuf::from(format!("/var/run/lagghook-conformance-devd.{}", std::process::id()));
    let rules = dir.join("devd.d");
    let e = |what: &Path, err: std::io::Error| format!("{}: {err}", what.display());
    let _ = fs::remove_dir_all(&dir);
    fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|err| e(&dir, err))?;
    let started = (|| {
        fs::DirBuilder::new().mode(0o700).create(&rules).map_err(|err| e(&rules, err))?;
        let toml = dir.join("lagghook.toml");
        fs::write(&toml, text).map_err(|err| e(&toml, err))?;
        let host = file::read_regular(HOST_DEVD_CONF.as_ref(), Links::Follow)
            .map_err(|err| e(HOST_DEVD_CONF.as_ref(), err))?;
        let conf = dir.join("devd.conf");
        let rules_dir = rules.display().to_string();
        fs::write(&conf, devd_conf_for(&host, &rules_dir)?).map_err(|err| e(&conf, err))?;
        if let Ok(entries) = fs::read_dir(HOST_DEVD_DIR) {
            for entry in entries.flatten() {
                let from = entry.path();
                if from.extension().is_some_and(|x| x == "conf") {
                    let to = rules.join(entry.file_name());
                    let text =
                        file::read_regular(&from, Links::Follow).map_err(|err| e(&from, err))?;
                    fs::write(&to, text).map_err(|err| e(&to, err))?;
                }
            }
        }
        let program = program.to_str().ok_or("lagghook-devd's path is not UTF-8")?;
        let toml = toml.to_str().ok_or("the directory's path is not UTF-8")?;
        let ours = devd::try_rules_with(config, program, Some(toml)).map_err(|e| e.to_string())?;
        let file = rules.join("lagghook.conf");
        fs::write(&file, ours).map_err(|err| e(&file, err))?;
        let log = dir.join("devd.log");
        let out = fs::File::create(&log).map_err(|err| e(&log, err))?;
        let err_out = out.try_clone().map_err(|err| e(&log, err))?;
        let conf = conf.to_str().ok_or("the directory's path is not UTF-8")?;
        let mut child = spawn::command(Path::new(DEVD), &["-d", "-f", conf])
            .stdout(out)
            .stderr(err_out)
            .spawn()
            .map_err(|err| format!("{DEVD}: {err}"))?;
        std::thread::sleep(STARTUP);
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{DEVD} exited ({status}): {}", log_tail(&dir)));
        }
        Ok(child)
    })();
    match started {
        Ok(child) => Ok((child, dir)),
        Err(why) => {
            let _ = fs::remove_dir_all(&dir);
            Err(why)
        }
    }
}

/// The last lines devd wrote, for a failure line.
pub fn log_tail(dir: &Path) -> String {
    let text = file::read_regular(&dir.join("devd.log"), Links::Refuse).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// Appends `text` to `path` (the report file's host-wide part).
pub fn append(path: &Path, text: &str) -> std::io::Result<()> {
    file::append_regular(path, text.as_bytes(), 0o644).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Proves the host's devd.conf keeps everything but its directories,
    /// which become the harness's one (FreeBSD 14's options block).
    #[test]
    fn the_host_devd_conf_reads_the_harness_directory_only() {
        let host = "options {\n\t# Each \"directory\" directive adds a directory\n\tdirectory \
                    \"/etc/devd\";\n\tdirectory \"/usr/local/etc/devd\";\n\tpid-file \
                    \"/var/run/devd.pid\";\n\tset wifi-driver-regex \"(ath|wtap)[0-9]+\";\n};\n\
                    notify 0 {\n\tmatch \"system\" \"IFNET\";\n};\n";
        let got = devd_conf_for(host, "/var/run/x/devd.d").unwrap();
        assert!(got.starts_with("options {\n\tdirectory \"/var/run/x/devd.d\";\n"), "{got}");
        assert!(!got.contains("/usr/local/etc/devd") && !got.contains("\"/etc/devd\""), "{got}");
        assert!(got.contains("wifi-driver-regex") && got.contains("notify 0 {"), "{got}");
        assert!(got.contains("# Each \"directory\" directive"), "a comment is kept: {got}");
        assert!(devd_conf_for("notify 0 {};\n", "/x").is_err());
    }
}
