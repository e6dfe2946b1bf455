//! The probe exchange on bpf(4): open `/dev/bpf` (a cloning device),
//! attach it to the lagg (`BIOCSETIF`), deliver frames as they come
//! (`BIOCIMMEDIATE`), keep our source addresses (`BIOCSHDRCMPLT`), let
//! only ARP and ICMPv6 Neighbor Advertisements through (`BIOCSETF`),
//! write each frame at its time and read with poll(2) until the first
//! answer or the budget. A frame written on the lagg leaves by its active
//! port, as `lagg_transmit` sends every frame of the lagg (unverified on a
//! real kernel; the conformance test checks it).
//!
//! Runtime on FreeBSD unverified, as for the whole backend.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::time::Instant;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::abi::net::{self as n, bpf_insn, bpf_program};
use crate::abi::{self, ifreq};
use crate::domain::layer3::{ProbeExchange, ProbeReply, ProbeResult};
use crate::domain::model::IfName;
use crate::kernel::{Errno, KernelError, Op};
use crate::sys::{file, frames};

use super::{ioctl_fd, name_buf, request, Request};

const BIOCGBLEN: Request<u32> = request(n::BIOCGBLEN);
const BIOCSETF: Request<bpf_program> = request(n::BIOCSETF);
const BIOCSETIF: Request<ifreq> = request(n::BIOCSETIF);
const BIOCIMMEDIATE: Request<u32> = request(n::BIOCIMMEDIATE);
const BIOCSHDRCMPLT: Request<u32> = request(n::BIOCSHDRCMPLT);

/// Where bpf(4) is opened.
const BPF_DEVICE: &str = "/dev/bpf";

/// `ether[12:2] == 0x0806 || (ether[12:2] == 0x86dd && ip6[6] == 58 &&
/// icmp6[0] == 136)`, the whole frame kept.
fn filter() -> [bpf_insn; 9] {
    let stmt = |code, k| bpf_insn { code, jt: 0, jf: 0, k };
    let jeq = |k, jt, jf| bpf_insn { code: n::BPF_JMP | n::BPF_JEQ | n::BPF_K, jt, jf, k };
    [
        stmt(n::BPF_LD | n::BPF_H | n::BPF_ABS, 12),
        jeq(0x0806, 5, 0),
        jeq(0x86dd, 0, 5),
        stmt(n::BPF_LD | n::BPF_B | n::BPF_ABS, 20),
        jeq(58, 0, 3),
        stmt(n::BPF_LD | n::BPF_B | n::BPF_ABS, 54),
        jeq(136, 0, 1),
        stmt(n::BPF_RET | n::BPF_K, 0xffff),
        stmt(n::BPF_RET | n::BPF_K, 0),
    ]
}

/// Why bpf could not be used: the errno of the step that failed. The
/// caller falls back on the kernel's ARP for EACCES, ENOENT, EBUSY (no
/// free device), ENXIO and EPERM.
pub(super) struct Refused(pub i32);

/// Opens and sets up a bpf device on `lagg`.
fn open(op: Op, lagg: &IfName) -> Result<Result<(File, usize), Refused>, KernelError> {
    let file = match file::open_device(Path::new(BPF_DEVICE)) {
        Ok(f) => f,
        Err(e) => return Ok(Err(Refused(e.raw_os_error().unwrap_or(abi::EIO)))),
    };
    let fd = file.as_raw_fd();
    let err = |code| KernelError::errno(op, Some(lagg), Errno::from_code(code));
    let mut blen: u32 = 0;
    // SAFETY: `blen` is a u32 on this stack frame, the size the request
    // encodes; the kernel writes it.
    unsafe { ioctl_fd(fd, BIOCGBLEN, &mut blen) }.map_err(err)?;
    let mut ifr = ifreq::new(name_buf(op, lagg)?);
    // SAFETY: a pointer-free ifreq on this stack frame.
    if let Err(code) = unsafe { ioctl_fd(fd, BIOCSETIF, &mut ifr) } {
        return Ok(Err(Refused(code)));
    }
    let mut one: u32 = 1;
    // SAFETY: a u32 on this stack frame, read by the kernel.
    unsafe { ioctl_fd(fd, BIOCIMMEDIATE, &mut one) }.map_err(err)?;
    let mut one: u32 = 1;
    // SAFETY: as above.
    unsafe { ioctl_fd(fd, BIOCSHDRCMPLT, &mut one) }.map_err(err)?;
    let mut insns = filter();
    let mut prog = bpf_program { bf_len: insns.len() as u32, bf_insns: insns.as_mut_ptr() };
    // SAFETY: `bf_insns` points to `insns`, `bf_len` instructions on this
    // stack frame, alive for the call; `bpf_setf` copies them in.
    unsafe { ioctl_fd(fd, BIOCSETF, &mut prog) }.map_err(err)?;
    Ok(Ok((file, (blen as usize).clamp(4096, 1 << 20))))
}

