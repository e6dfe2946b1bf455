//! The single integration-test binary (one link, one run; as ripgrep does).

/// ABI: struct sizes, offsets and request numbers vs FreeBSD's own headers.
mod abi;
