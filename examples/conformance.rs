//! The differential conformance harness's command: as root on FreeBSD 14
//! or 15, `cargo run --example conformance -- [OPTIONS]` plays kernel
//! happenings in a vnet jail of its own and on the simulator, prints the
//! report and exits 0 when nothing differed (`lagghook::conformance`).
fn main() {
    std::process::exit(lagghook::conformance::command::main());
}
