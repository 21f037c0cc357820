//! A logged-in token: the anchor session that holds the login, and a pool
//! of sessions for many threads.
//!
//! Login belongs to the token, not to a session: once one session of the
//! process logs in, every session is logged in, and the token logs out when
//! the last one closes. The anchor session is opened first, logs in, and is
//! kept for as long as the token is in use, so pooled sessions can come and
//! go. A `Session` is `Send` but not `Sync`: a thread takes one out of the
//! pool, uses it alone and puts it back.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, Weak};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;

use crate::{Pin, ScdevError};

/// Tokens logged in by this process, by (module, label).
type Registry = Mutex<HashMap<(PathBuf, String), Weak<Token>>>;
static TOKENS: OnceLock<Registry> = OnceLock::new();

pub(super) struct Token {
    pub(super) pkcs11: Pkcs11,
    /// Where the token is now: found again by its label when the module
    /// says the slot is gone (re-initialised, token pulled out and put back).
    slot: RwLock<Slot>,
    pub(super) label: String,
    pin: Pin,
    anchor: Mutex<Option<Session>>,
    pool: Mutex<Vec<Session>>,
    /// Held shared by every operation that only uses objects, and exclusive
    /// by those that create or destroy them. This makes "is the id free?"
    /// and "create it" one step within the process, and it keeps SoftHSM2
    /// 2.6 from corrupting an object that is being written while another
    /// thread reads the token (its file store locks per process, not per
    /// thread: SoftHSMv2 issue #573). Signing threads still run in parallel.
    objects: RwLock<()>,
    /// Private-key handles by key id, so a signature needs no object search.
    /// Every use re-reads the handle's `CKA_ID` (a handle the module reused
    /// for another object can never sign for this id); the cache is emptied
    /// whenever objects are created or destroyed and when sessions are lost.
    pub(super) handles:
        RwLock<HashMap<crate::KeyId, (cryptoki::object::ObjectHandle, crate::KeyAlgorithm)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves nothing half-done
    // that matters (sessions are re-checked on use), so carry on.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Errors after which the operation is retried once on a fresh session
/// (after logging in again if the login was lost with the old sessions).
fn session_lost(error: &ScdevError) -> bool {
    matches!(
        error.ckr(),
        Some(
            RvError::SessionHandleInvalid
                | RvError::SessionClosed
                | RvError::DeviceRemoved
                | RvError::UserNotLoggedIn
        )
    )
}

/// Errors after which the token is looked up again by its label (its slot
/// number may have changed), and the operation retried once.
fn slot_lost(error: &ScdevError) -> bool {
    matches!(
        error.ckr(),
        Some(
            RvError::SlotIdInvalid
                | RvError::TokenNotPresent
                | RvError::TokenNotRecognized
                | RvError::DeviceRemoved
        )
    )
}

fn logged_in(session: &Session) -> bool {
    matches!(
        session.get_session_info().map(|info| info.session_state()),
        Ok(SessionState::RwUser | SessionState::RoUser)
    )
}

impl Token {
    /// The token of `label` in `module`, logged in with `pin`. A process logs
    /// in to a token once; opening it again with a different PIN is refused
    /// without asking the token (which would answer "already logged in").
    pub(super) fn open(
        module: PathBuf,
        pkcs11: Pkcs11,
        label: &str,
        pin: &Pin,
    ) -> Result<Arc<Token>, ScdevError> {
        let registry = TOKENS.get_or_init(Mutex::default);
        let mut registry = lock(registry);
        let key = (module, label.to_owned());
        if let Some(token) = registry.get(&key).and_then(Weak::upgrade) {
            return if token.pin.matches(pin) {
                Ok(token)
            } else {
                Err(ScdevError::PinIncorrect {
                    label: label.to_owned(),
                    source: None,
                })
            };
        }
        let slot = super::find_slot(&pkcs11, label)?;
        let token = Arc::new(Token {
            pkcs11,
            slot: RwLock::new(slot),
            label: label.to_owned(),
            pin: pin.clone(),
            anchor: Mutex::new(None),
            pool: Mutex::new(Vec::new()),
            objects: RwLock::new(()),
            handles: RwLock::new(HashMap::new()),
        });
        token.ensure_login()?;
        registry.retain(|_, weak| weak.strong_count() > 0);
        registry.insert(key, Arc::downgrade(&token));
        Ok(token)
    }

