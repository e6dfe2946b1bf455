//! Whether the administrator running `setup` is at the machine or reaches
//! it over the network (issue 16, point 1): a remote session whose traffic
//! runs over a port setup moves into the lagg is cut off when the port
//! joins (lagg takes over the port's input, `lagg_port_create` in
//! `sys/net/if_lagg.c`), so `setup` must know before it changes anything.
//! Pure: the environment, the terminal and the logins are read elsewhere
//! (`std::env`, [`crate::sys::login`]).
//!
//! What counts as remote, first that applies:
//! 1. `SSH_CONNECTION` (`client port server port`), `SSH_CLIENT` or
//!    `SSH_TTY`, which sshd(8) sets for the session ("ENVIRONMENT");
//! 2. standard input, output or error a pseudo-terminal (`/dev/pts/N`)
//!    whose utmpx login names a remote host, or, when none does, while no
//!    one is logged in on a terminal that is not a pseudo-terminal: a pty
//!    with no local login behind it. sudo(8) keeps the terminal but drops
//!    the `SSH_*` variables, which is why the second test exists.
//!
//! A pty in an X session (its login's host `:0`, or a console login beside
//! it) is local. What this cannot see: a session through a serial line or
//! a remote console, which do not depend on the network.

use crate::sys::login::Login;

/// The session `setup` runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    Local,
    /// Remote: how it was recognised, in words (`ssh from 192.0.2.7 to
    /// 192.0.2.10`).
    Remote(String),
}

/// The environment variables that tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshEnv {
    pub connection: Option<String>,
    pub client: Option<String>,
    pub tty: Option<String>,
}

impl SshEnv {
    /// This process's.
    pub fn from_process() -> SshEnv {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        SshEnv { connection: var("SSH_CONNECTION"), client: var("SSH_CLIENT"), tty: var("SSH_TTY") }
    }
}

/// The session, from the environment, the terminal (`/dev/pts/3`) and the
/// logins utmpx lists.
pub fn judge(env: &SshEnv, terminal: Option<&str>, logins: &[Login]) -> Session {
    if let Some(c) = &env.connection {
        let words: Vec<&str> = c.split_whitespace().collect();
        return Session::Remote(match words.as_slice() {
            [from, _, to, _] => format!("ssh from {from} to {to}"),
            _ => "ssh (SSH_CONNECTION is set)".to_owned(),
        });
    }
    if let Some(c) = &env.client {
        let from = c.split_whitespace().next().unwrap_or_default();
        return Session::Remote(format!("ssh from {from}"));
    }
    if let Some(tty) = &env.tty {
        return Session::Remote(format!("ssh on {tty}"));
    }
    let Some(line) = terminal.and_then(|t| t.strip_prefix("/dev/")).filter(|l| is_pty(l)) else {
        return Session::Local;
    };
    let remote_host = |host: &str| !host.is_empty() && !host.starts_with(':');
    if let Some(own) = logins.iter().find(|l| l.line == line) {
        if remote_host(&own.host) {
            return Session::Remote(format!("a login on {line} from {}", own.host));
        }
        if !own.host.is_empty() {
            return Session::Local;
        }
    }
    if logins.iter().any(|l| !is_pty(&l.line)) {
        return Session::Local;
    }
    Session::Remote(format!("{line}, a pseudo-terminal with no local login"))
}

/// A pseudo-terminal's line: `pts/N` (FreeBSD's pts(4), Linux's devpts).
fn is_pty(line: &str) -> bool {
    line.strip_prefix("pts/")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(line: &str, host: &str) -> Login {
        Login { line: line.into(), host: host.into() }
    }

    fn remote(how: &str) -> Session {
        Session::Remote(how.into())
    }

    /// Proves sshd's variables tell first, with the addresses in words.
    #[test]
    fn ssh_says_so_in_the_environment() {
        let env = SshEnv {
            connection: Some("192.0.2.7 50022 192.0.2.10 22".into()),
            ..SshEnv::default()
        };
        assert_eq!(judge(&env, None, &[]), remote("ssh from 192.0.2.7 to 192.0.2.10"));
        let env = SshEnv { client: Some("2001:db8::7 50022 22".into()), ..SshEnv::default() };
        assert_eq!(judge(&env, None, &[]), remote("ssh from 2001:db8::7"));
        let env = SshEnv { tty: Some("/dev/pts/1".into()), ..SshEnv::default() };
        assert_eq!(judge(&env, Some("/dev/ttyv0"), &[]), remote("ssh on /dev/pts/1"));
        assert_eq!(judge(&SshEnv::default(), None, &[]), Session::Local);
    }

    /// Proves the pty test: a pty whose login came from a host is remote,
    /// one with no local login anywhere is remote, and a pty beside a
    /// console login or in an X session is local, as is a console.
    #[test]
    fn a_pty_is_remote_unless_someone_is_at_the_machine() {
        let none = SshEnv::default();
        let pts = Some("/dev/pts/2");
        let from = [login("ttyv0", ""), login("pts/2", "192.0.2.7")];
        assert_eq!(judge(&none, pts, &from), remote("a login on pts/2 from 192.0.2.7"));
        // sudo from an ssh login that utmpx does not name, nothing local.
        assert_eq!(
            judge(&none, pts, &[login("pts/0", "")]),
            remote("pts/2, a pseudo-terminal with no local login")
        );
        assert_eq!(judge(&none, pts, &[]), remote("pts/2, a pseudo-terminal with no local login"));
        assert_eq!(judge(&none, pts, &[login("ttyv0", ""), login("pts/2", "")]), Session::Local);
        assert_eq!(judge(&none, pts, &[login("pts/2", ":0")]), Session::Local);
        assert_eq!(judge(&none, Some("/dev/ttyv1"), &[]), Session::Local);
        assert_eq!(judge(&none, Some("/dev/pts/x"), &[]), Session::Local);
    }
}
