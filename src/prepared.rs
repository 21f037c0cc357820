//! What a signing request needs from its credential's record, parsed once
//! per version of the record.
//!
//! Every request still reads the record from its store (another process or
//! node may have installed a certificate, disabled the credential or
//! changed its factors a moment ago); what is kept is only the work that
//! follows from the record's bytes alone: the JSON decoded, the
//! certificate and chain parsed, the key's id and algorithm. An entry is
//! used only for exactly the bytes it was made from, so a changed record
//! is parsed afresh by the very next request, and no entry can answer for
//! another version. Checks that depend on the time or on the service's
//! policies run for every request (`SigningService::precheck`). What is
//! kept holds nothing secret in the clear (a record's factors are sealed).
//!
//! A version also keeps the last CAdES template it made for signatures
//! without optional attributes (`Prepared::template`): what such
//! signatures share depends only on the certificate, the chain, the
//! algorithm and the signing time, which is encoded to the second, so
//! requests within one second share one template.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use der::Decode;
use ssa_cades::{SignatureTemplate, SignedAttributeOptions};
use ssa_scdev::{KeyAlgorithm, KeyId, SignatureAlgorithm};
use ssa_store::StoredCredential;
use x509_cert::Certificate;

use crate::ServiceError;
use crate::registry::{CredentialRecord, decode};
use crate::signing::signing_key;

/// Credentials kept at most; past it the cache starts again (a few KiB
/// each).
const MAX_ENTRIES: usize = 1024;

/// One version of a credential's record, parsed.
pub(crate) struct Prepared {
    /// The stored bytes this was made from.
    stored: Vec<u8>,
    pub(crate) record: CredentialRecord,
    /// The end-entity certificate, if one is installed.
    pub(crate) certificate: Option<Certificate>,
    /// The rest of the chain.
    pub(crate) chain: Vec<Certificate>,
    pub(crate) key: KeyId,
    pub(crate) key_algorithm: KeyAlgorithm,
    /// The last template without optional attributes: its signing time
    /// (whole seconds since the epoch) and algorithm.
    template: Mutex<Option<(u64, SignatureAlgorithm, Arc<SignatureTemplate>)>>,
}

impl Prepared {
    fn parse(stored: &StoredCredential) -> Result<Self, ServiceError> {
        let record = decode(stored)?;
        let corrupt = |_| ServiceError::Corrupt {
            what: "certificate",
        };
        let certificate = record
            .chain
            .first()
            .map(|der| Certificate::from_der(der))
            .transpose()
            .map_err(corrupt)?;
        let chain = record
            .chain
            .iter()
            .skip(1)
            .map(|der| Certificate::from_der(der))
            .collect::<Result<_, _>>()
            .map_err(corrupt)?;
        let (key, key_algorithm) = signing_key(&record)?;
        Ok(Self {
            stored: stored.record.clone(),
            record,
            certificate,
            chain,
            key,
            key_algorithm,
            template: Mutex::new(None),
        })
    }

    /// The template of `algorithm` signatures at `now` with `attributes`
    /// by this certificate and chain: the kept one when `attributes` are
    /// empty and it was made for the same second and algorithm, else a
    /// new one (kept, if `attributes` are empty).
    pub(crate) fn template(
        &self,
        algorithm: SignatureAlgorithm,
        now: SystemTime,
        attributes: SignedAttributeOptions,
    ) -> Result<Arc<SignatureTemplate>, ServiceError> {
        let certificate = self.certificate.as_ref().ok_or(ServiceError::Corrupt {
            what: "certificate",
        })?;
        let second = now
            .duration_since(UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs())
            .filter(|_| attributes.is_empty());
        let mut kept = self
            .template
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let (Some(second), Some((at, made_for, template))) = (second, kept.as_ref())
            && *at == second
            && *made_for == algorithm
        {
            return Ok(Arc::clone(template));
        }
        let template = Arc::new(SignatureTemplate::new(
            certificate,
            &self.chain,
            algorithm,
            now,
            attributes,
        )?);
        if let Some(second) = second {
            *kept = Some((second, algorithm, Arc::clone(&template)));
        }
        Ok(template)
    }
}

