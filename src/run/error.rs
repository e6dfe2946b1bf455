//! The top-level error: every failure reaches the user once, as one line
//! `lagghook: …`, with one of the few exit statuses documented in
//! lagghook(8) EXIT STATUS.

use std::fmt;
use std::process::ExitCode;

use crate::domain::config::ConfigError;
use crate::domain::event::EventError;
use crate::domain::plan::Plan;
use crate::kernel::KernelError;
use crate::run::state::StateError;

/// lagghook(8) EXIT STATUS. The first four are a monitoring plugin's
/// (`status`: 0 converged, 1 degraded, 2 offline, 3 cannot tell), so a
/// monitor reads them as it reads any check; the others are sysexits(3)'s,
/// so that nothing a monitor could take for a verdict means a bad command
/// line, a bad configuration or an unwritable output.
pub mod exit {
    /// Done: converged, nothing to do, event ignored, configuration OK.
    pub const OK: u8 = 0;
    /// Some change failed (the others were made), the run did not converge
    /// within its rounds, `check` found problems, a scenario expectation
    /// failed, or `status` found a lagg degraded.
    pub const FAILED: u8 = 1;
    /// `status`: a configured lagg is offline or missing.
    pub const OFFLINE: u8 = 2;
    /// Cannot run now: no kernel backend on this OS, the kernel could not
    /// be observed, or another run held the lock too long.
    pub const UNAVAILABLE: u8 = 3;
    /// `EX_USAGE`: bad command line, event or scenario file, or a `setup`
    /// that cannot work out its changes: nothing was changed.
    pub const USAGE: u8 = 64;
    /// `EX_IOERR`: a file lagghook writes could not be written (a full
    /// disk, a file size limit, `/dev/full`): the standard output (a
    /// reader that went away is not this, see `output`), or after a run
    /// the state, history or identity file, each named; the kernel's
    /// changes stand.
    pub const OUTPUT: u8 = 74;
    /// `EX_CONFIG`: the configuration file is missing, unreadable or
    /// invalid: nothing was changed.
    pub const CONFIG: u8 = 78;
}

/// Everything that ends a run early or unsuccessfully.
#[derive(Debug)]
pub enum Error {
    Usage(String),
    Config(ConfigError),
    Event(EventError),
    /// A scenario or simulated-kernel file is unusable.
    Input(String),
    /// The standard output could not be written.
    Output(String),
    /// `setup` cannot work out the changes from what the kernel and the
    /// files show (no wired port with a carrier, two radios, an rc.conf
    /// value it cannot read): nothing was changed.
    Setup(String),
    Kernel(KernelError),
    State(StateError),
    /// Changes were made, but the simulated machine could not be written
    /// back: they are lost, and the state file was left as it was.
    NotSaved(String),
    /// `n` planned changes failed; each was already logged.
    ChangesFailed(usize),
    /// The run is done, but a file it keeps (state, history, identity)
    /// could not be written; each was already logged under its own name.
    NotRemembered,
    /// After `rounds` rounds a fresh observation still needs `pending`.
    NotConverged {
        rounds: usize,
        pending: Plan,
    },
    /// `check` found problems or a scenario failed; already printed.
    Unmet(usize),
    /// `status`: the worst lagg is degraded (1) or offline (2); the report
    /// says why.
    Verdict(u8),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Event(_) | Error::Input(_) | Error::Setup(_) => exit::USAGE,
            Error::Config(_) => exit::CONFIG,
            Error::Output(_) | Error::NotRemembered => exit::OUTPUT,
            Error::Kernel(_) | Error::State(_) => exit::UNAVAILABLE,
            Error::ChangesFailed(_)
            | Error::NotSaved(_)
            | Error::NotConverged { .. }
            | Error::Unmet(_) => exit::FAILED,
            // `status` speaks to monitoring: 1 degraded, 2 offline.
            Error::Verdict(n) => (*n).clamp(exit::FAILED, exit::OFFLINE),
        }
    }

    /// Errors whose details were already reported line by line.
    pub fn already_reported(&self) -> bool {
        matches!(
            self,
            Error::ChangesFailed(_) | Error::NotRemembered | Error::Unmet(_) | Error::Verdict(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => f.write_str(m),
            Error::Config(e) => write!(f, "{e}"),
            Error::Event(e) => write!(f, "{e}"),
            Error::Input(m) | Error::Output(m) => f.write_str(m),
            Error::Setup(m) => write!(f, "setup: {m}"),
            Error::Kernel(e) => write!(f, "{e}"),
            Error::State(e) => write!(f, "{e}"),
            Error::ChangesFailed(1) => f.write_str("1 change failed"),
            Error::ChangesFailed(n) => write!(f, "{n} changes failed"),
            Error::NotSaved(m) => write!(f, "changes made but not saved: {m}"),
            Error::NotRemembered => f.write_str("what the run did could not all be saved"),
            Error::NotConverged { rounds, pending } => {
                let actions: Vec<String> = pending.actions.iter().map(|a| a.to_string()).collect();
                write!(
                    f,
                    "not converged after {rounds} rounds; still to do: {}",
                    actions.join("; ")
                )
            }
            Error::Unmet(1) => f.write_str("1 problem"),
            Error::Unmet(n) => write!(f, "{n} problems"),
            Error::Verdict(1) => f.write_str("degraded"),
            Error::Verdict(_) => f.write_str("offline"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error::Config(e)
    }
}
impl From<EventError> for Error {
    fn from(e: EventError) -> Error {
        Error::Event(e)
    }
}
impl From<KernelError> for Error {
    fn from(e: KernelError) -> Error {
        Error::Kernel(e)
    }
}
impl From<StateError> for Error {
    fn from(e: StateError) -> Error {
        Error::State(e)
    }
}

/// The process exit status for a run's result.
pub fn exit_code(result: &Result<(), Error>) -> ExitCode {
    ExitCode::from(match result {
        Ok(()) => exit::OK,
        Err(e) => e.exit_code(),
    })
}
