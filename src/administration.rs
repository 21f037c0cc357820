//! Administration: unlocking, disabling, delegations, key backup and
//! restore. Every act is an administrator's and is audited.

use std::time::SystemTime;

use der::Decode;
use ssa_audit::{Entry, Event, Outcome};
use ssa_scdev::HashAlgorithm;
use x509_cert::Certificate;

use crate::service::{hex, key_id_of};
use crate::{ServiceError, SigningService};

impl SigningService {
    /// Unlocks a locked credential (an administrator's act).
    pub fn unlock(
        &self,
        credential: &str,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let result = self
            .inner
            .issuer
            .as_ref()
            .ok_or(ServiceError::NoIssuer)
            .and_then(|i| i.unlock(credential).map_err(ServiceError::from));
        self.audited(
            Entry::new(Event::Unlock, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }

    /// Gives back the ledger's reservations made before `reserved_before`
    /// (an administrator's act, after a crash left SADs reserved: see
    /// docs/operations.md), one `ReservationReleased` record each, as one
    /// unit. A signing still running under one finds its commit refused
    /// and delivers nothing, so choose a bound well past the longest
    /// signing (time-stamp and revocation deadlines included).
    pub fn release_stale_reservations(
        &self,
        reserved_before: SystemTime,
        admin: &str,
        now: SystemTime,
    ) -> Result<Vec<ssa_store::Reservation>, ServiceError> {
        let released = self
            .inner
            .sam
            .release_stale(ssa_types::UnixTime::from(reserved_before))?;
        let entries = released
            .iter()
            .map(|r| {
                Entry::new(
                    Event::ReservationReleased {
                        sad_id: r.jti().to_owned(),
                        reservation: r.id().to_owned(),
                    },
                    admin,
                    Outcome::Success,
                )
            })
            .collect();
        self.inner
            .audit
            .append_all(entries, crate::service::secs(now))?;
        Ok(released)
    }

    /// Disables a credential for good (an administrator's act).
    pub fn disable(
        &self,
        credential: &str,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let result = self
            .inner
            .registry
            .update(credential, &|r| r.disabled = true)
            .map(|_| ());
        self.audited(
            Entry::new(Event::CredentialDisabled, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }

    /// Sets the credential's claimed role and delegation attribute
    /// certificates, after checking each: the role is a URI (RFC 5755
    /// `RoleSyntax`, see [`ssa_cades::delegation::role_syntax`]); each
    /// certificate's holder is the credential's certificate, it is valid
    /// now, a trusted attribute authority signed it.
    pub fn set_delegation(
        &self,
        credential: &str,
        claimed_role: Option<String>,
        certificates: Vec<Vec<u8>>,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let entry = Entry::new(
            Event::Delegation {
                count: certificates.len() as u64,
                certificates_sha256: certificates
                    .iter()
                    .map(|c| hex(&HashAlgorithm::Sha256.digest(c)))
                    .collect(),
            },
            admin,
            Outcome::Success,
        )
        .credential(credential);
        let result = (|| {
            let record = self.credential(credential)?;
            let holder = record
                .chain
                .first()
                .ok_or_else(|| ServiceError::NoCertificate {
                    credential: credential.to_owned(),
                })
                .and_then(|der| {
                    Certificate::from_der(der).map_err(|_| ServiceError::Corrupt {
                        what: "certificate",
                    })
                })?;
            if let Some(role) = &claimed_role {
                ssa_cades::delegation::role_syntax(role)?;
            }
            for der in &certificates {
                ssa_cades::delegation::check_delegation(
                    der,
                    &holder,
                    &self.inner.attribute_authorities,
                    now,
                )?;
            }
            self.inner.registry.update(credential, &|r| {
                r.claimed_role = claimed_role.clone();
                r.delegations = certificates.clone();
            })?;
            Ok(())
        })();
        self.audited(entry, now, result)
    }

    /// Exports the credential's key wrapped under the SCDev's backup key
    /// (only for keys generated backup-able; never in plaintext).
    pub fn backup_key(
        &self,
        credential: &str,
        admin: &str,
        now: SystemTime,
    ) -> Result<ssa_scdev::WrappedKey, ServiceError> {
        let result = self
            .credential(credential)
            .and_then(|record| key_id_of(&record))
            .and_then(|key| {
                self.inner
                    .scdev
                    .export_wrapped(&key)
                    .map_err(ServiceError::from)
            });
        self.audited(
            Entry::new(Event::KeyBackup, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }

    /// Restores the credential's key from a backup made for it; the
    /// restored key must be the credential's (same public key).
    pub fn restore_key(
        &self,
        credential: &str,
        backup: &ssa_scdev::WrappedKey,
        admin: &str,
        now: SystemTime,
    ) -> Result<(), ServiceError> {
        let result = (|| {
            let record = self.credential(credential)?;
            if backup.key_info().public_key != record.public_key {
                return Err(ServiceError::BackupForAnotherKey {
                    credential: credential.to_owned(),
                });
            }
            let key = key_id_of(&record)?;
            self.inner.scdev.import_wrapped(&key, backup)?;
            Ok(())
        })();
        self.audited(
            Entry::new(Event::KeyRestore, admin, Outcome::Success).credential(credential),
            now,
            result,
        )
    }
}
