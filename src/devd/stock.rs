//! FreeBSD's stock devd statements that see network interfaces, embedded
//! as text and parsed with [`parse`](super::parse).
//!
//! What this module owns: the text and which FreeBSD it comes from. What it
//! does not own: parsing (`conf`) or what the statements do (`dispatch`).

use super::conf::{parse, Rule};

/// The IFNET statements of FreeBSD 14's `/etc/devd.conf`
/// (`sbin/devd/devd.conf`, releng/14.x), verbatim apart from the comments.
/// A later FreeBSD moves the two dhclient rules to `sbin/devd/dhclient.conf`
/// unchanged, which makes no difference to selection.
pub const STOCK_DEVD_CONF: &str = r#"# From FreeBSD 14 sbin/devd/devd.conf: the statements that see interfaces.
options {
	set wifi-driver-regex
		"(ath|bwi|bwn|ipw|iwi|iwm|iwn|malo|mwl|otus|ral|rsu|rtwn|rum|\
		run|uath|upgt|ural|urtw|wi|wpi|wtap|zyd)[0-9]+";
};

notify 0 {
	match "system"		"IFNET";
	match "subsystem"	"!(usbus|wlan)[0-9]+";
	match "type"		"ATTACH";
	action "/etc/pccard_ether $subsystem start";
};

notify 0 {
	match "system"		"IFNET";
	match "type"		"LINK_UP";
	media-type		"ethernet";
	action "service dhclient quietstart $subsystem";
};

attach 0 {
	device-name "$wifi-driver-regex";
	action "/etc/pccard_ether $device-name startchildren";
};
detach 0 {
	device-name "$wifi-driver-regex";
	action "/etc/pccard_ether $device-name stopchildren";
};
notify 0 {
	match "system"		"IFNET";
	match "type"		"LINK_UP";
	media-type		"802.11";
	action "service dhclient quietstart $subsystem";
};
"#;

/// FreeBSD 14's stock interface statements, parsed from [`STOCK_DEVD_CONF`].
/// Put them before generated rules: devd parses `/etc/devd.conf` first, so
/// they win ties.
pub fn stock_rules() -> Vec<Rule> {
    // The text is a constant checked by the unit tests; an error here is a
    // bug in this file, and the empty list makes every test fail loudly.
    parse(STOCK_DEVD_CONF).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devd::conf::StatementKind;
    use crate::devd::test_support::{media, run};
    use crate::domain::event::DevdEvent;

    #[test]
    fn stock_rules_parse_and_are_the_four_notify_and_two_attach_statements() {
        let rules = parse(STOCK_DEVD_CONF).unwrap();
        let kinds: Vec<StatementKind> = rules.iter().map(Rule::kind).collect();
        use StatementKind::*;
        assert_eq!(kinds, [Notify, Notify, Attach, Detach, Notify]);
        assert!(rules.iter().all(|r| r.priority() == 0));
        assert_eq!(rules[0].action(), "/etc/pccard_ether $subsystem start");
        assert_eq!(stock_rules().len(), 5);
    }

    #[test]
    fn stock_rules_alone_behave_like_freebsd_14() {
        let stock = stock_rules();
        assert_eq!(run(&stock, "em0", "ATTACH"), ["/etc/pccard_ether em0 start"]);
        assert_eq!(run(&stock, "wlan0", "ATTACH"), Vec::<String>::new());
        assert_eq!(run(&stock, "usbus0", "ATTACH"), Vec::<String>::new());
        // Case-insensitive, as REG_ICASE.
        assert_eq!(run(&stock, "WLAN0", "attach"), Vec::<String>::new());
        assert_eq!(run(&stock, "em0", "LINK_UP"), ["service dhclient quietstart em0"]);
        assert_eq!(run(&stock, "wlan0", "LINK_UP"), ["service dhclient quietstart wlan0"]);
        // No media status: neither dhclient rule applies.
        assert_eq!(run(&stock, "usbus0", "LINK_UP"), Vec::<String>::new());
        assert_eq!(run(&stock, "em0", "LINK_DOWN"), Vec::<String>::new());
        // The wifi-driver-regex variable from options is expanded into the
        // attach statement's regex at parse time.
        let attach = &stock[2];
        let dev = DevdEvent {
            data: vec![("device-name".into(), "iwn0".into())],
            ..DevdEvent::new("", "", "")
        };
        assert!(attach.matches(&dev, &media));
        assert_eq!(attach.commands(&dev), [["/etc/pccard_ether", "iwn0", "startchildren"]]);
    }
}
