//! Archive time-stamps (CAdES B-LTA, EN 319 122-1 §5.5): the
//! archive-time-stamp-v3 attribute, whose time-stamp token carries the
//! ats-hash-index-v3 of what it covers.

use cms::content_info::ContentInfo;
use der::asn1::{OctetString, SetOfVec};
use der::{Decode, Encode};
use ssa_types::HashAlgorithm;

use crate::algorithm::digest_algorithm;
use crate::asn1::{AtsHashIndexV3, SignedData};
use crate::raw::{ArchiveParts, UnsignedParts};
use crate::tsa::TimeStampAuthority;
use crate::{CadesError, extend, oid, raw};

/// What a detached or enveloping signature signs, for the archive
/// time-stamp's "hash of the signed data" (EN 319 122-1 §5.5.3, step 2).
#[derive(Clone, Copy, Debug)]
pub enum SignedContent<'a> {
    /// The document.
    Bytes(&'a [u8]),
    /// The document's digest: its hash must be the archive time-stamp's.
    Digest {
        /// Its hash.
        hash: HashAlgorithm,
        /// The digest.
        value: &'a [u8],
    },
    /// The document is in the signature (enveloping).
    Enveloped,
    /// Each SignerInfo's own message-digest attribute: the hash of the
    /// content it signed, under its digest algorithm, which each archive
    /// time-stamp then uses. For augmenting a signature whose document is
    /// not at hand (a batch of detached signatures).
    SignersDigest,
}

impl SignedContent<'_> {
    /// The content's digest under `hash`, `None` if it cannot be had
    /// (a digest under another hash, no enveloped content).
    pub(crate) fn digest(&self, hash: HashAlgorithm, signed: &SignedData) -> Option<Vec<u8>> {
        match *self {
            Self::Bytes(bytes) => Some(hash.digest(bytes)),
            Self::Digest { hash: given, value } => (given == hash).then(|| value.to_vec()),
            Self::Enveloped => {
                let content = signed
                    .encap_content_info
                    .econtent
                    .as_ref()?
                    .decode_as::<OctetString>()
                    .ok()?;
                Some(hash.digest(content.as_bytes()))
            }
            Self::SignersDigest => None,
        }
    }
}

/// The ats-hash-index-v3 of a SignerInfo as it is now (§5.5.2): every
/// certificate, revocation value and unsigned attribute value, hashed
/// whole, in the order they appear.
pub(crate) fn hash_index(
    parts: &ArchiveParts,
    unsigned: &UnsignedParts,
    hash: HashAlgorithm,
) -> Result<AtsHashIndexV3, der::Error> {
    let hashed = |items: &mut dyn Iterator<Item = &[u8]>| -> Result<Vec<OctetString>, der::Error> {
        items
            .map(|item| OctetString::new(hash.digest(item)))
            .collect()
    };
    // attrType followed by one value: hashed as one stream, not copied.
    let attribute_value = |attr_type: &[u8], value: &[u8]| -> Result<OctetString, der::Error> {
        let mut context = ring::digest::Context::new(hash.ring_algorithm());
        context.update(attr_type);
        context.update(value);
        OctetString::new(context.finish().as_ref())
    };
    Ok(AtsHashIndexV3 {
        hash_ind_algorithm: digest_algorithm(hash),
        certificates_hash_index: hashed(&mut parts.certificates.iter().map(Vec::as_slice))?,
        crls_hash_index: hashed(&mut parts.crls.iter().map(Vec::as_slice))?,
        unsigned_attr_values_hash_index: unsigned
            .iter()
            .flat_map(|(attr_type, values)| {
                values.iter().map(move |v| attribute_value(attr_type, v))
            })
            .collect::<Result<_, _>>()?,
    })
}

/// The archive time-stamp's imprint input (§5.5.3): eContentType, the
/// signed data's hash, the SignerInfo's fields up to its signature, and
/// the ats-hash-index-v3 value, each as encoded.
pub(crate) fn imprint_input(
    parts: &ArchiveParts,
    content_hash: &[u8],
    signed_fields: &[u8],
    index_der: &[u8],
) -> Vec<u8> {
    [
        parts.e_content_type.as_slice(),
        content_hash,
        signed_fields,
        index_der,
    ]
    .concat()
}

fn not(reason: &'static str) -> CadesError {
    CadesError::NotExtendable { reason }
}

