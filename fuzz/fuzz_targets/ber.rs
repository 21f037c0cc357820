//! The BER reader on untrusted bytes: a typed refusal or DER, never a
//! panic or a stack overflow; and what it writes, read again, is itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ssa_cades::ber::to_der;

fuzz_target!(|data: &[u8]| {
    if let Ok(der) = to_der(data) {
        assert_eq!(to_der(&der).as_deref(), Ok(&der[..]), "not idempotent");
    }
});
