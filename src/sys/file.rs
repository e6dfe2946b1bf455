//! The files lagghook itself reads and writes: its configuration, its
//! state, identity, history and lock, and a simulated kernel's machine
//! file. lagghook runs as root from devd, so whatever sits at those paths
//! — a FIFO, `/dev/zero`, a symbolic link planted by another user, a file
//! of gigabytes — must neither hang a run, nor exhaust its memory, nor be
//! written through.
//!
//! - Every open is `O_NONBLOCK`, so opening a FIFO returns at once, and the
//!   opened descriptor must be a regular file (`fstat`), so nothing reads
//!   from a FIFO or a device.
//! - Every read stops at a cap ([`MAX_FILE_SIZE`]).
//! - Every file lagghook writes is opened `O_NOFOLLOW`, and a replacement
//!   is written to a new temporary file (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode
//!   0600, a name no other user can predict) and renamed over the target.
//!   A file appended to in place (the history) must moreover be a regular
//!   file of the effective user's that no one else can write, with no
//!   other hard link (else it is replaced, not written through), and an
//!   append that fails is undone.
//! - Nothing else in the crate opens a file: `tests/lint.rs` fails on any
//!   `fs::read*`, `File::open` or `OpenOptions` outside this module.
//! - A trusted file (the configuration) passes sshd's StrictModes rule.
//!
//! Errors are `io::Error`s whose message says what is wrong with the file
//! in words ("is a FIFO, not a regular file"); callers prefix the path.
//! Unix only, like everything lagghook does; no `unsafe`.

use std::collections::hash_map::RandomState;
use std::fs::{self, DirBuilder, File, Metadata, OpenOptions, Permissions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{geteuid, Pid};

use crate::domain::text;

/// The most lagghook reads of one file (configuration, state, machine):
/// 1 MiB, hundreds of times what a real one holds.
pub const MAX_FILE_SIZE: u64 = 1 << 20;

/// Whether a symbolic link at the path itself may be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// The configuration may be a link (to a file kept elsewhere); what
    /// is checked is the file it leads to.
    Follow,
    /// Files lagghook writes, and their siblings, are never followed.
    Refuse,
}

/// Reads the regular file at `path`, at most [`MAX_FILE_SIZE`] bytes, as
/// UTF-8 text.
pub fn read_regular(path: &Path, links: Links) -> io::Result<String> {
    read_small(path, links, MAX_FILE_SIZE)
}

/// [`read_regular`] with a smaller cap, for a file that only ever holds a
/// few bytes (another daemon's pidfile): at most `cap` bytes are read, and
/// a longer file is refused as too large.
pub fn read_small(path: &Path, links: Links, cap: u64) -> io::Result<String> {
    let (file, meta) = open_regular(path, links, OpenOptions::new().read(true))?;
    read_capped(file, &meta, cap.min(MAX_FILE_SIZE))
}

/// Whether `path` is a regular file of at most [`MAX_FILE_SIZE`] bytes that
/// [`read_regular`] would read, without reading it: checked before anything
/// is created beside it.
pub fn check_regular(path: &Path, links: Links) -> io::Result<()> {
    let (_, meta) = open_regular(path, links, OpenOptions::new().read(true))?;
    if meta.len() > MAX_FILE_SIZE {
        return Err(too_large(MAX_FILE_SIZE));
    }
    Ok(())
}

/// Reads a file that only lagghook writes and that decides what it does as
/// root (the identity file), if it exists (`None` if not): a regular file
/// of at most [`MAX_FILE_SIZE`] bytes, never through a link, owned by the
/// effective user and not writable by group or others, since whoever else
/// could write it could choose the address a root process gives the
/// interfaces. A mode that only lets others read it (an administrator's
/// copy, say) is narrowed to 0600 when `narrow`, as [`open_lock`] does.
/// The bytes are returned as they are: bad content is the caller's to
/// judge.
pub fn read_private(path: &Path, narrow: bool) -> io::Result<Option<Vec<u8>>> {
    let (file, meta) = match open_regular(path, Links::Refuse, OpenOptions::new().read(true)) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        opened => opened?,
    };
    owned_by_us(&meta)?;
    not_writable_by_others(&meta)?;
    if narrow {
        narrow_mode(&meta, |p| file.set_permissions(p), 0o600)?;
    }
    read_capped_bytes(file, &meta, MAX_FILE_SIZE).map(Some)
}