/// Adds an archive-time-stamp-v3 from `tsa` (imprint under `hash`, or
/// under each signer's digest algorithm with [`SignedContent::SignersDigest`])
/// to every SignerInfo of `signature` that has none (B-LT to B-LTA; the
/// others keep their bytes), or, when all have one, a further one to each
/// that covers the earlier (renewal). What it covers is
/// `signature` as it is: add the validation data first
/// ([`crate::add_validation_data`]). Every byte already there stays.
pub fn add_archive_time_stamp(
    signature: &[u8],
    content: SignedContent<'_>,
    tsa: &dyn TimeStampAuthority,
    hash: HashAlgorithm,
) -> Result<Vec<u8>, CadesError> {
    let mut signed = extend::parse(signature)?;
    let parts = raw::archive_parts(signature).map_err(|_| not("malformed SignedData"))?;
    let mut infos: Vec<cms::signed_data::SignerInfo> =
        signed.signer_infos.0.iter().cloned().collect();
    // Signers without an archive time-stamp get one, the others stay byte
    // for byte; when every signer has one, every signer gets a further one.
    let archived = |info: &cms::signed_data::SignerInfo| {
        extend::has_unsigned(info, oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3)
    };
    let renewal = infos.iter().all(archived);
    for raw_info in raw::signer_infos(signature)? {
        let info = infos
            .iter_mut()
            .find(|info| info.to_der().is_ok_and(|der| der == raw_info))
            .ok_or(not("a SignerInfo is not DER"))?;
        if !renewal && archived(info) {
            continue;
        }
        let (signed_fields, unsigned) =
            raw::signer_parts(&raw_info).map_err(|_| not("malformed SignerInfo"))?;
        let (hash, content_hash) = match content {
            SignedContent::SignersDigest => signers_digest(info)?,
            _ => (
                hash,
                content.digest(hash, &signed).ok_or(not(
                    "the signed content's hash under the archive hash is not at hand",
                ))?,
            ),
        };
        let index = hash_index(&parts, &unsigned, hash)?.to_der()?;
        let input = imprint_input(&parts, &content_hash, &signed_fields, &index);
        let token = tsa.time_stamp(hash, &hash.digest(&input))?;
        let token = with_hash_index(&token, &index)?;
        extend::push_unsigned(info, oid::ID_AA_ETS_ARCHIVE_TIMESTAMP_V3, &token)?;
    }
    signed.signer_infos.0 = SetOfVec::try_from(infos)?;
    extend::reencode(signature, &signed)
}

/// A SignerInfo's digest algorithm and message-digest attribute value.
fn signers_digest(
    info: &cms::signed_data::SignerInfo,
) -> Result<(HashAlgorithm, Vec<u8>), CadesError> {
    let hash = crate::algorithm::hash_of(&info.digest_alg)
        .ok_or(not("a SignerInfo's digest algorithm is unknown"))?;
    let digest = info
        .signed_attrs
        .iter()
        .flat_map(|attrs| attrs.iter())
        .find(|a| a.oid == oid::ID_MESSAGE_DIGEST && a.values.len() == 1)
        .and_then(|a| a.values.iter().next())
        .and_then(|v| v.decode_as::<OctetString>().ok())
        .ok_or(not("a SignerInfo has no message-digest"))?;
    Ok((hash, digest.as_bytes().to_vec()))
}

/// `token` with the ats-hash-index-v3 attribute (`index`, DER) among its
/// SignerInfo's unsigned attributes; its signed part byte for byte.
fn with_hash_index(token: &[u8], index: &[u8]) -> Result<Vec<u8>, CadesError> {
    let info = ContentInfo::from_der(token).map_err(|_| not("malformed time-stamp token"))?;
    let mut signed: SignedData = info
        .content
        .decode_as()
        .map_err(|_| not("malformed time-stamp token"))?;
    let mut infos: Vec<cms::signed_data::SignerInfo> =
        signed.signer_infos.0.iter().cloned().collect();
    let [tsa_info] = infos.as_mut_slice() else {
        return Err(not("a time-stamp token with other than one SignerInfo"));
    };
    extend::push_unsigned(tsa_info, oid::ID_AA_ATS_HASH_INDEX_V3, index)?;
    signed.signer_infos.0 = SetOfVec::try_from(infos)?;
    extend::reencode(token, &signed)
}
