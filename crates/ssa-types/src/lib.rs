#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod algorithm;
mod level;
mod mode;
mod pin;
mod public_key;
mod scal;
mod time;

pub use algorithm::{HashAlgorithm, KeyAlgorithm, PssSalt, SignatureAlgorithm};
pub use level::Level;
pub use mode::SigningMode;
pub use pin::{Pin, constant_time_eq};
pub use public_key::{InvalidSignature, PublicKey};
pub use scal::{Scal, UnknownScal};
pub use time::UnixTime;
