//! Hostile nesting in BER input gives a typed refusal, never a stack
//! overflow. Run on a 2 MiB thread (the default for spawned threads, and
//! what a server's worker may have); CI runs this file in release too,
//! where frames are smaller and a missing bound shows at other depths.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::SystemTime;

use ssa_cades::ber::{BerError, MAX_DEPTH, to_der};
use ssa_cades::{Document, VerifyOptions, verify};

const STACK: usize = 2 * 1024 * 1024;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread overflowed its stack or panicked")
}

/// `30 80` × n, then `00 00` × n: n nested indefinite-length SEQUENCEs.
fn indefinite(n: usize) -> Vec<u8> {
    let mut out = [0x30, 0x80].repeat(n);
    out.extend([0, 0].repeat(n));
    out
}

/// n nested definite-length SEQUENCEs around an INTEGER (4-byte lengths).
fn definite(n: usize) -> Vec<u8> {
    let mut out = vec![0x02, 0x01, 0x05];
    for _ in 0..n {
        let len = out.len() as u32;
        let mut outer = vec![0x30, 0x84];
        outer.extend(len.to_be_bytes());
        outer.extend(out);
        out = outer;
    }
    out
}

/// n nested constructed OCTET STRINGs (indefinite) around one part.
fn octet_strings(n: usize) -> Vec<u8> {
    let mut out = [0x24, 0x80].repeat(n);
    out.extend([0x04, 0x01, 0xaa]);
    out.extend([0, 0].repeat(n));
    out
}

#[test]
fn one_hundred_thousand_indefinite_levels_are_refused() {
    let result = on_small_stack(|| to_der(&indefinite(100_000)));
    assert_eq!(result, Err(BerError::TooDeep { limit: MAX_DEPTH }));
}

#[test]
fn one_hundred_thousand_definite_levels_are_refused() {
    let result = on_small_stack(|| to_der(&definite(100_000)));
    assert_eq!(result, Err(BerError::TooDeep { limit: MAX_DEPTH }));
}

#[test]
fn deep_constructed_octet_strings_are_refused() {
    let result = on_small_stack(|| to_der(&octet_strings(100_000)));
    assert_eq!(result, Err(BerError::TooDeep { limit: MAX_DEPTH }));
}

#[test]
fn the_limit_itself_is_accepted_and_one_more_is_not() {
    // MAX_DEPTH + 1 nested values: depths 0..=MAX_DEPTH.
    let at_limit = on_small_stack(|| to_der(&indefinite(MAX_DEPTH + 1)));
    let der = at_limit.expect("nesting at the limit is read");
    // Each level adds a tag and a length (one byte below 128, else two).
    assert_eq!(der.len(), 2 * (MAX_DEPTH + 1) + 1);
    let over = on_small_stack(|| to_der(&indefinite(MAX_DEPTH + 2)));
    assert_eq!(over, Err(BerError::TooDeep { limit: MAX_DEPTH }));
    let octets = on_small_stack(|| to_der(&octet_strings(MAX_DEPTH)));
    assert_eq!(octets, Ok(vec![0x04, 0x01, 0xaa]));
    let octets_over = on_small_stack(|| to_der(&octet_strings(MAX_DEPTH + 1)));
    assert_eq!(octets_over, Err(BerError::TooDeep { limit: MAX_DEPTH }));
}

#[test]
fn the_verifier_reports_deep_ber_as_broken() {
    let report = on_small_stack(|| {
        let now = SystemTime::now();
        let options = VerifyOptions::new(&[], now);
        verify(&indefinite(100_000), Document::Bytes(b"doc"), &options)
    });
    assert_ne!(report.indication(), ssa_cades::Indication::TotalPassed);
    assert_eq!(
        report.format_error,
        Some("BER nesting deeper than the limit")
    );
}
