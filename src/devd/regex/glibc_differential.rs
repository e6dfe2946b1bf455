//! The differential table: every row is compiled with glibc's `regcomp`
//! (`REG_EXTENDED | REG_ICASE | REG_NOSUB`, through `libc`, in the C locale
//! this test process never leaves) exactly as devd compiles it on FreeBSD,
//! `^` + regex + `$`, and run with `regexec`; [`DevdRegex`] must agree.
//!
//! glibc is not FreeBSD's libc. Where the two are known to differ, the row
//! is in [`DIVERGENT`] with both verdicts and the reason read in FreeBSD's
//! `lib/libc/regex/regcomp.c` (`fel1x-developer/freebsd-src` 2d614aa2):
//! [`DevdRegex`] must give FreeBSD's verdict and glibc must still give its
//! own, so a row can neither hide a bug here nor go stale silently.
//!
//! Besides the hand-written rows, every regex of the embedded stock rules
//! and of the generated rules is checked against every subject the devd
//! tests use.

use std::ffi::CString;
use std::mem::MaybeUninit;

use super::DevdRegex;
use crate::devd::conf::{Condition, Rule};
use crate::devd::test_support::{all_rules, config, default_config};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Match,
    NoMatch,
    /// `regcomp` fails; devd's match then never succeeds.
    Rejected,
}

use Verdict::{Match as M, NoMatch as N, Rejected as R};

/// `regcomp("^" + re + "$")` and `regexec(subject)` in glibc.
fn glibc(anchored: &str, subject: &str) -> Verdict {
    let pattern = CString::new(anchored).unwrap();
    let subject = CString::new(subject).unwrap();
    let mut re = MaybeUninit::<libc::regex_t>::uninit();
    let flags = libc::REG_EXTENDED | libc::REG_ICASE | libc::REG_NOSUB;
    // SAFETY: `re` is writable storage for one regex_t that outlives the
    // call; `pattern` is a NUL-terminated string alive for the call.
    let rc = unsafe { libc::regcomp(re.as_mut_ptr(), pattern.as_ptr(), flags) };
    if rc != 0 {
        // glibc frees what it allocated when regcomp fails.
        return R;
    }
    // SAFETY: regcomp returned 0, so `re` is initialised; `subject` is a
    // NUL-terminated string alive for the call; with REG_NOSUB no match
    // array is written (nmatch 0, pmatch null).
    let rc = unsafe { libc::regexec(re.as_ptr(), subject.as_ptr(), 0, std::ptr::null_mut(), 0) };
    // SAFETY: `re` was initialised by a successful regcomp and is freed once.
    unsafe { libc::regfree(re.as_mut_ptr()) };
    if rc == 0 {
        M
    } else {
        N
    }
}

fn ours(re: &DevdRegex, subject: &str) -> Verdict {
    if re.rejection().is_some() {
        R
    } else if re.is_match(subject) {
        M
    } else {
        N
    }
}

