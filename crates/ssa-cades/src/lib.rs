#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod asn1;
pub mod oid;
