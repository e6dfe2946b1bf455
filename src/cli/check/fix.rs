//! The `fix:` of an rc.conf(5) trap as the one command line that clears it
//! (issue 16, point 5): sysrc(8) with `-f` naming the file that really holds
//! the variable for the rc scripts that read it, the whole new value (every
//! other word kept), and `-x` for each other file that would still shadow
//! or contradict it. Applied literally, it leaves one place saying what
//! boots. What it does not own: which value is right (the traps in
//! [`super::rc`]).
//!
//! Which file holds a variable is what `load_rc_config` decides
//! (`libexec/rc/rc.subr`, read in [`super::rc`]): the last file a script
//! reads that assigns it, [`RcVars::origin`]. When the scripts that matter
//! see it from different files (rc.d/netif from `rc.conf.d/netif`,
//! /etc/pccard_ether from `rc.conf`), or when none sets it, the value goes
//! into `/etc/rc.conf.d/network`, which both read, and the others lose it.
//!
//! sysrc's own rules (`usr.sbin/bsdconfig/share/sysrc.subr`,
//! `sobomax/freebsd14_vendor` 0f7ff342): `-f FILE` restricts it to that
//! file; `NAME=VALUE` replaces the last assignment or appends one
//! (`f_sysrc_set`); `NAME+=WORD` adds a word not yet there; `-x NAME`
//! deletes every assignment in the file (`f_sysrc_delete`).

use crate::domain::rc_vars::RcVars;

/// Where a variable rc.d/netif and /etc/pccard_ether both read belongs.
pub const NETWORK: &str = "/etc/rc.conf.d/network";

/// One sysrc edit.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    Set { file: String, name: String, value: String },
    Append { file: String, name: String, word: String },
    Delete { file: String, name: String },
}

/// A fix made of sysrc edits, printed as one command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sysrc {
    edits: Vec<Edit>,
}

impl Sysrc {
    pub fn new() -> Sysrc {
        Sysrc::default()
    }

    /// `name` set to `value` for every script whose variables are in
    /// `views`: in the file they all read it from, else in
    /// [`NETWORK`]; and removed from every other file they read it from.
    pub fn set(mut self, views: &[&RcVars], name: &str, value: &str) -> Sysrc {
        let origins: Vec<&str> = views.iter().filter_map(|v| v.origin(name)).collect();
        let shared = match origins.as_slice() {
            [first, rest @ ..]
                if origins.len() == views.len() && rest.iter().all(|o| o == first) =>
            {
                Some(*first)
            }
            _ => None,
        };
        let target = shared.unwrap_or(NETWORK).to_owned();
        self.edits.push(Edit::Set {
            file: target.clone(),
            name: name.to_owned(),
            value: value.to_owned(),
        });
        let mut removed: Vec<&str> = Vec::new();
        for origin in origins {
            if origin != target && !removed.contains(&origin) {
                removed.push(origin);
                self.edits.push(Edit::Delete { file: origin.to_owned(), name: name.to_owned() });
            }
        }
        self
    }

    /// `word` added to `name` in the file `vars` reads it from, else in
    /// `default`.
    pub fn append(mut self, vars: &RcVars, name: &str, word: &str, default: &str) -> Sysrc {
        let file = vars.origin(name).unwrap_or(default).to_owned();
        self.edits.push(Edit::Append { file, name: name.to_owned(), word: word.to_owned() });
        self
    }
}

impl std::fmt::Display for Sysrc {
    /// `sysrc -f FILE a="x" b+=y && sysrc -f OTHER -x c`: consecutive
    /// assignments to one file share a call, as sysrc takes several.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut calls: Vec<(String, bool, Vec<String>)> = Vec::new();
        for edit in &self.edits {
            let (file, delete, word) = match edit {
                Edit::Set { file, name, value } => (file, false, assignment(name, "=", value)),
                Edit::Append { file, name, word } => (file, false, assignment(name, "+=", word)),
                Edit::Delete { file, name } => (file, true, name.clone()),
            };
            match calls.last_mut() {
                Some((f, d, words)) if f == file && *d == delete => words.push(word),
                _ => calls.push((file.clone(), delete, vec![word])),
            }
        }
        for (i, (file, delete, words)) in calls.iter().enumerate() {
            if i > 0 {
                f.write_str(" && ")?;
            }
            let x = if *delete { " -x" } else { "" };
            write!(f, "sysrc -f {file}{x} {}", words.join(" "))?;
        }
        Ok(())
    }
}

/// `NAME="value"` as an administrator types it, or single-quoted whole
/// when the value holds something sh would expand inside double quotes.
fn assignment(name: &str, op: &str, value: &str) -> String {
    if value.chars().any(|c| matches!(c, '"' | '$' | '`' | '\\' | '\'' | '\n')) {
        format!("'{name}{op}{}'", value.replace('\'', "'\\''"))
    } else if op == "+=" && !value.is_empty() && !value.contains(char::is_whitespace) {
        format!("{name}{op}{value}")
    } else {
        format!("{name}{op}\"{value}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(files: &[(&str, &str)]) -> RcVars {
        let mut v = RcVars::new();
        for (file, text) in files {
            v.source(file, text);
        }
        v
    }

    /// Proves the fix edits the file both scripts read the variable from,
    /// or rc.conf.d/network with the others' assignments removed when
    /// they read it from different files or from none.
    #[test]
    fn the_value_goes_where_every_script_reads_it() {
        let rc = ("/etc/rc.conf", "ifconfig_wlan0=\"WPA SYNCDHCP\"\n");
        let netif = vars(&[rc]);
        let pccard = vars(&[rc]);
        let fix = Sysrc::new().set(&[&netif, &pccard], "ifconfig_wlan0", "WPA");
        assert_eq!(fix.to_string(), "sysrc -f /etc/rc.conf ifconfig_wlan0=\"WPA\"");

        let netif = vars(&[rc, ("/etc/rc.conf.d/netif", "ifconfig_wlan0=\"WPA DHCP\"\n")]);
        let fix = Sysrc::new().set(&[&netif, &pccard], "ifconfig_wlan0", "WPA");
        assert_eq!(
            fix.to_string(),
            "sysrc -f /etc/rc.conf.d/network ifconfig_wlan0=\"WPA\" && \
             sysrc -f /etc/rc.conf.d/netif -x ifconfig_wlan0 && \
             sysrc -f /etc/rc.conf -x ifconfig_wlan0"
        );
        let none = RcVars::new();
        let fix = Sysrc::new().set(&[&none, &none], "ifconfig_em0", "up").set(
            &[&none],
            "ifconfig_lagg0",
            "up DHCP",
        );
        assert_eq!(
            fix.to_string(),
            "sysrc -f /etc/rc.conf.d/network ifconfig_em0=\"up\" ifconfig_lagg0=\"up DHCP\""
        );
    }

    #[test]
    fn words_are_quoted_as_sh_reads_them_back() {
        let v = vars(&[("/etc/rc.conf.local", "kld_list=\"fusefs\"\n")]);
        let fix = Sysrc::new().append(&v, "kld_list", "if_iwn", "/etc/rc.conf");
        assert_eq!(fix.to_string(), "sysrc -f /etc/rc.conf.local kld_list+=if_iwn");
        let none = RcVars::new();
        let fix = Sysrc::new().set(&[&none], "a", "it's $x");
        assert_eq!(fix.to_string(), "sysrc -f /etc/rc.conf.d/network 'a=it'\\''s $x'");
    }
}
