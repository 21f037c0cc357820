#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
// Test fixtures: failing loudly with a message is what they are for.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod faults;
pub mod loopback;
pub mod openssl;
pub mod pki;
pub mod postgres;
pub mod pyhanko;
pub mod revocation;
pub mod tsa;
pub mod webdriver;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use ssa_scdev::Pin;
use ssa_scdev::pkcs11::{Pkcs11Config, context, find_slot, provision_backup_key};

/// Where Debian and others install the SoftHSM2 module.
const MODULE_CANDIDATES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// The label of the trusted backup wrapping key on tokens made with backup.
pub const BACKUP_KEY_LABEL: &str = "ssa-test-backup";

/// A private SoftHSM2 for this process.
#[derive(Debug)]
pub struct SoftHsm {
    dir: tempfile::TempDir,
    module: PathBuf,
    create: Mutex<()>,
}

/// A token made by [`SoftHsm::create_token`].
#[derive(Debug, Clone)]
pub struct TestToken {
    /// The token label.
    pub label: String,
    /// The user PIN.
    pub user_pin: Pin,
    /// The Security Officer PIN.
    pub so_pin: Pin,
    /// Whether a trusted backup wrapping key was provisioned.
    pub with_backup: bool,
    module: PathBuf,
}

impl TestToken {
    /// The configuration that opens this token as its user.
    pub fn config(&self) -> Pkcs11Config {
        let config = Pkcs11Config::new(&self.module, &self.label, self.user_pin.clone());
        if self.with_backup {
            config.with_backup_key(BACKUP_KEY_LABEL)
        } else {
            config
        }
    }

    /// The user PIN as text (test tokens only).
    pub fn user_pin_text(&self) -> String {
        user_pin_for(&self.label)
    }
}

fn user_pin_for(label: &str) -> String {
    format!("user-{}", label.len() * 7919 % 100_000)
}

/// The SoftHSM2 module path: `SSA_SOFTHSM2_MODULE` if set, else the first
/// standard location that exists.
pub fn softhsm_module() -> PathBuf {
    if let Some(path) = std::env::var_os("SSA_SOFTHSM2_MODULE") {
        return PathBuf::from(path);
    }
    MODULE_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "SoftHSM2 is not installed (looked for {MODULE_CANDIDATES:?}); \
                 install it with `apt-get install softhsm2` (.ci/run does)"
            )
        })
}

/// This process's private SoftHSM2, set up on first use.
pub fn softhsm() -> &'static SoftHsm {
    static SOFTHSM: OnceLock<SoftHsm> = OnceLock::new();
    SOFTHSM.get_or_init(|| {
        let module = softhsm_module();
        let dir = tempfile::Builder::new()
            .prefix("ssa-softhsm-")
            .tempdir()
            .expect("temporary SoftHSM2 directory");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token directory");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .expect("SoftHSM2 configuration");
        set_softhsm_conf(&conf);
        // Load and initialise the one context of this process now, after
        // SOFTHSM2_CONF is set and before anything else can.
        context(&module).expect("load and initialise SoftHSM2");
        SoftHsm {
            dir,
            module,
            create: Mutex::new(()),
        }
    })
}

#[allow(unsafe_code)]
fn set_softhsm_conf(conf: &Path) {
    // SAFETY: runs once, inside the OnceLock initialiser, before this process
    // has loaded the PKCS#11 module (the only C code that reads this
    // variable). Rust code that reads the environment concurrently goes
    // through std's environment lock, which `set_var` also takes.
    unsafe { std::env::set_var("SOFTHSM2_CONF", conf) };
}

