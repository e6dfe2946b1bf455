//! Local time, as the administrator reads it in `status`: localtime_r(3),
//! which follows TZ and /etc/localtime as date(1) does. One of the two
//! `unsafe` outside the FreeBSD backend (`login` is the other), because std
//! has no local time.

#![allow(unsafe_code)]

/// `YYYY-MM-DD HH:MM:SS ±HHMM` in the local time zone, or `None` when the
/// C library cannot convert `secs`.
pub fn local(secs: u64) -> Option<String> {
    let t = libc::time_t::try_from(secs).ok()?;
    // SAFETY: `tm` is plain old data that localtime_r fills; `t` outlives
    // the call; localtime_r is the thread-safe variant (POSIX) and only
    // reads `t` and writes `tm`.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return None;
        }
        tm
    };
    let off = tm.tm_gmtoff / 60;
    let sign = if off < 0 { '-' } else { '+' };
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {sign}{:02}{:02}",
        i64::from(tm.tm_year) + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        off.abs() / 60,
        off.abs() % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_carries_its_offset_and_matches_utc_plus_it() {
        let s = local(1_795_545_000).unwrap();
        // "2026-11-24 18:30:00 +0000" under TZ=UTC; other zones move the
        // clock by exactly the printed offset.
        let (clock, off) = s.rsplit_once(' ').unwrap();
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let mins =
            sign * (off[1..3].parse::<i64>().unwrap() * 60 + off[3..].parse::<i64>().unwrap());
        let utc = crate::cli::status::utc((1_795_545_000 + mins * 60) as u64);
        assert_eq!(clock, utc, "{s}");
    }
}