/// How [`append_private`] or [`append_regular`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// At the end of the file, in place.
    InPlace,
    /// By a new file renamed over the path: the file was missing, or had
    /// another link.
    Replaced,
}

/// Appends `bytes` to a file that only lagghook writes (the history), in
/// one write(2) through `O_APPEND`. The file is held to [`read_private`]'s
/// rules, since whatever is appended to is what a root process changes:
/// never opened through a link (`O_NOFOLLOW`), a regular file only, owned
/// by the effective user and not writable by group or others (refused,
/// not repaired); a mode that only lets others read it is narrowed to
/// 0600. The caller holds the lock that keeps other runs from appending at
/// the same time. Nothing but whole appends reaches the file:
/// - a missing file is created whole, `header` then `bytes`, as
///   [`write_atomically`] writes, so a write that fails (a full disk)
///   leaves no file rather than an empty one;
/// - a file with another hard link (`st_nlink` not 1) is not written
///   through, since the other name could be any file of ours: it is
///   replaced by `whole()`, the file as it should read after the append;
/// - an append that fails is undone (ftruncate(2) to the size the file
///   had), so a full disk never leaves half a line.
pub fn append_private(
    path: &Path,
    header: &[u8],
    bytes: &[u8],
    whole: impl FnOnce() -> Vec<u8>,
) -> io::Result<Appended> {
    let (file, meta) = match open_regular(path, Links::Refuse, OpenOptions::new().append(true)) {
        Err(e) if e.kind() == ErrorKind::NotFound => {
            write_atomically(path, &[header, bytes].concat())?;
            return Ok(Appended::Replaced);
        }
        opened => opened?,
    };
    owned_by_us(&meta)?;
    not_writable_by_others(&meta)?;
    if meta.nlink() != 1 {
        write_atomically(path, &whole())?;
        return Ok(Appended::Replaced);
    }
    narrow_mode(&meta, |p| file.set_permissions(p), 0o600)?;
    // An empty file gets the header in the same write: a reader never
    // sees a file that has lines but no header.
    let with_header;
    let bytes = if meta.len() == 0 {
        with_header = [header, bytes].concat();
        &with_header
    } else {
        bytes
    };
    append_whole(file, &meta, bytes)?;
    Ok(Appended::InPlace)
}

/// Appends `bytes` to the regular file at `path` (a simulated host's
/// record of the commands `setup` ran), held to [`append_private`]'s rules
/// on links and failures but to no rule on its owner: a missing file is
/// created with `mode`, one with another hard link is replaced by its
/// content (at most [`MAX_FILE_SIZE`] bytes) followed by `bytes`.
pub fn append_regular(path: &Path, bytes: &[u8], mode: u32) -> io::Result<Appended> {
    let (file, meta) =
        match open_regular(path, Links::Refuse, OpenOptions::new().read(true).append(true)) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                write_atomically_mode(path, bytes, mode)?;
                return Ok(Appended::Replaced);
            }
            opened => opened?,
        };
    if meta.nlink() != 1 {
        let mut all = read_capped_bytes(file, &meta, MAX_FILE_SIZE)?;
        all.extend_from_slice(bytes);
        write_atomically_mode(path, &all, mode)?;
        return Ok(Appended::Replaced);
    }
    append_whole(file, &meta, bytes)?;
    Ok(Appended::InPlace)
}