impl SoftHsm {
    /// The module path.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The token directory of this process.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Initialises a new token labelled `prefix` plus a counter (labels are
    /// unique within the process), sets its user PIN, and with `with_backup`
    /// provisions the trusted AES wrapping key [`BACKUP_KEY_LABEL`].
    pub fn create_token(&self, prefix: &str, with_backup: bool) -> TestToken {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let label = format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed));
        assert!(label.len() <= 32, "token label {label:?} is over 32 bytes");
        let user_pin = user_pin_for(&label);
        let so_pin = format!("so-{user_pin}");
        let _guard = self.create.lock().unwrap_or_else(|e| e.into_inner());
        let pkcs11 = context(&self.module).expect("PKCS#11 context");
        let free = pkcs11
            .get_all_slots()
            .expect("C_GetSlotList")
            .into_iter()
            .find(|slot| {
                pkcs11
                    .get_token_info(*slot)
                    .map(|info| !info.token_initialized())
                    .unwrap_or(false)
            })
            .expect("SoftHSM2 always offers one free slot");
        pkcs11
            .init_token(free, &AuthPin::from(so_pin.as_str()), &label)
            .expect("C_InitToken");
        let slot = find_slot(&pkcs11, &label).expect("new token by label");
        let session = pkcs11.open_rw_session(slot).expect("C_OpenSession");
        session
            .login(UserType::So, Some(&AuthPin::from(so_pin.as_str())))
            .expect("SO login");
        session
            .init_pin(&AuthPin::from(user_pin.as_str()))
            .expect("C_InitPIN");
        session.logout().expect("SO logout");
        drop(session);
        if with_backup {
            provision_backup_key(
                &self.module,
                &label,
                &Pin::new(so_pin.as_str()),
                BACKUP_KEY_LABEL,
            )
            .expect("provision backup key");
        }
        TestToken {
            label,
            user_pin: Pin::new(user_pin),
            so_pin: Pin::new(so_pin),
            with_backup,
            module: self.module.clone(),
        }
    }
}

/// Closes every session of this process on the token `label`
/// (`C_CloseAllSessions`), behind the back of every pool. This also logs
/// the token out, as closing its last session does.
#[allow(unsafe_code)]
pub fn close_all_sessions(label: &str) {
    let hsm = softhsm();
    let pkcs11 = context(hsm.module()).expect("PKCS#11 context");
    let slot = find_slot(&pkcs11, label).expect("token by label");
    // SAFETY: this opens the module that this process has already loaded and
    // initialised; the loader hands back the same library, so the call acts
    // on the same state. C_CloseAllSessions takes a slot id and no pointers.
    let rv = unsafe {
        let raw = cryptoki_sys::Pkcs11::new(hsm.module()).expect("load SoftHSM2 again");
        raw.C_CloseAllSessions(slot.id() as cryptoki_sys::CK_SLOT_ID)
    };
    assert_eq!(rv, cryptoki_sys::CKR_OK, "C_CloseAllSessions failed");
}

/// Re-initialises this process's SoftHSM2 (`C_Finalize`, then
/// `C_Initialize`) behind the back of every user: every session is gone,
/// and SoftHSM2 reloads its tokens from disk, numbering their slots afresh
/// (a token made in this process moves from its first slot number to one
/// derived from its serial), as a module re-initialised by another
/// component, or a token pulled out and put back, does.
#[allow(unsafe_code)]
pub fn reinitialize_module() {
    let hsm = softhsm();
    // SAFETY: this opens the module that this process has already loaded
    // and initialised; the loader hands back the same library, so the calls
    // act on the same state. C_Finalize takes a null reserved pointer;
    // C_Initialize takes arguments that live across the call.
    unsafe {
        let raw = cryptoki_sys::Pkcs11::new(hsm.module()).expect("load SoftHSM2 again");
        let rv = raw.C_Finalize(std::ptr::null_mut());
        assert_eq!(rv, cryptoki_sys::CKR_OK, "C_Finalize failed");
        let mut args = cryptoki_sys::CK_C_INITIALIZE_ARGS {
            CreateMutex: None,
            DestroyMutex: None,
            LockMutex: None,
            UnlockMutex: None,
            flags: cryptoki_sys::CKF_OS_LOCKING_OK,
            pReserved: std::ptr::null_mut(),
        };
        let rv = raw.C_Initialize(std::ptr::addr_of_mut!(args).cast());
        assert_eq!(rv, cryptoki_sys::CKR_OK, "C_Initialize failed");
    }
}
