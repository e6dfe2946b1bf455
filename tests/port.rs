//! Issue 16, point 10: what FreeBSD's portlint cannot know about the port
//! skeleton (`port/sysutils/lagghook`; CI runs portlint itself, see
//! `.ci/run`): that `Makefile.crates` is what `make cargo-crates` writes
//! for Cargo.lock, and that `distinfo` has the shape `make makesum`
//! writes, with the checksums Cargo.lock holds. pkg-plist against `make
//! install` is in `tests/install.rs`.

use std::path::{Path, PathBuf};

const PORT: &str = "port/sysutils/lagghook";

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The registry every crate of Cargo.lock comes from; `cargo-crates.awk`
/// lists only those.
const CRATES_IO: &str = "registry+https://github.com/rust-lang/crates.io-index";

/// Cargo.lock's crates.io packages, in its order, each with its checksum.
fn locked_crates() -> Vec<(String, String)> {
    let lock: toml::Value = toml::from_str(&read("Cargo.lock")).unwrap();
    let packages = lock["package"].as_array().unwrap();
    packages
        .iter()
        .filter(|p| p.get("source").and_then(|s| s.as_str()) == Some(CRATES_IO))
        .map(|p| {
            let field = |k: &str| p[k].as_str().unwrap().to_owned();
            (format!("{}-{}", field("name"), field("version")), field("checksum"))
        })
        .collect()
}

/// What `make cargo-crates` prints for `crates`: `Mk/Scripts/cargo-crates.awk`
/// (freebsd/freebsd-ports, as read in camachat/freebsd-ports 7cc12431)
/// prints `CARGO_CRATES=` and a tab before the first, two tabs before each
/// other, ` \` after all but the last.
fn cargo_crates(crates: &[String]) -> String {
    let mut out = String::new();
    for (i, c) in crates.iter().enumerate() {
        let start = if i == 0 { "CARGO_CRATES=" } else { "\t" };
        let end = if i + 1 == crates.len() { "\n" } else { " \\\n" };
        out.push_str(&format!("{start}\t{c}{end}"));
    }
    out
}

/// Issue 16, point 10: Makefile.crates is Cargo.lock's crates as `make
/// cargo-crates` writes them, so the port fetches exactly what the build
/// locks. On a mismatch the message is the file to write.
#[test]
fn issue16_makefile_crates_is_cargo_lock() {
    let crates: Vec<String> = locked_crates().into_iter().map(|(c, _)| c).collect();
    assert!(crates.iter().any(|c| c.starts_with("nix-")), "{crates:?}");
    let want = cargo_crates(&crates);
    let have = read(&format!("{PORT}/Makefile.crates"));
    assert!(have == want, "{PORT}/Makefile.crates is not Cargo.lock's crates; write:\n{want}");
}

/// Where cargo keeps the `.crate` files it downloaded, if it has them:
/// `$CARGO_HOME/registry/cache/*/NAME-VERSION.crate`.
fn cached_crate(crate_: &str) -> Option<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    let registries = std::fs::read_dir(home.join("registry/cache")).ok()?;
    registries
        .filter_map(|r| r.ok())
        .map(|r| r.path().join(format!("{crate_}.crate")))
        .find(|p| p.is_file())
}

/// Issue 16, point 10: distinfo is what `make makesum` writes
/// (`Mk/Scripts/makesum.sh`, freebsd/freebsd-ports 07668730): a
/// `TIMESTAMP = SECONDS` line, then for each distfile in DISTFILES'
/// order, the port's tarball first and then each crate of Makefile.crates
/// under `rust/crates/` (`Uses/cargo.mk`), `SHA256 (FILE) = HEX` and `SIZE
/// (FILE) = BYTES`. A crate's SHA256 is Cargo.lock's checksum (cargo
/// checks the same file against it); its size is the file cargo fetched,
/// when it is here. The tarball's line is the one `make dist` gave for a
/// commit; `make makesum` rewrites it for a release.
#[test]
fn issue16_distinfo_is_what_makesum_writes() {
    let distinfo = read(&format!("{PORT}/distinfo"));
    let mut lines = distinfo.lines();
    let stamp = lines.next().and_then(|l| l.strip_prefix("TIMESTAMP = "));
    assert!(stamp.is_some_and(|s| s.parse::<u64>().is_ok()), "no TIMESTAMP line first");
    let tarball = format!("lagghook-{}.tar.gz", env!("CARGO_PKG_VERSION"));
    let crates = locked_crates();
    let files = std::iter::once((tarball.clone(), None))
        .chain(crates.iter().map(|(c, sum)| (format!("rust/crates/{c}.crate"), Some(sum))));
    let mut checked_sizes = 0;
    for (file, checksum) in files {
        let sha = lines.next().unwrap_or_default();
        let hex = sha
            .strip_prefix(&format!("SHA256 ({file}) = "))
            .unwrap_or_else(|| panic!("distinfo: want the SHA256 line of {file}, found {sha:?}"));
        assert!(hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{sha}");
        if let Some(sum) = checksum {
            assert_eq!(hex, sum, "distinfo: {file} is not Cargo.lock's");
        }
        let size = lines.next().unwrap_or_default();
        let bytes = size
            .strip_prefix(&format!("SIZE ({file}) = "))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("distinfo: want the SIZE line of {file}, found {size:?}"));
        assert!(bytes > 0, "{size}");
        let fetched = file.strip_prefix("rust/crates/").and_then(|f| f.strip_suffix(".crate"));
        if let Some(path) = fetched.and_then(cached_crate) {
            assert_eq!(bytes, std::fs::metadata(&path).unwrap().len(), "distinfo: {file}");
            checked_sizes += 1;
        }
    }
    assert_eq!(lines.next(), None, "distinfo lists a file the port does not fetch");
    eprintln!("distinfo: {checked_sizes} of {} crate sizes checked against cargo's", crates.len());
}
