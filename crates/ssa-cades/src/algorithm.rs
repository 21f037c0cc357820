//! Algorithm identifiers of digests and signatures in CMS (RFC 5754,
//! RFC 5758, RFC 4056, RFC 8419).

use const_oid::db::{rfc5912, rfc8410};
use der::asn1::{Any, ObjectIdentifier};
use der::{Decode, Sequence};
use spki::AlgorithmIdentifierOwned;
use ssa_types::{HashAlgorithm, KeyAlgorithm, PssSalt, SignatureAlgorithm};

/// `RSASSA-PSS-params` (RFC 4055 §3.1, explicit tags).
///
/// ```text
/// RSASSA-PSS-params ::= SEQUENCE {
///     hashAlgorithm     [0] HashAlgorithm DEFAULT sha1Identifier,
///     maskGenAlgorithm  [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///     saltLength        [2] INTEGER DEFAULT 20,
///     trailerField      [3] INTEGER DEFAULT 1 }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct RsassaPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen_algorithm: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

const ID_MGF1: ObjectIdentifier = rfc5912::ID_MGF_1;

/// The OID of a hash.
pub(crate) fn hash_oid(hash: HashAlgorithm) -> ObjectIdentifier {
    match hash {
        HashAlgorithm::Sha384 => rfc5912::ID_SHA_384,
        HashAlgorithm::Sha512 => rfc5912::ID_SHA_512,
        _ => rfc5912::ID_SHA_256,
    }
}

/// The hash an OID names.
pub(crate) fn hash_from_oid(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
    match *oid {
        rfc5912::ID_SHA_256 => Some(HashAlgorithm::Sha256),
        rfc5912::ID_SHA_384 => Some(HashAlgorithm::Sha384),
        rfc5912::ID_SHA_512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

/// A digest `AlgorithmIdentifier`, parameters absent (RFC 5754 §2).
pub fn digest_algorithm(hash: HashAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: hash_oid(hash),
        parameters: None,
    }
}

/// The hash a digest `AlgorithmIdentifier` names (parameters absent or NULL).
pub fn hash_of(id: &AlgorithmIdentifierOwned) -> Option<HashAlgorithm> {
    let params_ok = match &id.parameters {
        None => true,
        Some(any) => any.is_null(),
    };
    hash_from_oid(&id.oid).filter(|_| params_ok)
}

/// The digest algorithm a SignerInfo must name for `signature`: the
/// signature's hash, and SHA-512 for Ed25519 (RFC 8419 §3.1).
pub fn signer_digest(signature: SignatureAlgorithm) -> HashAlgorithm {
    signature.hash().unwrap_or(HashAlgorithm::Sha512)
}

/// The signature `AlgorithmIdentifier` of a SignerInfo.
pub fn signature_algorithm(signature: SignatureAlgorithm) -> der::Result<AlgorithmIdentifierOwned> {
    let plain = |oid| AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    };
    let with_null = |oid| AlgorithmIdentifierOwned {
        oid,
        parameters: Some(Any::null()),
    };
    Ok(match signature {
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384) => plain(rfc5912::ECDSA_WITH_SHA_384),
        SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512) => plain(rfc5912::ECDSA_WITH_SHA_512),
        SignatureAlgorithm::Ecdsa(_) => plain(rfc5912::ECDSA_WITH_SHA_256),
        SignatureAlgorithm::Ed25519 => plain(rfc8410::ID_ED_25519),
        SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha384) => {
            with_null(rfc5912::SHA_384_WITH_RSA_ENCRYPTION)
        }
        SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha512) => {
            with_null(rfc5912::SHA_512_WITH_RSA_ENCRYPTION)
        }
        SignatureAlgorithm::RsaPkcs1(_) => with_null(rfc5912::SHA_256_WITH_RSA_ENCRYPTION),
        SignatureAlgorithm::RsaPss(hash, PssSalt::Digest) => {
            let params = RsassaPssParams {
                hash_algorithm: Some(digest_algorithm(hash)),
                mask_gen_algorithm: Some(AlgorithmIdentifierOwned {
                    oid: ID_MGF1,
                    parameters: Some(Any::encode_from(&digest_algorithm(hash))?),
                }),
                salt_length: Some(hash.digest_len() as u32),
                trailer_field: None,
            };
            AlgorithmIdentifierOwned {
                oid: rfc5912::ID_RSASSA_PSS,
                parameters: Some(Any::encode_from(&params)?),
            }
        }
        // The longest salt is a number only with the key's size: such a
        // signature is made over a DTBS/R whose attributes the client
        // encoded, never in a SignerInfo of this crate.
        SignatureAlgorithm::RsaPss(_, _) => return Err(der::Tag::Integer.value_error().into()),
        _ => plain(rfc5912::ECDSA_WITH_SHA_256),
    })
}

