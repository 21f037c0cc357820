//! Signers' accounts: the password a signer logs in with (CSC
//! `auth/login`, HTTP Basic), kept as an Argon2id hash, and the count of
//! failed logins, which locks the account at the limit like a credential.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use ssa::Pin;
use ssa::sad::factor::pin;
use ssa::sad::{PinPolicy, SadError};
use ssa::store::{AccountStore, LockoutStore, StoreError};

/// Why a login or an account change failed. Never carries the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// Unknown signer or wrong password (not told apart).
    #[error("the user name or password is wrong ({failures} consecutive failures)")]
    Refused {
        /// Consecutive failures of this account so far (0 for an unknown one).
        failures: u32,
        /// This failure locked the account.
        locked: bool,
    },
    /// Too many failed logins: refused until an administrator unlocks.
    #[error("the account is locked")]
    Locked,
    /// The password cannot be set (too short).
    #[error("password refused: {0}")]
    Password(SadError),
    /// A store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The stored account is corrupt.
    #[error("the stored account is corrupt")]
    Corrupt,
}

#[derive(Serialize, Deserialize)]
struct AccountRecord {
    /// Argon2id PHC string of the password.
    password: String,
}

/// Signers' accounts over an [`AccountStore`], with failed logins counted
/// in a [`LockoutStore`] under `login:` + the signer's name.
#[derive(Debug, Clone)]
pub struct Accounts {
    store: Arc<dyn AccountStore>,
    lockout: Arc<dyn LockoutStore>,
    policy: PinPolicy,
    max_failures: u32,
    /// What a password for an unknown account is checked against, at the
    /// same cost, so an unknown name takes as long as a wrong password.
    decoy: String,
}

impl Accounts {
    /// Accounts in `store`, failures counted in `lockout`, locked after
    /// `max_failures` consecutive failures; passwords hashed with
    /// `policy` (its `min_len` is the shortest password).
    pub fn new(
        store: Arc<dyn AccountStore>,
        lockout: Arc<dyn LockoutStore>,
        policy: PinPolicy,
        max_failures: u32,
    ) -> Self {
        Self {
            store,
            lockout,
            policy,
            max_failures: max_failures.max(1),
            decoy: format!(
                "$argon2id$v=19$m={},t={},p={}$AAAAAAAAAAAAAAAAAAAAAA${}",
                policy.m_cost,
                policy.t_cost,
                policy.p_cost,
                "A".repeat(43)
            ),
        }
    }

    fn lockout_key(signer: &str) -> String {
        format!("login:{signer}")
    }

    /// Whether `signer` has an account.
    pub fn exists(&self, signer: &str) -> Result<bool, AccountError> {
        Ok(self.store.get(signer)?.is_some())
    }

    /// Sets (or replaces) `signer`'s password.
    pub fn set_password(&self, signer: &str, password: &Pin) -> Result<(), AccountError> {
        let phc = pin::hash(password, &self.policy).map_err(AccountError::Password)?;
        let record = serde_json::to_vec(&AccountRecord { password: phc })
            .map_err(|_| AccountError::Corrupt)?;
        self.store.put(signer, &record)?;
        Ok(())
    }

    /// Checks a login. A wrong password counts a failure (and locks at
    /// the limit); a right one resets the count. A locked account refuses
    /// every password, the right one too.
    pub fn login(&self, signer: &str, password: &Pin) -> Result<(), AccountError> {
        let Some(bytes) = self.store.get(signer)? else {
            // Same work as for a known account; nothing is stored for a
            // name that has no account.
            let _ = pin::verify(password, &self.decoy);
            return Err(AccountError::Refused {
                failures: 0,
                locked: false,
            });
        };
        let record: AccountRecord =
            serde_json::from_slice(&bytes).map_err(|_| AccountError::Corrupt)?;
        let key = Self::lockout_key(signer);
        if self.lockout.load(&key)?.locked {
            return Err(AccountError::Locked);
        }
        let right = pin::verify(password, &record.password).map_err(|_| AccountError::Corrupt)?;
        let max = self.max_failures;
        let change = self.lockout.update(&key, &|state| {
            let mut next = state.clone();
            if state.locked {
                return next;
            }
            if right {
                next.failures = 0;
            } else {
                next.failures = state.failures.saturating_add(1);
                next.locked = next.failures >= max;
            }
            next
        })?;
        if change.before.locked {
            return Err(AccountError::Locked);
        }
        if right {
            Ok(())
        } else {
            Err(AccountError::Refused {
                failures: change.after.failures,
                locked: change.after.locked,
            })
        }
    }

    /// Whether the stores take a write now: rewrites the state of a key no
    /// account uses, unchanged (a readiness probe; durable like any update).
    pub fn probe_write(&self) -> Result<(), AccountError> {
        self.lockout
            .update("readiness probe", &|state| state.clone())?;
        Ok(())
    }

    /// Unlocks `signer`'s account and resets its failure count.
    pub fn unlock(&self, signer: &str) -> Result<(), AccountError> {
        self.lockout
            .update(&Self::lockout_key(signer), &|_| Default::default())?;
        Ok(())
    }
}