    /// Makes sure the anchor session is open and the token logged in.
    fn ensure_login(&self) -> Result<(), ScdevError> {
        let mut anchor = lock(&self.anchor);
        if let Some(session) = anchor.as_ref() {
            if logged_in(session) {
                return Ok(());
            }
            if session.get_session_info().is_err() {
                *anchor = None;
            }
        }
        let session = match anchor.take() {
            Some(session) => session,
            None => self
                .pkcs11
                .open_rw_session(self.slot())
                .map_err(ScdevError::pkcs11("C_OpenSession"))?,
        };
        let pin = AuthPin::from(self.pin.expose());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {
                *anchor = Some(session);
                Ok(())
            }
            Err(source @ Error::Pkcs11(RvError::PinIncorrect, _)) => {
                Err(ScdevError::PinIncorrect {
                    label: self.label.clone(),
                    source: Some(source),
                })
            }
            Err(source @ Error::Pkcs11(RvError::PinLocked, _)) => Err(ScdevError::PinLocked {
                label: self.label.clone(),
                source,
            }),
            Err(e) => Err(ScdevError::pkcs11("C_Login")(e)),
        }
    }

    /// The token's slot, as last found.
    pub(super) fn slot(&self) -> Slot {
        *self
            .slot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looks the token up again by its label: every session of the old
    /// slot is dropped.
    fn find_again(&self) -> Result<(), ScdevError> {
        let slot = super::find_slot(&self.pkcs11, &self.label)?;
        *self
            .slot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = slot;
        lock(&self.pool).clear();
        *lock(&self.anchor) = None;
        self.forget_handles();
        Ok(())
    }

    /// After a lost session or slot: drops the pooled sessions, finds the
    /// token again if its slot is gone, and logs in again.
    fn reconnect(&self, error: &ScdevError) -> Result<(), ScdevError> {
        lock(&self.pool).clear();
        self.forget_handles();
        let mut found_again = false;
        if slot_lost(error) {
            self.find_again()?;
            found_again = true;
        }
        match self.ensure_login() {
            // The old slot showed only when a new session was asked of it.
            Err(e) if slot_lost(&e) && !found_again => {
                self.find_again()?;
                self.ensure_login()
            }
            result => result,
        }
    }

    pub(super) fn forget_handles(&self) {
        self.handles
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    fn checkout(&self) -> Result<Session, ScdevError> {
        if let Some(session) = lock(&self.pool).pop() {
            return Ok(session);
        }
        let session = self
            .pkcs11
            .open_rw_session(self.slot())
            .map_err(ScdevError::pkcs11("C_OpenSession"))?;
        if !logged_in(&session) {
            // The login went with sessions closed behind our back.
            self.ensure_login()?;
        }
        Ok(session)
    }

    fn checkin(&self, session: Session) {
        lock(&self.pool).push(session);
    }

    /// Runs `operation`, which only uses existing objects, on a pooled session.
    pub(super) fn with_session<T>(
        &self,
        operation: impl Fn(&Session) -> Result<T, ScdevError>,
    ) -> Result<T, ScdevError> {
        let _shared = self
            .objects
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.run(operation)
    }

    /// Runs `operation`, which creates or destroys objects, alone.
    pub(super) fn with_session_exclusive<T>(
        &self,
        operation: impl Fn(&Session) -> Result<T, ScdevError>,
    ) -> Result<T, ScdevError> {
        let _exclusive = self
            .objects
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.forget_handles();
        let result = self.run(operation);
        self.forget_handles();
        result
    }

    /// Runs `operation` on a pooled session. If the session turns out to be
    /// gone (closed, device removed, logged out) or the slot with it (the
    /// module re-initialised, the token put back in another slot), every
    /// pooled session is dropped, the token found again by its label if
    /// need be, the login restored, and `operation` retried once on a fresh
    /// session.
    fn run<T>(
        &self,
        operation: impl Fn(&Session) -> Result<T, ScdevError>,
    ) -> Result<T, ScdevError> {
        match self.attempt(&operation) {
            Err(e) if session_lost(&e) || slot_lost(&e) => {
                self.reconnect(&e)?;
                self.attempt(&operation)
            }
            result => result,
        }
    }

    /// `operation` on a pooled session, which goes back to the pool unless
    /// it turned out to be gone.
    fn attempt<T>(
        &self,
        operation: &impl Fn(&Session) -> Result<T, ScdevError>,
    ) -> Result<T, ScdevError> {
        let session = self.checkout()?;
        let result = operation(&session);
        if !matches!(&result, Err(e) if session_lost(e) || slot_lost(e)) {
            self.checkin(session);
        }
        result
    }
}
