//! The factors the built-in authenticator checks: a PIN (knowledge), a TOTP
//! authenticator and a device key (possession).

pub mod device;
pub mod pin;
pub mod totp;
