//! Reading a certificate the user names on the command line.

use std::path::Path;

/// A certificate from a PEM or DER file.
pub(crate) fn read(path: &Path) -> Result<x509_cert::Certificate, Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let der = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN CERTIFICATE-----") => {
            let body: String = text
                .lines()
                .skip_while(|line| !line.starts_with("-----BEGIN CERTIFICATE-----"))
                .skip(1)
                .take_while(|line| !line.starts_with("-----END"))
                .map(str::trim)
                .collect();
            <base64ct::Base64 as base64ct::Encoding>::decode_vec(&body)
                .map_err(|_| format!("{}: not a PEM certificate", path.display()))?
        }
        _ => bytes,
    };
    Ok(
        der::Decode::from_der(&der)
            .map_err(|_| format!("{}: not a certificate", path.display()))?,
    )
}
