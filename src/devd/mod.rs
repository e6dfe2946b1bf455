//! devd(8) rules: generating lagghook's devd.conf for a [`Config`], and a
//! model of how devd picks the one statement it runs for an event, so that
//! the generated rules can be tested together with FreeBSD's stock ones.
//!
//! Split the way FreeBSD splits `sbin/devd`:
//! - `conf` (`token.l` + `parse.y`): the devd.conf lexer and parser, into
//!   `Rule`s;
//! - `dispatch` (`devd.cc`): which statement runs for an event, `$var`
//!   expansion, the commands an action runs, the `media-type` condition;
//! - `regex` (`devd.cc`'s `match::match` over libc's `regcomp`): what a
//!   `match` regex means;
//! - `stock` (`devd.conf` as FreeBSD ships it): the stock statements that
//!   see interfaces;
//! - `generate`: lagghook's own statements, chaining the stock actions;
//! - `compete`: other files' statements that compete with lagghook's for
//!   the same events (`check`'s devd traps).
//!
//! Nothing here runs anything: the caller (the CLI's `devd-conf`, the
//! scenario runner) decides what a command means.
//!
//! [`Config`]: crate::domain::config::Config

mod compete;
mod conf;
mod dispatch;
mod generate;
mod regex;
mod stock;
#[cfg(test)]
mod test_support;

pub use compete::{
    analyse, directories, managed_events, Analysis, Competitor, DevdFile, Place, Relation,
};
pub use conf::{parse, DevdParseError, Rule, StatementKind};
pub use dispatch::{select, Media};
pub use generate::{
    rules_for, try_rules_for, try_rules_with, GenError, ADMIN_PROGRAM, PRIORITY, PROGRAM,
};
pub use regex::{DevdRegex, RegcompError};
pub use stock::{stock_rules, stock_rules_in, Layout, StockError, DEVD_CONF, DHCLIENT_CONF};