/// One write(2) of `bytes` at the end of `file`, whose size `meta` gave;
/// if it fails, the file is cut back to that size, so it never ends in
/// half of them.
fn append_whole(mut file: File, meta: &Metadata, bytes: &[u8]) -> io::Result<()> {
    let written = file.write_all(bytes);
    if written.is_err() {
        let _ = file.set_len(meta.len());
    }
    written
}

/// [`read_regular`] for a file that tells lagghook what to do as root: it
/// must be owned by root (or, when lagghook does not run as root, by the
/// invoking user), not be writable by group or others, and every
/// directory above it must not be writable by group or others unless it
/// has the sticky bit (as `/tmp` does). This is sshd's StrictModes rule:
/// whoever can change the file, or swap it through its directory, could
/// otherwise make lagghook reconfigure interfaces.
pub fn read_trusted(path: &Path) -> io::Result<String> {
    let (file, meta) = open_regular(path, Links::Follow, OpenOptions::new().read(true))?;
    owned_by_root_or_us(&meta)?;
    not_writable_by_others(&meta)?;
    for dir in std::path::absolute(path)?.ancestors().skip(1) {
        let meta = fs::metadata(dir)?;
        let mode = meta.mode();
        if mode & 0o022 != 0 && mode & 0o1000 == 0 {
            return Err(denied(format!(
                "is reached through {}, which is writable by group or others (mode {:04o})",
                dir.display(),
                mode & 0o7777
            )));
        }
    }
    read_capped(file, &meta, MAX_FILE_SIZE)
}

/// Why root could not run the program at `path` as devd(8) runs its
/// actions, or `None` if it can: a regular file (through a link, as
/// execve(2) follows one), executable, owned by root (or by the effective
/// user, when that is not root) and not writable by group or others —
/// whoever could replace it would run as root on every event.
pub fn program_problem(path: &Path) -> Option<String> {
    let meta = match fs::metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Some("is not installed".into()),
        Err(e) => return Some(text::io_error(&e)),
        Ok(meta) => meta,
    };
    let refused = if !meta.is_file() {
        Err(not_regular_like(&meta, "a regular file"))
    } else if meta.mode() & 0o111 == 0 {
        Err(io::Error::other(format!("is not executable (mode {:04o})", meta.mode() & 0o7777)))
    } else {
        owned_by_root_or_us(&meta).and_then(|()| not_writable_by_others(&meta))
    };
    refused.err().map(|e| e.to_string())
}

/// Opens (creating it, mode 0600) the lock file at `path`. It must be a
/// regular file owned by the effective user; if its mode is wider than
/// 0600 (a file left by an older lagghook), it is narrowed, so no other
/// user can open it and hold the lock (flock(2) needs only a read-only
/// descriptor).
pub fn open_lock(path: &Path) -> io::Result<File> {
    let (file, meta) = open_regular(
        path,
        Links::Refuse,
        OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600),
    )?;
    make_private(&meta, |p| file.set_permissions(p), 0o600)?;
    Ok(file)
}

/// Opens another program's pidfile at `path` read-only, to ask whether its
/// lock is held (pidfile(3) keeps an exclusive flock(2) on it for the
/// process's life): a regular file, never through a link.
pub fn open_pidfile(path: &Path) -> io::Result<File> {
    open_regular(path, Links::Refuse, OpenOptions::new().read(true)).map(|(file, _)| file)
}

/// Opens the character device at `path` for reading and writing, as the
/// conformance harness opens a tap(4) device to give it a carrier: never
/// through a link (`O_NOFOLLOW`), and only a character device, so a name
/// that turned into a FIFO or a regular file is refused rather than read.
pub fn open_device(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.file_type().is_char_device() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "is not a character device"));
    }
    Ok(file)
}

/// Makes sure `dir` is a directory only its owner can use: created with
/// mode 0700 if missing; if present, it must be a real directory (not a
/// link) owned by the effective user and not writable by group or others;
/// a wider mode of one of ours is narrowed to 0700.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    match DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = fs::symlink_metadata(dir)?;
    if !meta.is_dir() {
        return Err(not_regular_like(&meta, "a directory"));
    }
    make_private(&meta, |p| fs::set_permissions(dir, p), 0o700)
}

