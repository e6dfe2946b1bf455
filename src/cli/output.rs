//! Standard output for the commands that print (`status`, `check`, `-n`,
//! `devd-conf`, `rc-conf`, `simulate`).

use std::io::{ErrorKind, Write};

use crate::domain::text;
use crate::run::error::Error;

/// Writes `text` to `out`. A reader that went away (`lagghook status |
/// head -1`) is not a failure: the rest of the text has no one to read it,
/// so the command ends as if it had printed everything, with status 0 and
/// no message. Rust ignores SIGPIPE, so this is EPIPE from write(2).
pub fn write_out(out: &mut dyn Write, text: &str) -> Result<(), Error> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Output(format!("standard output: {}", text::io_error(&e)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    struct Failing(ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_is_success_and_other_write_errors_are_not() {
        assert!(write_out(&mut Failing(ErrorKind::BrokenPipe), "x\n").is_ok());
        let err = write_out(&mut Failing(ErrorKind::StorageFull), "x\n").unwrap_err();
        assert!(err.to_string().starts_with("standard output: "), "{err}");
    }
}
