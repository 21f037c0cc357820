//! How the examples end: an error is printed as sentences with their
//! causes (not `Debug` output) and the exit status is non-zero.

use std::process::ExitCode;

/// The exit of `program` after `result`.
pub(crate) fn exit(program: &str, result: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let mut text = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            eprintln!("{program}: {text}");
            ExitCode::FAILURE
        }
    }
}