/// The directory that holds `path`, which must be owned by root or by the
/// effective user: a simulated kernel's lock and state live beside it.
pub fn owned_parent(path: &Path) -> io::Result<PathBuf> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let meta = fs::metadata(&dir)?;
    let euid = geteuid().as_raw();
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(denied(format!(
            "is in {}, which is owned by uid {}, not by root or uid {euid}",
            dir.display(),
            meta.uid()
        )));
    }
    Ok(dir)
}

/// Replaces `path` with `bytes`, atomically: a reader sees the old file or
/// the new one, never half of one. The new file has mode 0600. A
/// temporary file of an earlier run that was killed before its rename is
/// removed first (only if its name is lagghook's and its process is gone).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomically_mode(path, bytes, 0o600)
}

/// [`write_atomically`] with the new file's mode: 0644 for the files
/// `setup` installs for other programs to read (devd's rules, the
/// configuration). The mode is set on the temporary file before the
/// rename, whatever the umask, so the file never appears with another.
pub fn write_atomically_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "is not a file name"))?;
    remove_stale_temporaries(dir);
    let tmp = dir.join(temporary_name(name, std::process::id(), unpredictable()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600 & mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        file.write_all(bytes)?;
        if mode != 0o600 {
            file.set_permissions(Permissions::from_mode(mode))?;
        }
        // No fsync: devd waits for every millisecond, and a write lost to a
        // crash leaves the old file or none, which the next run rebuilds from
        // the kernel (the state) or the test redoes (a simulated machine).
        // The rename alone keeps readers from ever seeing half a file.
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// `.NAME.lagghook-PID-RANDOM.tmp`: hidden, tied to its target and its
/// process, and not guessable by another user who would like to plant a
/// link there first (`O_EXCL` would refuse it anyway).
fn temporary_name(target: &str, pid: u32, random: u64) -> String {
    format!(".{target}.lagghook-{pid}-{random:016x}.tmp")
}

/// The pid in a name [`temporary_name`] made for any target.
fn temporary_pid_any(candidate: &str) -> Option<i32> {
    let at = candidate.rfind(".lagghook-")?;
    let target = candidate.get(1..at)?;
    temporary_pid(target, candidate)
}

/// The pid in a name [`temporary_name`] made for `target`.
fn temporary_pid(target: &str, candidate: &str) -> Option<i32> {
    let rest = candidate.strip_prefix('.')?.strip_prefix(target)?.strip_prefix(".lagghook-")?;
    let (pid, rest) = rest.split_once('-')?;
    let random = rest.strip_suffix(".tmp")?;
    let hex = random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit());
    let pid: i32 = pid.parse().ok()?;
    (hex && pid > 0).then_some(pid)
}

/// Once per directory in a process: a run writes a file once,
/// and the files it writes share their directory, whose listing is read
/// once for all of them.
fn remove_stale_temporaries(dir: &Path) {
    static LISTED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut listed) = LISTED.lock() else { return };
    if listed.iter().any(|d| d == dir) {
        return;
    }
    listed.push(dir.to_path_buf());
    drop(listed);
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        // Any target's: the listing is read once per directory.
        let Some(pid) = name.to_str().and_then(temporary_pid_any) else { continue };
        // Only a dead writer's file: a live one is about to rename it.
        if kill(Pid::from_raw(pid), None) == Err(Errno::ESRCH) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// 64 bits from std's per-process random hash keys (seeded from the OS's
/// random source), so no crate is needed for a file name.
fn unpredictable() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// Opens `path` as a regular file; its metadata comes along, so no caller
/// asks the kernel for it twice.
fn open_regular(
    path: &Path,
    links: Links,
    options: &mut OpenOptions,
) -> io::Result<(File, Metadata)> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    let file = options.custom_flags(flags).open(path).map_err(|e| {
        // open(2) with O_NOFOLLOW on a link: ELOOP (POSIX, Linux), EMLINK
        // (FreeBSD's `vn_open_cred`).
        let link = matches!(e.raw_os_error(), Some(libc::ELOOP) | Some(libc::EMLINK));
        if links == Links::Refuse && link {
            io::Error::new(ErrorKind::InvalidInput, "is a symbolic link, not a regular file")
        } else {
            e
        }
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular_like(&meta, "a regular file"));
    }
    Ok((file, meta))
}