/// (regex as written in devd.conf after `$var` expansion, subject, the
/// verdict of both FreeBSD and glibc).
const AGREED: &[(&str, &str, Verdict)] = &[
    // Anchoring is textual: ^ + re + $.
    ("em0", "em0", M),
    ("em0", "em0x", N),
    ("em0", "xem0", N),
    ("em0|wlan0", "em0junk", M),
    ("em0|wlan0", "xwlan0", M),
    ("em0|wlan0", "xem0", N),
    ("em0|wlan0", "wlan0x", N),
    ("(em0|wlan0)", "em0junk", N),
    ("(em0|wlan0)", "wlan0", M),
    ("a|b|c", "xbx", M),
    ("a|b|c", "xcx", N),
    ("|x", "", M),
    ("|x", "yx", M),
    ("x|", "yyy", M),
    ("^em0$", "em0", M),
    ("a$b", "ab", N),
    ("a^b", "ab", N),
    ("a\\", "a$", M),
    ("a\\", "a", N),
    // REG_ICASE in the C locale: ASCII only, bytes as characters.
    ("IFNET", "ifnet", M),
    ("ifnet", "IFNET", M),
    ("Link_Up", "LINK_UP", M),
    ("[a-z]+", "ABC", M),
    ("[A-Z]+", "abc", M),
    ("[^a]", "A", N),
    ("[^a]", "b", M),
    ("k", "K", M),
    ("é", "é", M),
    ("é", "É", N),
    ("É", "é", N),
    ("..", "é", M),
    (".", "é", N),
    ("[é]", "é", N),
    ("[é]+", "é", M),
    ("é+", "éé", N),
    (".", "\n", M),
    ("a.c", "abc", M),
    ("a.c", "ac", N),
    // Bracket expressions.
    ("[]a]+", "]a", M),
    ("[^]a]", "]", N),
    ("[^]a]", "b", M),
    ("[a-]+", "-a", M),
    ("[-a]+", "a-", M),
    ("[\\.]+", "\\.", M),
    ("[\\]", "\\", M),
    ("[\\n]", "n", M),
    ("[\\n]", "\n", N),
    ("[\\d]", "d", M),
    ("[[:alpha:]]+", "abc", M),
    ("[[:alpha:]]", "1", N),
    ("[[:digit:]]{2,3}", "123", M),
    ("[[:digit:]]{2,3}", "1234", N),
    ("[[:alnum:]_]+", "em0_x", M),
    ("[[:space:]]", "\t", M),
    ("[[:blank:]]", "\n", N),
    ("[[:punct:]]", "~", M),
    ("[[:punct:]]", "a", N),
    ("[[:cntrl:]]", "\u{7f}", M),
    ("[[:xdigit:]]+", "DEADbeef", M),
    ("[[:graph:]]", " ", N),
    ("[[:print:]]", " ", M),
    ("[[:lower:]]+", "abc", M),
    ("[[.-.]]", "-", M),
    ("[[.-.]a]", "-", M),
    ("[!--]", ",", M),
    ("[%--]", "-", M),
    ("[z-a]", "a", R),
    ("[a-c-e]", "d", R),
    ("[[=a=]]", "A", M),
    ("[[:upper:]]+", "abc", M),
    ("[[:nope:]]", "a", R),
    ("[[:word:]]", "a", R),
    ("[[:ascii:]]", "a", R),
    ("[[.nope.]]", "a", R),
    ("[a", "a", R),
    ("[[:alpha:", "a", R),
    // Repetition.
    ("x{2}", "xx", M),
    ("x{2}", "xxx", N),
    ("x{2,}", "xxxxx", M),
    ("x{2,}", "x", N),
    ("x{1,3}", "xxx", M),
    ("x{1,3}", "xxxx", N),
    ("x{0}y", "y", M),
    ("x{0}y", "xy", N),
    ("x{0,1}y", "xy", M),
    ("x{007}", "xxxxxxx", M),
    ("x{255}", "x", N),
    ("x{3,1}", "x", R),
    ("x{2", "xx", R),
    ("x?y+z*", "yy", M),
    ("colou?r", "COLOUR", M),
    ("*a", "a", R),
    ("+a", "a", R),
    ("?a", "a", R),
    ("a|*b", "b", R),
    ("(*a)", "a", R),
    ("(?i)a", "a", R),
    ("{1}a", "a", R),
    ("x{a}", "x{a}", R),
    ("()*", "", M),
    // Groups.
    ("(", "(", R),
    ("(a", "a", R),
    ("()", "", M),
    ("()x", "x", M),
    ("(a*)*b", "aaab", M),
    ("(a|b)+", "abba", M),
    ("((em0))", "em0", M),
    ("(a)(b)", "ab", M),
    ("(a|b){2}", "ba", M),
    ("(a|b){2}", "bab", N),
    // Escapes outside brackets.
    ("\\.", ".", M),
    ("\\.", "x", N),
    ("\\$\\(x\\)", "$(x)", M),
    ("\\\\", "\\", M),
    ("\\{", "{", M),
    ("a\\{1\\}", "a{1}", M),
    ("\\*", "*", M),
    ("\\[", "[", M),
    ("\\<em0\\>", "em0", M),
    ("x\\<y", "xy", N),
    ("x\\>y", "x y", N),
    ("\\<y", "y", M),
    ("\\<", "", N),
    // Text regex-lite would read as syntax is literal in POSIX.
    ("#", "#", M),
    (" ", " ", M),
    ("<>", "<>", M),
    ("&&", "&&", M),
    ("[&~-]+", "~&-", M),
    ("user:770:swap:.*", "user:770:swap:devctl=1G", M),
];

