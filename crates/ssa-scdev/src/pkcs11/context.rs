//! One PKCS#11 context per module per process.
//!
//! `C_Initialize` must run once per process: calling it in parallel can
//! crash a module (SoftHSM2 does), and `C_Finalize` by one user would pull
//! the module out from under all others. So every [`Pkcs11Scdev`](super::Pkcs11Scdev)
//! of a process shares the context made here, initialised with
//! `CKF_OS_LOCKING_OK`, and it is never finalised.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::slot::Slot;

use crate::ScdevError;

static CONTEXTS: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();

/// The process-wide context of the PKCS#11 module at `module`, loaded and
/// initialised on first use.
///
/// Use it for token administration (initialising tokens, provisioning a
/// backup key) so that the process still has only one context.
pub fn context(module: &Path) -> Result<Pkcs11, ScdevError> {
    let module = module.canonicalize().map_err(|_| ScdevError::Pkcs11 {
        operation: "find module",
        source: Error::InvalidValue,
    })?;
    let contexts = CONTEXTS.get_or_init(Mutex::default);
    let mut contexts = contexts.lock().map_err(|_| ScdevError::Pkcs11 {
        operation: "lock context registry",
        source: Error::InvalidValue,
    })?;
    if let Some(pkcs11) = contexts.get(&module) {
        return Ok(pkcs11.clone());
    }
    let pkcs11 = Pkcs11::new(&module).map_err(ScdevError::pkcs11("load module"))?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Someone else in this process (outside this crate) initialised it: share it.
        Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(ScdevError::pkcs11("C_Initialize")(e)),
    }
    contexts.insert(module, pkcs11.clone());
    Ok(pkcs11)
}

/// The slot whose token carries `label` (never a slot number: SoftHSM2
/// numbers slots at random after initialisation).
pub fn find_slot(pkcs11: &Pkcs11, label: &str) -> Result<Slot, ScdevError> {
    let mut found = None;
    for slot in pkcs11
        .get_slots_with_initialized_token()
        .map_err(ScdevError::pkcs11("C_GetSlotList"))?
    {
        let info = pkcs11
            .get_token_info(slot)
            .map_err(ScdevError::pkcs11("C_GetTokenInfo"))?;
        if info.label().trim_end() == label {
            if found.is_some() {
                return Err(ScdevError::TokenAmbiguous {
                    label: label.to_owned(),
                });
            }
            found = Some(slot);
        }
    }
    found.ok_or_else(|| ScdevError::TokenNotFound {
        label: label.to_owned(),
    })
}