fn read_capped(file: File, meta: &Metadata, cap: u64) -> io::Result<String> {
    String::from_utf8(read_capped_bytes(file, meta, cap)?)
        .map_err(|_| io::Error::new(ErrorKind::InvalidData, "is not UTF-8 text"))
}

/// At most `cap` bytes of `file`, or an error if it holds more. The buffer
/// starts at the size fstat(2) gave (one byte more, to see the end), so
/// a file that did not grow is read in one read(2) and its end found by a
/// second, not in the doubling steps of an empty buffer.
fn read_capped_bytes(file: File, meta: &Metadata, cap: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(meta.len().min(cap) as usize + 1);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(bytes)
}

/// Narrows the mode of a file or directory of ours to `mode`; refuses one
/// that is not ours.
fn make_private(
    meta: &Metadata,
    set: impl FnOnce(Permissions) -> io::Result<()>,
    mode: u32,
) -> io::Result<()> {
    owned_by_us(meta)?;
    narrow_mode(meta, set, mode)
}

/// Narrows the mode to `mode`, for a caller that has checked the owner.
fn narrow_mode(
    meta: &Metadata,
    set: impl FnOnce(Permissions) -> io::Result<()>,
    mode: u32,
) -> io::Result<()> {
    if meta.mode() & 0o7777 & !mode != 0 {
        set(Permissions::from_mode(mode))?;
    }
    Ok(())
}

fn not_regular_like(meta: &Metadata, wanted: &str) -> io::Error {
    let ft = meta.file_type();
    let what = if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        "a regular file"
    };
    io::Error::new(ErrorKind::InvalidInput, format!("is {what}, not {wanted}"))
}

fn too_large(cap: u64) -> io::Error {
    let limit = if cap.is_multiple_of(1 << 20) {
        format!("{} MiB", cap >> 20)
    } else {
        format!("{cap} bytes")
    };
    io::Error::new(ErrorKind::InvalidData, format!("is larger than {limit}"))
}

/// Refuses a file another user owns.
fn owned_by_us(meta: &Metadata) -> io::Result<()> {
    let euid = geteuid().as_raw();
    if meta.uid() != euid {
        return Err(denied(format!("is owned by uid {}, not by uid {euid}", meta.uid())));
    }
    Ok(())
}

/// Refuses a file owned by neither root nor the effective user.
fn owned_by_root_or_us(meta: &Metadata) -> io::Result<()> {
    let euid = geteuid().as_raw();
    if meta.uid() != 0 && meta.uid() != euid {
        let owners = if euid == 0 { "root".to_owned() } else { format!("root or uid {euid}") };
        return Err(denied(format!("is owned by uid {}, not by {owners}", meta.uid())));
    }
    Ok(())
}

