//! wtap(4)'s control device: creating and deleting a simulated 802.11
//! radio, what `tools/tools/wtap/wtap/wtap.c` does (`wtap c N`, `wtap d
//! N`): `open("/dev/wtapctl", O_RDONLY)`, then `ioctl(fd, WTAPIOCTLCRT or
//! WTAPIOCTLDEL, &id)` (`wtap_ioctl` in `sys/dev/wtap/if_wtap_module.c`,
//! see [`crate::abi::WTAPIOCTLCRT`]). The radio is no ifnet: net80211 knows
//! it as `wtapN` (`new_wtap` names it, `ieee80211_ifattach` lists it in
//! `net.wlan.devices`), and its vaps are made with `ifconfig wlan create
//! wlandev wtapN`. `wtap_ioctl` works in the caller's vnet
//! (`CURVNET_SET(CRED_TO_VNET(...))`), but the wlan cloner is attached
//! once, at module load, in the host's (`wlan_modevent`'s
//! `ifc_attach_cloner` in `sys/net80211/ieee80211_freebsd.c`), so the
//! conformance harness makes radios and vaps in the host's vnet only.

use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::abi::{WTAPIOCTLCRT, WTAPIOCTLDEL, WTAP_RADIOS};

/// wtap's control device (`make_dev(..., "wtapctl")` in `event_handler`).
pub const WTAPCTL: &str = "/dev/wtapctl";

fn wtapctl(request: u64, id: i32) -> io::Result<()> {
    if !(0..WTAP_RADIOS).contains(&id) {
        // The kernel indexes its arrays with the id unchecked.
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    // Never through a link, a character device only (`sys::file`).
    let dev = crate::sys::file::open_device(Path::new(WTAPCTL))?;
    let mut arg: libc::c_int = id;
    // SAFETY: the request copies in one int (`_IOW('W', n, int)`), and
    // `arg` is one int that outlives the call.
    let rc = unsafe { libc::ioctl(dev.as_raw_fd(), request, std::ptr::from_mut(&mut arg)) };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `wtap c ID`: radio `wtapID`. EINVAL if it exists (`new_wtap`).
pub fn create(id: i32) -> io::Result<()> {
    wtapctl(WTAPIOCTLCRT, id)
}

/// `wtap d ID`: the radio and, with it, its vaps (`free_wtap` →
/// `ieee80211_ifdetach`). EINVAL if there is none.
pub fn delete(id: i32) -> io::Result<()> {
    wtapctl(WTAPIOCTLDEL, id)
}