/// (regex, subject, FreeBSD's verdict, glibc's verdict, why they differ).
const DIVERGENT: &[(&str, &str, Verdict, Verdict, &str)] = &[
    (")", ")", R, M, "p_ere_exp: unmatched ) is REG_EPAREN (no POSIX_MISTAKE)"),
    ("a)", "a)", R, M, "p_ere_exp: unmatched ) is REG_EPAREN"),
    ("(a|)", "a", R, M, "p_re: an empty branch is REG_EMPTY"),
    ("(|a)", "a", R, M, "p_re: an empty branch is REG_EMPTY"),
    ("a||b", "a", R, M, "p_branch_do: two delimiters are an empty branch"),
    ("(a{0})", "", R, M, "repeat drops x{0}, leaving an empty branch"),
    ("x**", "x", R, M, "p_ere_exp: a repetition right after another is REG_BADRPT"),
    ("x*+", "x", R, M, "p_ere_exp: a repetition right after another is REG_BADRPT"),
    ("x{2}{3}", "xxxxxx", R, M, "p_ere_exp: a repetition right after another"),
    ("x{256}", "x", R, N, "p_count: DUPMAX is 255 (glibc's RE_DUP_MAX is 32767)"),
    ("x{,3}", "x", R, M, "p_count needs a digit before the comma"),
    ("\\d", "d", R, N, "may_escape: \\ before a letter is REG_EESCAPE"),
    ("\\w", "a", R, M, "may_escape: no GNU \\w in libc's regcomp"),
    ("\\s", " ", R, M, "may_escape: no GNU \\s in libc's regcomp"),
    ("\\b", "b", R, N, "may_escape: no GNU \\b in libc's regcomp"),
    ("\\n", "n", R, N, "may_escape: \\ before a letter is REG_EESCAPE"),
    ("\\x41", "x41", R, N, "may_escape: \\ before a letter is REG_EESCAPE"),
    ("\\'", "", R, M, "may_escape: \\' is REG_EESCAPE (GNU end of buffer in glibc)"),
    ("\\1", "1", M, R, "no back-references in libc's EREs: \\1 is a literal 1"),
    ("[--z]", "a", R, M, "p_b_term: a - that is not first or last is REG_ERANGE"),
    ("[Z-a]", "z", M, R, "p_b_term takes the range ends as written; glibc folds them first"),
    ("$*x", "x", M, R, "p_ere_exp: only a ^ cannot be repeated (wascaret)"),
    ("[[:<:]]em0[[:>:]]", "em0", M, R, "p_bracket: [[:<:]] and [[:>:]] are word boundaries"),
    ("[[.hyphen.]]", "-", M, R, "p_b_coll_elem: cname.h names"),
    ("[[.space.]]", " ", M, R, "p_b_coll_elem: cname.h names"),
    ("[[:number:]]", "7", M, R, "wctype_l: BSD class names"),
    ("[[:rune:]]", "a", M, R, "wctype_l: BSD class names"),
    ("[[:ideogram:]]", "a", N, R, "wctype_l: BSD class names, empty in the C locale"),
];

/// The subjects the devd tests dispatch: interface names, systems, types.
const SUBJECTS: &[&str] = &[
    "",
    "IFNET",
    "ifnet",
    "ACPI",
    "ETHERNET",
    "em0",
    "em01",
    "xem0",
    "em0.5",
    "em0x5",
    "wlan0",
    "WLAN0",
    "wlan",
    "wlan0x",
    "wlan1",
    "usbus0",
    "usbus12",
    "lagg0",
    "lagg1",
    "re0",
    "ue0",
    "wifi0",
    "iwn0",
    "iwlwifi0",
    "rtw880",
    "rtwn0",
    "wi0",
    "ath0",
    "ATTACH",
    "attach",
    "DETACH",
    "LINK_UP",
    "LINK_DOWN",
    "ADDR_ADD",
    "RENAME",
    "my_if-1",
    "a.b.c",
];

#[test]
fn agreed_rows_match_glibc_and_ours() {
    for &(re, subject, want) in AGREED {
        let ours_re = DevdRegex::new(re);
        assert_eq!(glibc(ours_re.anchored(), subject), want, "glibc: {re:?} on {subject:?}");
        assert_eq!(ours(&ours_re, subject), want, "ours: {re:?} on {subject:?}");
    }
}

#[test]
fn divergent_rows_give_freebsd_here_and_still_differ_in_glibc() {
    for &(re, subject, freebsd, in_glibc, why) in DIVERGENT {
        assert_ne!(freebsd, in_glibc, "{re:?} is not divergent");
        let ours_re = DevdRegex::new(re);
        assert_eq!(glibc(ours_re.anchored(), subject), in_glibc, "glibc: {re:?} ({why})");
        assert_eq!(ours(&ours_re, subject), freebsd, "ours: {re:?} on {subject:?} ({why})");
    }
}

/// Every regex the embedded stock rules and the generator write, against
/// every subject the tests use, agrees with glibc (none of them touches a
/// divergence).
#[test]
fn stock_and_generated_regexes_match_glibc() {
    let two_laggs = config(
        "[lagg0]\nports = [\"ue0\", \"wifi0\"]\nwlan.wifi0.parent = \"rtwn0\"\n\
         [lagg1]\nports = [\"em0.5\", \"wlan1\", \"my_if-1\"]\n",
    );
    let mut rules: Vec<Rule> = all_rules(&default_config());
    rules.extend(all_rules(&two_laggs));
    let mut checked = 0;
    for rule in &rules {
        for condition in &rule.conditions {
            let Condition::Match { regex, .. } = condition else { continue };
            assert_eq!(regex.rejection(), None, "{}", regex.anchored());
            for subject in SUBJECTS {
                let want = glibc(regex.anchored(), subject);
                assert_eq!(ours(regex, subject), want, "{} on {subject:?}", regex.anchored());
                checked += 1;
            }
        }
    }
    assert!(checked > 20 * SUBJECTS.len(), "only {checked} checks");
}
