//! A vap's `create_args_IF` as ifconfig(8) reads it. rc's `wlan_up`
//! (`libexec/rc/network.subr`) runs `ifconfig IF create wlandev RADIO
//! $create_args_IF`, and ifconfig takes create parameters (its
//! `DEF_CLONE_CMD`s: `wlanaddr`, `wlanmode`, `bssid`, …) only up to the
//! first word that is not one: there it creates the vap with what it has,
//! and reads the rest as commands on the new vap (`ifconfig_ioctl`: once
//! `cmd_lookup(*argv, iscreate)` finds no clone command, the create
//! callback runs and `iscreate` becomes 0; `sbin/ifconfig/ifconfig.c` and
//! `ieee80211_cmds` in `sbin/ifconfig/ifieee80211.c`,
//! `fel1x-developer/freebsd-src` @
//! 2d614aa2fe3e037bd11d351b0b5cfda776e65814). `wlanaddr` is no such
//! command, so in `country DE wlanaddr MAC` it is an address ifconfig
//! cannot read (`ifconfig: wlanaddr: bad value`), after the vap was
//! created with its radio's factory address. Pure.

use crate::domain::rc_vars::words;

/// The vap create parameters and how many arguments each takes.
pub const CREATE_PARAMS: &[(&str, usize)] = &[
    ("wlandev", 1),
    ("wlanaddr", 1),
    ("wlanbssid", 1),
    ("wlanmode", 1),
    ("beacons", 0),
    ("-beacons", 0),
    ("bssid", 0),
    ("-bssid", 0),
    ("wdslegacy", 0),
    ("-wdslegacy", 0),
];

/// How many arguments `word` takes if it is a create parameter.
pub fn param_arity(word: &str) -> Option<usize> {
    CREATE_PARAMS.iter().find(|(w, _)| *w == word).map(|(_, n)| *n)
}

/// The leading create parameters of `value` with their arguments, and
/// the words ifconfig reads after the vap exists.
pub fn split(value: &str) -> (Vec<&str>, Vec<&str>) {
    let all: Vec<&str> = words(value).collect();
    let mut i = 0;
    while let Some(n) = all.get(i).and_then(|w| param_arity(w)) {
        i = (i + 1 + n).min(all.len());
    }
    let (params, rest) = all.split_at(i);
    (params.to_vec(), rest.to_vec())
}

/// The `wlanaddr` argument the vap is created with, if any.
pub fn wlanaddr(value: &str) -> Option<&str> {
    let (params, _) = split(value);
    params.iter().position(|w| *w == "wlanaddr").and_then(|i| params.get(i + 1).copied())
}

/// Whether `value` has a `wlanaddr` too late to count: after a word that
/// is not a create parameter.
pub fn late_wlanaddr(value: &str) -> bool {
    split(value).1.contains(&"wlanaddr")
}

/// `words` with `wlanaddr MAC` first, where ifconfig takes it whatever
/// follows, and no other `wlanaddr`; the other words keep their order.
pub fn with_wlanaddr(words: Vec<String>, mac: &str) -> Vec<String> {
    let mut out = vec!["wlanaddr".to_owned(), mac.to_owned()];
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        if w == "wlanaddr" {
            let _ = it.next();
            continue;
        }
        out.push(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const E: &str = "00:11:22:33:44:55";

    #[test]
    fn a_wlanaddr_counts_only_among_the_leading_create_parameters() {
        assert_eq!(wlanaddr(&format!("wlanaddr {E} country DE")), Some(E));
        assert_eq!(wlanaddr(&format!("bssid -beacons wlanaddr {E} country DE")), Some(E));
        assert_eq!(wlanaddr(&format!("country DE wlanaddr {E}")), None);
        assert!(late_wlanaddr(&format!("country DE wlanaddr {E}")));
        assert!(!late_wlanaddr(&format!("wlanaddr {E} country DE")));
        assert_eq!(
            split("wlanmode sta channel 6"),
            (vec!["wlanmode", "sta"], vec!["channel", "6"])
        );
        // A parameter missing its argument ends the line.
        assert_eq!(split("wlanaddr"), (vec!["wlanaddr"], vec![]));
    }

    #[test]
    fn with_wlanaddr_puts_it_first_and_keeps_the_rest() {
        let w = |s: &str| words(s).map(str::to_owned).collect::<Vec<_>>();
        let got = with_wlanaddr(w("country DE regdomain ETSI"), E).join(" ");
        assert_eq!(got, format!("wlanaddr {E} country DE regdomain ETSI"));
        let got = with_wlanaddr(w("country DE wlanaddr 00:24:d7:00:00:01 -ht"), E).join(" ");
        assert_eq!(got, format!("wlanaddr {E} country DE -ht"));
        assert_eq!(wlanaddr(&got), Some(E));
    }
}
