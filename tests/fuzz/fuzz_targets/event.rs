//! devd events: `DevdEvent::parse_line` on the input as one line, and
//! `DevdEvent::from_args` on the input split at NUL bytes (one argument:
//! a line; three: `SYSTEM SUBSYSTEM TYPE`).
//!
//! Properties, beyond "no panic":
//! - every error's message is one line of at most `MAX_MESSAGE` characters
//!   with no control character (values are echoed cut short, escaped);
//! - an accepted event's fields are what the parser promises: `system`,
//!   `subsystem` and `type` non-empty printable ASCII without spaces of at
//!   most `MAX_FIELD_LEN` bytes, extra keys devd keys (`[A-Za-z0-9_-]+`)
//!   other than those three and each once, values without control
//!   characters of at most `MAX_FIELD_LEN` bytes, all within `MAX_LINE_LEN`;
//! - the notify line rendered from an accepted event (its `Display`) parses
//!   back to the same event, and renders the same again;
//! - `from_args` with one argument is `parse_line`; with three, an accepted
//!   event is exactly those three fields, and a line built from them
//!   parses to the same event.
#![no_main]

use lagghook::domain::event::{DevdEvent, EventError, MAX_FIELD_LEN, MAX_LINE_LEN};
use libfuzzer_sys::fuzz_target;

/// The longest error message: a fixed text, a field name and a value
/// echoed at most 64 characters (each escaped to at most 10), and a
/// length. Much less than the inputs the fuzzer tries.
const MAX_MESSAGE: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let line = DevdEvent::parse_line(&text);
    check(&line);
    if let Ok(ev) = &line {
        round_trip(ev);
    }

    let args: Vec<String> = text.split('\0').map(str::to_owned).collect();
    let from_args = DevdEvent::from_args(&args);
    check(&from_args);
    match (args.as_slice(), &from_args) {
        ([_], _) => assert_eq!(from_args, line, "from_args of one argument is parse_line"),
        ([system, subsystem, kind], Ok(ev)) => {
            assert_eq!(ev, &DevdEvent::new(system, subsystem, kind));
            // devd's line syntax cannot say a quoted value that ends in a
            // backslash (`\"` is always an escaped quote), and a field
            // that starts with a quote must be quoted; such an event
            // never came from devd, so there is no line to build.
            let sayable = |v: &str| !(v.starts_with('"') && v.ends_with('\\'));
            if args.iter().all(|a| sayable(a)) {
                round_trip(ev);
            }
        }
        (_, Ok(ev)) => panic!("{} arguments accepted as {ev:?}", args.len()),
        (_, Err(_)) => {}
    }
});

fn check(result: &Result<DevdEvent, EventError>) {
    match result {
        Ok(ev) => check_event(ev),
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty(), "empty message for {e:?}");
            assert!(!msg.contains(char::is_control), "control character in {msg:?}");
            assert!(msg.chars().count() <= MAX_MESSAGE, "{} chars: {msg:?}", msg.chars().count());
        }
    }
}

fn check_event(ev: &DevdEvent) {
    for (name, v) in [("system", &ev.system), ("subsystem", &ev.subsystem), ("type", &ev.kind)] {
        assert!(!v.is_empty(), "empty {name} in {ev:?}");
        assert!(v.len() <= MAX_FIELD_LEN, "{name} of {} bytes", v.len());
        assert!(v.bytes().all(|b| b.is_ascii_graphic()), "{name} {v:?} is not printable ASCII");
    }
    let mut total = ev.system.len() + ev.subsystem.len() + ev.kind.len();
    for (i, (k, v)) in ev.data.iter().enumerate() {
        assert!(
            !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "bad key {k:?}"
        );
        assert!(!["system", "subsystem", "type"].contains(&k.as_str()), "{k} kept as data");
        assert!(ev.data[..i].iter().all(|(k2, _)| k2 != k), "key {k:?} twice");
        assert!(v.len() <= MAX_FIELD_LEN, "value of {k} is {} bytes", v.len());
        assert!(!v.contains(char::is_control), "control character in {k}={v:?}");
        total += k.len() + v.len();
    }
    assert!(total <= MAX_LINE_LEN, "{total} bytes of fields");
    // `get` finds every field.
    assert_eq!(ev.get("system"), Some(ev.system.as_str()));
    assert_eq!(ev.get("subsystem"), Some(ev.subsystem.as_str()));
    assert_eq!(ev.get("type"), Some(ev.kind.as_str()));
    for (k, v) in &ev.data {
        assert_eq!(ev.get(k), Some(v.as_str()));
    }
}

/// The notify line of `ev` parses back to `ev` (when it fits devd's
/// buffer: the rendering adds the `!` and quotes where needed).
fn round_trip(ev: &DevdEvent) {
    let rendered = ev.to_string();
    assert!(!rendered.contains(char::is_control), "control character in {rendered:?}");
    if rendered.len() > MAX_LINE_LEN {
        return;
    }
    match DevdEvent::parse_line(&rendered) {
        Ok(back) => {
            assert_eq!(&back, ev, "{rendered:?} parses to another event");
            assert_eq!(back.to_string(), rendered);
        }
        Err(e) => panic!("{ev:?} renders as {rendered:?}, which does not parse: {e}"),
    }
}
