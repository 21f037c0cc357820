//! The verifier's parsing of untrusted CMS: any input gives a report,
//! never a panic. Archive time-stamps (B-LTA) are read before the
//! certificate path is judged, so their tokens and ats-hash-index-v3
//! values are reached without trust anchors.

#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;
use ssa_cades::{Document, VerifyOptions, verify};

fuzz_target!(|data: &[u8]| {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let report = verify(data, Document::Bytes(b"fuzz"), &VerifyOptions::new(&[], at));
    let _ = report.indication();
    // The ASN.1 types this crate defines, straight from the bytes.
    let _ = <ssa_cades::asn1::TstInfo as der::Decode>::from_der(data);
    let _ = <ssa_cades::asn1::SignedData as der::Decode>::from_der(data);
    let _ = <ssa_cades::asn1::OcspResponse as der::Decode>::from_der(data);
    let _ = <ssa_cades::asn1::AtsHashIndexV3 as der::Decode>::from_der(data);
    let _ = <ssa_cades::asn1::SignerAttributesV2 as der::Decode>::from_der(data);
});
