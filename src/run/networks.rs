//! The known-networks file, `/var/db/lagghook/networks` (issue 20, point
//! 2): each lagg's networks, its check generation and the check in flight,
//! its last verdict. TOML with a header, at most [`MAX_BYTES`] (64 KiB
//! holds 32 networks for several laggs), replaced atomically
//! (`sys::file::write_atomically`), read with the identity file's rules
//! (`sys::file::read_private`).
//!
//! Unlike the identity file, nothing in it can make a run do harm: it only
//! says what to probe and which lease to start from. So a file that cannot
//! be used — corrupt, over the cap, a link, another user's — never stops a
//! repair: it is ignored with one warning, and the next save replaces it
//! (a rename replaces a planted link itself, never its target).

use std::path::Path;

use crate::domain::network::Networks;
use crate::domain::text;
use crate::sys::file;

/// The file's name in `/var/db/lagghook`.
pub const NETWORKS_FILE: &str = "networks";
/// The cap on its size.
pub const MAX_BYTES: usize = 64 * 1024;

const VERSION: u32 = 1;

const HEADER: &str = "\
# The networks each lagg has been on, kept by lagghook(8) for its network
# check: gateways and routers to probe, the addresses held there, the SSIDs
# the laptop was on. Safe to delete: it is rebuilt from the kernel.
";

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworksFile {
    version: u32,
    #[serde(flatten)]
    networks: Networks,
}

/// What a load found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    pub networks: Networks,
    /// Why the file that is there was ignored (one line, naming it).
    pub warning: Option<String>,
}

/// The file's text.
pub fn to_text(networks: &Networks) -> Result<String, String> {
    let body = toml::to_string(&NetworksFile { version: VERSION, networks: networks.clone() })
        .map_err(|e| e.to_string())?;
    let text = format!("{HEADER}{body}");
    if text.len() > MAX_BYTES {
        return Err(format!("{} bytes, more than the {MAX_BYTES} the file may hold", text.len()));
    }
    Ok(text)
}

/// The networks in `bytes`, or why there are none, in one line.
pub fn parse(bytes: &[u8]) -> Result<Networks, String> {
    if bytes.len() > MAX_BYTES {
        return Err(format!("is larger than {MAX_BYTES} bytes"));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
    let file: NetworksFile =
        toml::from_str(text).map_err(|e| crate::run::state::toml_problem(text, &e))?;
    if file.version != VERSION {
        return Err(format!("has version {}, not {VERSION}", file.version));
    }
    Ok(file.networks)
}

/// Loads `path`: missing is empty; unusable is empty with a warning.
/// `narrow`: the caller holds the lock and may narrow a readable mode.
pub fn load(path: &Path, narrow: bool) -> Loaded {
    let why = |e: &dyn std::fmt::Display| format!("{}: {e}; ignored", text::path(path));
    match file::read_private(path, narrow) {
        Ok(None) => Loaded::default(),
        Ok(Some(bytes)) => match parse(&bytes) {
            Ok(networks) => Loaded { networks, warning: None },
            Err(e) => Loaded { warning: Some(why(&e)), ..Loaded::default() },
        },
        Err(e) => Loaded { warning: Some(why(&text::io_error(&e))), ..Loaded::default() },
    }
}

/// Replaces `path` with `networks`, atomically.
pub fn save(path: &Path, networks: &Networks) -> std::io::Result<()> {
    let text = to_text(networks).map_err(std::io::Error::other)?;
    file::write_atomically(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::layer3::{DefaultRoute, IfAddr, Neighbour, Ssid};
    use crate::domain::model::IfName;
    use crate::domain::network::{InFlight, Observation};
    use std::os::unix::fs::symlink;

    fn sample() -> Networks {
        let lagg = IfName::new("lagg0").unwrap();
        let gw = "192.168.1.1".parse().unwrap();
        let obs = Observation {
            addresses: vec![IfAddr::v4("192.168.1.100".parse().unwrap(), 24)],
            routes: vec![DefaultRoute { gateway: gw, ifname: lagg.clone() }],
            neighbours: vec![Neighbour { ip: gw, mac: Some("00:0d:b9:00:00:01".parse().unwrap()) }],
            ssid: None,
        };
        let mut n = Networks::default();
        let l = n.of_mut(&lagg);
        l.record(obs.network(1_795_545_000).unwrap());
        l.add_ssid(&Ssid::new(b"Home \"Net\"\n").unwrap());
        l.generation = 3;
        l.in_flight = Some(InFlight {
            generation: 3,
            spawned_ms: 1,
            deadline_ms: 10_001,
            lagg_bounced: true,
        });
        n
    }

    #[test]
    fn the_file_round_trips() {
        let n = sample();
        let text = to_text(&n).unwrap();
        assert!(text.starts_with("# The networks"), "{text}");
        assert_eq!(parse(text.as_bytes()).unwrap(), n, "{text}");
    }

    /// Proves an unusable file is ignored with one warning naming it and
    /// replaced by the next save, a planted link included (the link
    /// itself is replaced, its target untouched).
    #[test]
    fn a_corrupt_or_planted_file_is_ignored_and_replaced() {
        let dir = std::env::temp_dir().join(format!("lagghook-networks-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(NETWORKS_FILE);
        assert_eq!(load(&path, true), Loaded::default(), "missing is empty, no warning");
        std::fs::write(&path, "version = 1\n[lagg.lagg0\n").unwrap();
        let loaded = load(&path, true);
        assert!(loaded.networks.lagg.is_empty());
        let warning = loaded.warning.unwrap();
        assert!(warning.starts_with(&format!("{}: line 2", path.display())), "{warning}");
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path, true).networks, sample());
        // A link to another file.
        let target = dir.join("target");
        std::fs::write(&target, "precious").unwrap();
        std::fs::remove_file(&path).unwrap();
        symlink(&target, &path).unwrap();
        assert!(load(&path, true).warning.is_some());
        save(&path, &sample()).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert_eq!(load(&path, true).networks, sample());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