/// The signature algorithm a SignerInfo (or certificate) names. RSA may be
/// named by `rsaEncryption` with the digest algorithm giving the hash, as
/// OpenSSL writes it; PSS only with the parameters this crate makes
/// (MGF1 with the same hash, salt as long as the hash).
pub fn signature_from_id(
    id: &AlgorithmIdentifierOwned,
    digest: Option<HashAlgorithm>,
) -> Option<SignatureAlgorithm> {
    Some(match id.oid {
        rfc5912::ECDSA_WITH_SHA_256 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
        rfc5912::ECDSA_WITH_SHA_384 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha384),
        rfc5912::ECDSA_WITH_SHA_512 => SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha512),
        rfc8410::ID_ED_25519 => SignatureAlgorithm::Ed25519,
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha384),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha512),
        rfc5912::RSA_ENCRYPTION => SignatureAlgorithm::RsaPkcs1(digest?),
        rfc5912::ID_EC_PUBLIC_KEY => SignatureAlgorithm::Ecdsa(digest?),
        rfc5912::ID_RSASSA_PSS => {
            let (hash, salt) = pss_parameters(id)?;
            if salt != hash.digest_len() {
                return None;
            }
            SignatureAlgorithm::RsaPss(hash, PssSalt::Digest)
        }
        _ => return None,
    })
}

use der::Encode as _;

/// The hash and salt length of RSASSA-PSS parameters (RFC 4055 §3.1) with
/// MGF1 over the same hash; `None` for other parameters.
pub(crate) fn pss_parameters(id: &AlgorithmIdentifierOwned) -> Option<(HashAlgorithm, usize)> {
    let params = RsassaPssParams::from_der(&id.parameters.as_ref()?.to_der().ok()?).ok()?;
    let hash = hash_of(params.hash_algorithm.as_ref()?)?;
    let mgf = params.mask_gen_algorithm.as_ref()?;
    let mgf_hash =
        AlgorithmIdentifierOwned::from_der(&mgf.parameters.as_ref()?.to_der().ok()?).ok()?;
    if mgf.oid != ID_MGF1 || hash_of(&mgf_hash) != Some(hash) {
        return None;
    }
    // Absent means the default of RFC 4055: 20.
    let salt = usize::try_from(params.salt_length.unwrap_or(20)).ok()?;
    Some((hash, salt))
}

/// [`signature_from_id`] for a signature by a `key` key, which also
/// knows RSASSA-PSS with the longest salt that key allows (what pyHanko
/// and OpenSSL ask for by default).
pub fn signature_for_key(
    id: &AlgorithmIdentifierOwned,
    digest: Option<HashAlgorithm>,
    key: KeyAlgorithm,
) -> Option<SignatureAlgorithm> {
    if id.oid == rfc5912::ID_RSASSA_PSS {
        let (hash, salt) = pss_parameters(id)?;
        let modulus_bytes = key.rsa_bits()? / 8;
        return [PssSalt::Digest, PssSalt::Maximum]
            .into_iter()
            .find(|kind| kind.len(modulus_bytes, hash) == Some(salt))
            .map(|kind| SignatureAlgorithm::RsaPss(hash, kind));
    }
    signature_from_id(id, digest)
}