/// Parsed records by credential id.
#[derive(Default)]
pub(crate) struct PreparedCache {
    entries: RwLock<HashMap<String, Arc<Prepared>>>,
}

impl PreparedCache {
    /// `stored` parsed: the kept entry if it was made from these very
    /// bytes, else parsed now (and kept, if it parses).
    pub(crate) fn prepare(&self, stored: &StoredCredential) -> Result<Arc<Prepared>, ServiceError> {
        if let Some(kept) = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&stored.id)
            && kept.stored == stored.record
            && kept.record.signer == stored.signer
        {
            return Ok(Arc::clone(kept));
        }
        let prepared = Arc::new(Prepared::parse(stored)?);
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&stored.id) {
            entries.clear();
        }
        entries.insert(stored.id.clone(), Arc::clone(&prepared));
        Ok(prepared)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};

    /// A stored record for credential `id` (no certificate yet).
    fn stored(id: &str, public_key: &[u8]) -> StoredCredential {
        let record = CredentialRecord {
            id: id.to_owned(),
            signer: "s".to_owned(),
            key_id: "6b6579".to_owned(),
            public_key: public_key.to_vec(),
            chain: Vec::new(),
            scal: ssa_types::Scal::Scal1,
            disabled: false,
            factors: ssa_sad::EnrolledFactors {
                signer: "s".to_owned(),
                scal: ssa_types::Scal::Scal1,
                pin: None,
                totp: None,
                device_key: None,
            },
            claimed_role: None,
            delegations: Vec::new(),
        };
        StoredCredential {
            id: id.to_owned(),
            signer: "s".to_owned(),
            record: serde_json::to_vec(&record).unwrap(),
        }
    }

    /// The SPKI of a new P-256 key.
    fn spki() -> Vec<u8> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        // SubjectPublicKeyInfo for id-ecPublicKey, prime256v1.
        let mut der = vec![
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        der.extend_from_slice(pair.public_key().as_ref());
        der
    }

    fn len(cache: &PreparedCache) -> usize {
        cache.entries.read().unwrap().len()
    }

    /// However many credentials sign, the cache holds at most
    /// `MAX_ENTRIES`; the same one again takes no second entry; one
    /// version is answered from the cache, another is parsed afresh.
    #[test]
    fn the_cache_is_bounded_and_keyed_by_the_record_bytes() {
        let cache = PreparedCache::default();
        let key = spki();
        for i in 0..MAX_ENTRIES {
            cache.prepare(&stored(&format!("c/{i}"), &key)).unwrap();
        }
        // Kept until full, not cleared before.
        assert_eq!(len(&cache), MAX_ENTRIES);
        for i in MAX_ENTRIES..MAX_ENTRIES + 10 {
            cache.prepare(&stored(&format!("c/{i}"), &key)).unwrap();
            assert!(len(&cache) <= MAX_ENTRIES, "{} entries", len(&cache));
        }
        let full = len(&cache);
        let again = stored(&format!("c/{}", MAX_ENTRIES + 9), &key);
        let first = cache.prepare(&again).unwrap();
        assert_eq!(len(&cache), full, "the same credential took a second entry");
        assert!(Arc::ptr_eq(&first, &cache.prepare(&again).unwrap()));
        let mut changed = again.clone();
        changed.record = serde_json::to_vec(&{
            let mut record = decode(&again).unwrap();
            record.disabled = true;
            record
        })
        .unwrap();
        let fresh = cache.prepare(&changed).unwrap();
        assert!(fresh.record.disabled);
        assert!(!Arc::ptr_eq(&first, &fresh));
    }
}