/// The exchange on bpf; `Ok(Err(Refused))` when bpf cannot be used, for
/// the caller's fallback.
pub(super) fn probe(
    lagg: &IfName,
    x: &ProbeExchange,
) -> Result<Result<ProbeResult, Refused>, KernelError> {
    let op = Op::Probe;
    let (mut file, blen) = match open(op, lagg)? {
        Ok(ok) => ok,
        Err(refused) => return Ok(Err(refused)),
    };
    let err = |code| KernelError::errno(op, Some(lagg), Errno::from_code(code));
    let start = Instant::now();
    let mut result = ProbeResult::default();
    let mut next = 0;
    let mut buf = vec![0u8; blen];
    loop {
        let now = start.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
        while let Some(send) = x.sends.get(next).filter(|s| s.at_ms <= now && s.at_ms < x.budget_ms)
        {
            let frame = frames::encode(&send.frame, x.from);
            file.write_all(&frame).map_err(|e| err(e.raw_os_error().unwrap_or(abi::EIO)))?;
            result.sent += 1;
            next += 1;
        }
        if now >= x.budget_ms {
            result.elapsed_ms = x.budget_ms;
            return Ok(Ok(result));
        }
        let due = x.sends.get(next).map_or(x.budget_ms, |s| s.at_ms.min(x.budget_ms));
        let wait = due.saturating_sub(now).max(1);
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(u16::try_from(wait).unwrap_or(u16::MAX))) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Err(err(e as i32)),
        }
        let got = match file.read(&mut buf) {
            Ok(got) => got,
            Err(e) if matches!(e.kind(), ErrorKind::Interrupted | ErrorKind::WouldBlock) => {
                continue
            }
            Err(e) => return Err(err(e.raw_os_error().unwrap_or(abi::EIO))),
        };
        let at_ms = start.elapsed().as_millis().min(u128::from(x.budget_ms)) as u32;
        for heard in records(&buf[..got]).filter_map(frames::decode) {
            // The latest frame sent for the address that answered.
            let send = x.sends[..next].iter().rposition(|s| s.frame.target() == heard.ip);
            if let Some(send) = send {
                result.replies.push(ProbeReply { send, ip: heard.ip, mac: heard.mac, at_ms });
            }
        }
        if !result.replies.is_empty() {
            result.elapsed_ms = at_ms;
            return Ok(Ok(result));
        }
    }
}

/// The frames of one read: `bpf_hdr`, then `bh_caplen` bytes at
/// `bh_hdrlen`, each record `BPF_WORDALIGN`ed.
fn records(buf: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let hdr = buf.get(at..at + core::mem::size_of::<n::bpf_hdr>())?;
        let caplen = u32::from_ne_bytes(hdr[16..20].try_into().ok()?) as usize;
        let hdrlen = usize::from(u16::from_ne_bytes(hdr[24..26].try_into().ok()?));
        let frame = buf.get(at + hdrlen..at + hdrlen + caplen)?;
        at += n::bpf_wordalign(hdrlen + caplen);
        Some(frame)
    })
}
