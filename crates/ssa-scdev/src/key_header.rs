//! The public description of a key that travels in front of its sealed
//! private part, both in a soft store record and in a backup. It is the
//! associated data of the AES-GCM seal, so any change to it is detected.
//!
//! ```text
//! algorithm (1) | flags (1) | id len (1) | id | label len (1) | label | spki len (2, BE) | spki
//! ```

use crate::key::check_label;
use crate::{KeyAlgorithm, KeyId, KeyInfo};

const FLAG_BACKUP_ALLOWED: u8 = 0x01;

/// Encodes the public description of a key.
pub(crate) fn encode(info: &KeyInfo, out: &mut Vec<u8>) -> Option<()> {
    out.push(info.algorithm.code());
    out.push(if info.backup_allowed {
        FLAG_BACKUP_ALLOWED
    } else {
        0
    });
    push_short(out, info.id.as_bytes())?;
    push_short(out, info.label.as_bytes())?;
    let spki_len = u16::try_from(info.public_key.len()).ok()?;
    out.extend(spki_len.to_be_bytes());
    out.extend(&info.public_key);
    Some(())
}

fn push_short(out: &mut Vec<u8>, bytes: &[u8]) -> Option<()> {
    out.push(u8::try_from(bytes.len()).ok()?);
    out.extend(bytes);
    Some(())
}

/// Reads untrusted bytes front to back; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.rest.len() < n {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    pub(crate) fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub(crate) fn rest(self) -> &'a [u8] {
        self.rest
    }

    /// Decodes a key description. The result is not yet authenticated: it
    /// becomes trustworthy only once the seal behind it opens.
    pub(crate) fn key_info(&mut self) -> Option<KeyInfo> {
        let algorithm = KeyAlgorithm::from_code(self.byte()?)?;
        let flags = self.byte()?;
        if flags & !FLAG_BACKUP_ALLOWED != 0 {
            return None;
        }
        let id_len = usize::from(self.byte()?);
        let id = KeyId::new(self.take(id_len)?.to_vec()).ok()?;
        let label_len = usize::from(self.byte()?);
        let label = String::from_utf8(self.take(label_len)?.to_vec()).ok()?;
        check_label(&label).ok()?;
        let spki_len = self.take(2)?;
        let spki_len = usize::from(u16::from_be_bytes([spki_len[0], spki_len[1]]));
        let public_key = self.take(spki_len)?.to_vec();
        let parsed = crate::PublicKey::from_spki_der(&public_key)?;
        if parsed.algorithm != algorithm {
            return None;
        }
        Some(KeyInfo {
            id,
            label,
            algorithm,
            backup_allowed: flags & FLAG_BACKUP_ALLOWED != 0,
            public_key,
        })
    }
}