/// Refuses a file group or others may write.
fn not_writable_by_others(meta: &Metadata) -> io::Result<()> {
    if meta.mode() & 0o022 != 0 {
        return Err(denied(format!(
            "is writable by group or others (mode {:04o})",
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

fn denied(message: String) -> io::Error {
    io::Error::new(ErrorKind::PermissionDenied, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lagghook-file-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    /// Proves `check`'s look at the program devd runs: only an executable
    /// regular file that nobody but its owner can change passes; a link to
    /// one is followed, as execve(2) follows it.
    #[test]
    fn a_program_must_be_an_executable_file_only_its_owner_can_change() {
        let d = tempdir("program");
        let program = d.join("lagghook-devd");
        assert_eq!(program_problem(&program).as_deref(), Some("is not installed"));
        assert_eq!(program_problem(&d).as_deref(), Some("is a directory, not a regular file"));
        fs::write(&program, "#!/bin/sh\n").unwrap();
        let chmod = |mode| fs::set_permissions(&program, Permissions::from_mode(mode)).unwrap();
        chmod(0o644);
        assert_eq!(program_problem(&program).as_deref(), Some("is not executable (mode 0644)"));
        chmod(0o775);
        let why = program_problem(&program);
        assert_eq!(why.as_deref(), Some("is writable by group or others (mode 0775)"));
        chmod(0o555);
        assert_eq!(program_problem(&program), None);
        let link = d.join("link");
        symlink(&program, &link).unwrap();
        assert_eq!(program_problem(&link), None);
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_fifo_a_device_and_a_directory_are_refused_at_once() {
        let d = tempdir("special");
        let fifo = d.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = read_regular(&fifo, Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "is a FIFO, not a regular file");
        let err = read_regular(Path::new("/dev/zero"), Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "is a character device, not a regular file");
        let err = read_regular(&d, Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "is a directory, not a regular file");
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn reads_stop_at_the_cap() {
        let d = tempdir("cap");
        let big = d.join("big");
        fs::write(&big, vec![b'#'; MAX_FILE_SIZE as usize + 1]).unwrap();
        let err = read_regular(&big, Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "is larger than 1 MiB");
        fs::write(&big, vec![b'#'; MAX_FILE_SIZE as usize]).unwrap();
        assert_eq!(read_regular(&big, Links::Follow).unwrap().len(), MAX_FILE_SIZE as usize);
        // A small cap reads no further than the cap, and says so in bytes.
        let err = read_small(&big, Links::Follow, 16).unwrap_err();
        assert_eq!(err.to_string(), "is larger than 16 bytes");
        fs::write(&big, "1234\n").unwrap();
        assert_eq!(read_small(&big, Links::Refuse, 16).unwrap(), "1234\n");
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn links_are_followed_only_when_allowed() {
        let d = tempdir("links");
        fs::write(d.join("real"), "x").unwrap();
        symlink(d.join("real"), d.join("link")).unwrap();
        assert_eq!(read_regular(&d.join("link"), Links::Follow).unwrap(), "x");
        let err = read_regular(&d.join("link"), Links::Refuse).unwrap_err();
        assert_eq!(err.to_string(), "is a symbolic link, not a regular file");
        let err = open_lock(&d.join("link")).unwrap_err();
        assert_eq!(err.to_string(), "is a symbolic link, not a regular file");
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_write_replaces_a_planted_link_instead_of_following_it() {
        let d = tempdir("plant");
        let victim = d.join("victim");
        fs::write(&victim, "precious").unwrap();
        symlink(&victim, d.join("state")).unwrap();
        write_atomically(&d.join("state"), b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        let meta = fs::symlink_metadata(d.join("state")).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.mode() & 0o777, 0o600);
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_file_for_others_to_read_gets_its_mode_whatever_the_umask() {
        let d = tempdir("mode");
        write_atomically_mode(&d.join("rules"), b"x", 0o644).unwrap();
        assert_eq!(fs::metadata(d.join("rules")).unwrap().mode() & 0o777, 0o644);
        write_atomically(&d.join("state"), b"x").unwrap();
        assert_eq!(fs::metadata(d.join("state")).unwrap().mode() & 0o777, 0o600);
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn only_a_dead_writers_temporary_file_is_removed() {
        let d = tempdir("stale");
        // pid 1 is alive; i32::MAX is not a pid any kernel hands out.
        let dead = temporary_name("state", i32::MAX as u32, 7);
        let alive = temporary_name("state", 1, 7);
        let other = ".state.tmp12345".to_owned();
        for name in [&dead, &alive, &other] {
            fs::write(d.join(name), "").unwrap();
        }
        write_atomically(&d.join("state"), b"x").unwrap();
        assert!(!d.join(&dead).exists(), "stale temporary left");
        assert!(d.join(&alive).exists(), "a live writer's file removed");
        assert!(d.join(&other).exists(), "a file not named by lagghook removed");
        let left: Vec<String> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 3, "{left:?}"); // state and the two kept, no new temporary
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn temporary_names_are_recognised_exactly() {
        let name = temporary_name("state", 42, 0xabc);
        assert_eq!(temporary_pid("state", &name), Some(42));
        assert_eq!(temporary_pid("stat", &name), None);
        assert_eq!(temporary_pid("state", ".state.lagghook-42-abc.tmp"), None);
        assert_eq!(temporary_pid("state", ".state.lagghook-0-0000000000000abc.tmp"), None);
        assert_ne!(unpredictable(), unpredictable());
    }

    #[test]
    fn the_lock_and_the_state_directory_are_narrowed_to_their_owner() {
        let d = tempdir("modes");
        let lock = d.join("lock");
        fs::write(&lock, "").unwrap();
        fs::set_permissions(&lock, Permissions::from_mode(0o644)).unwrap();
        open_lock(&lock).unwrap();
        assert_eq!(fs::metadata(&lock).unwrap().mode() & 0o777, 0o600);
        let state_dir = d.join("run");
        private_dir(&state_dir).unwrap();
        assert_eq!(fs::metadata(&state_dir).unwrap().mode() & 0o777, 0o700);
        fs::set_permissions(&state_dir, Permissions::from_mode(0o755)).unwrap();
        private_dir(&state_dir).unwrap();
        assert_eq!(fs::metadata(&state_dir).unwrap().mode() & 0o777, 0o700);
        symlink(&state_dir, d.join("linked")).unwrap();
        let err = private_dir(&d.join("linked")).unwrap_err();
        assert_eq!(err.to_string(), "is a symbolic link, not a directory");
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_private_file_is_read_only_if_no_one_else_could_have_written_it() {
        let d = tempdir("private");
        let f = d.join("identity");
        assert_eq!(read_private(&f, true).unwrap(), None, "missing is not an error");
        fs::write(&f, "x").unwrap();
        fs::set_permissions(&f, Permissions::from_mode(0o666)).unwrap();
        let err = read_private(&f, true).unwrap_err();
        assert_eq!(err.to_string(), "is writable by group or others (mode 0666)");
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o666, "refused, not repaired");
        fs::set_permissions(&f, Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_private(&f, false).unwrap(), Some(b"x".to_vec()));
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o644, "narrowed only if asked");
        assert_eq!(read_private(&f, true).unwrap(), Some(b"x".to_vec()));
        assert_eq!(fs::metadata(&f).unwrap().mode() & 0o777, 0o600);
        symlink(&f, d.join("link")).unwrap();
        let err = read_private(&d.join("link"), true).unwrap_err();
        assert_eq!(err.to_string(), "is a symbolic link, not a regular file");
        let _ = fs::remove_dir_all(d);
    }

    /// Proves an append creates a private file with its header, adds to
    /// it in place, and never reaches a file through a link or one that
    /// someone else could have written.
    #[test]
    fn an_append_goes_only_into_a_private_regular_file() {
        let d = tempdir("append");
        let f = d.join("history");
        let never = || -> Vec<u8> { panic!("replaced") };
        let appended = append_private(&f, b"# header\n", b"1 a\n", never).unwrap();
        assert_eq!(appended, Appended::Replaced, "a missing file is created whole");
        let inode = fs::metadata(&f).unwrap().ino();
        let appended = append_private(&f, b"# header\n", b"2 b\n", never).unwrap();
        assert_eq!(appended, Appended::InPlace);
        assert_eq!(fs::read_to_string(&f).unwrap(), "# header\n1 a\n2 b\n");
        let meta = fs::metadata(&f).unwrap();
        assert_eq!((meta.ino(), meta.mode() & 0o777), (inode, 0o600), "in place, private");

        let victim = d.join("victim");
        fs::write(&victim, "precious").unwrap();
        symlink(&victim, d.join("link")).unwrap();
        let err = append_private(&d.join("link"), b"", b"3 c\n", never).unwrap_err();
        assert_eq!(err.to_string(), "is a symbolic link, not a regular file");
        fs::set_permissions(&f, Permissions::from_mode(0o620)).unwrap();
        let err = append_private(&f, b"", b"3 c\n", never).unwrap_err();
        assert_eq!(err.to_string(), "is writable by group or others (mode 0620)");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(&f).unwrap(), "# header\n1 a\n2 b\n");
        let fifo = d.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(append_private(&fifo, b"", b"3 c\n", never).is_err(), "a FIFO is not appended to");
        let _ = fs::remove_dir_all(d);
    }

    /// Proves a file with another hard link is never written through
    /// (issue 17): the append replaces it with the whole text, and the
    /// other name keeps what it held, for the private history as for a
    /// simulated host's record.
    #[test]
    fn a_file_with_another_link_is_replaced_not_appended_to() {
        let d = tempdir("hardlink");
        let f = d.join("history");
        let victim = d.join("victim");
        fs::write(&victim, "# header\nprecious\n").unwrap();
        fs::set_permissions(&victim, Permissions::from_mode(0o600)).unwrap();
        fs::hard_link(&victim, &f).unwrap();
        let whole = || b"# header\n1 a\n".to_vec();
        assert_eq!(append_private(&f, b"# header\n", b"1 a\n", whole).unwrap(), Appended::Replaced);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "# header\nprecious\n");
        assert_eq!(fs::read_to_string(&f).unwrap(), "# header\n1 a\n");
        let meta = fs::metadata(&f).unwrap();
        assert_eq!((meta.nlink(), meta.mode() & 0o777), (1, 0o600));

        let record = d.join("commands");
        let other = d.join("other");
        fs::write(&other, "one\n").unwrap();
        fs::hard_link(&other, &record).unwrap();
        assert_eq!(append_regular(&record, b"two\n", 0o644).unwrap(), Appended::Replaced);
        assert_eq!(fs::read_to_string(&other).unwrap(), "one\n");
        assert_eq!(fs::read_to_string(&record).unwrap(), "one\ntwo\n");
        assert_eq!(fs::metadata(&record).unwrap().mode() & 0o777, 0o644);
        assert_eq!(append_regular(&record, b"three\n", 0o644).unwrap(), Appended::InPlace);
        assert_eq!(fs::read_to_string(&record).unwrap(), "one\ntwo\nthree\n");
        let fresh = d.join("fresh");
        assert_eq!(append_regular(&fresh, b"x\n", 0o644).unwrap(), Appended::Replaced);
        assert_eq!(fs::metadata(&fresh).unwrap().mode() & 0o777, 0o644);
        let _ = fs::remove_dir_all(d);
    }

    #[test]
    fn a_trusted_file_must_be_unwritable_by_others_all_the_way_down() {
        let d = tempdir("trust");
        let cfg = d.join("lagghook.toml");
        fs::write(&cfg, "[lagg0]\n").unwrap();
        fs::set_permissions(&cfg, Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_trusted(&cfg).unwrap(), "[lagg0]\n");
        fs::set_permissions(&cfg, Permissions::from_mode(0o664)).unwrap();
        let err = read_trusted(&cfg).unwrap_err();
        assert_eq!(err.to_string(), "is writable by group or others (mode 0664)");
        fs::set_permissions(&cfg, Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(&d, Permissions::from_mode(0o777)).unwrap();
        let err = read_trusted(&cfg).unwrap_err();
        assert!(err.to_string().ends_with("which is writable by group or others (mode 0777)"));
        // The sticky bit makes a shared directory safe, as /tmp is.
        fs::set_permissions(&d, Permissions::from_mode(0o1777)).unwrap();
        assert!(read_trusted(&cfg).is_ok());
        let _ = fs::remove_dir_all(d);
    }
}
