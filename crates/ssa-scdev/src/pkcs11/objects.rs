//! Key objects on the token: templates, look-ups and reading them back.

use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use der::Decode;
use der::asn1::OctetString;

use crate::public_key::{algorithm_from_ec_params, ec_params_der};
use crate::{KeyAlgorithm, KeyId, KeyInfo, PublicKey, ScdevError};

/// The PKCS#11 key type of a key algorithm; `None` for one this backend
/// does not know (a variant added to the vocabulary later).
pub(super) fn key_type(algorithm: KeyAlgorithm) -> Option<KeyType> {
    match algorithm {
        KeyAlgorithm::EcP256 | KeyAlgorithm::EcP384 => Some(KeyType::EC),
        KeyAlgorithm::Ed25519 => Some(KeyType::EC_EDWARDS),
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => Some(KeyType::RSA),
        _ => None,
    }
}

/// Attributes every private signing key gets: on the token, private,
/// sensitive, for signing only; extractable (and then only under a trusted
/// wrapping key) only if it was generated for backup.
pub(super) fn private_template(
    info_id: &KeyId,
    label: &str,
    algorithm: KeyAlgorithm,
    backup: bool,
) -> Vec<Attribute> {
    let mut template = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(backup),
        Attribute::Sign(true),
        Attribute::Id(info_id.as_bytes().to_vec()),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    if backup {
        template.push(Attribute::WrapWithTrusted(true));
    }
    if algorithm.is_rsa() {
        template.extend([Attribute::Decrypt(false), Attribute::Unwrap(false)]);
    } else {
        template.push(Attribute::Derive(false));
    }
    template
}

/// Attributes of the public half.
pub(super) fn public_template(id: &KeyId, label: &str) -> Vec<Attribute> {
    vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Id(id.as_bytes().to_vec()),
        Attribute::Label(label.as_bytes().to_vec()),
    ]
}

/// The domain attributes of a key to generate.
pub(super) fn domain_attributes(algorithm: KeyAlgorithm) -> Result<Vec<Attribute>, ScdevError> {
    if let Some(bits) = algorithm.rsa_bits() {
        return Ok(vec![
            Attribute::ModulusBits((bits as u64).into()),
            Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
        ]);
    }
    let params = ec_params_der(algorithm).ok_or(ScdevError::Crypto {
        operation: "encode EC parameters",
    })?;
    Ok(vec![Attribute::EcParams(params)])
}

/// The attributes that recreate a public key object from its SPKI.
pub(super) fn public_key_attributes(public: &PublicKey) -> Result<Vec<Attribute>, ScdevError> {
    let bad = || ScdevError::Crypto {
        operation: "encode public key for the token",
    };
    if public.algorithm.is_rsa() {
        let (modulus, exponent) = public.rsa_components().ok_or_else(bad)?;
        return Ok(vec![
            Attribute::Modulus(modulus),
            Attribute::PublicExponent(exponent),
        ]);
    }
    let point = OctetString::new(public.key.clone()).map_err(|_| bad())?;
    Ok(vec![
        Attribute::EcParams(ec_params_der(public.algorithm).ok_or_else(bad)?),
        Attribute::EcPoint(der::Encode::to_der(&point).map_err(|_| bad())?),
    ])
}

/// Finds the one object of `class` with `CKA_ID` = `id`.
pub(super) fn find(
    session: &Session,
    class: ObjectClass,
    id: &KeyId,
) -> Result<Option<ObjectHandle>, ScdevError> {
    let found = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Id(id.as_bytes().to_vec()),
        ])
        .map_err(ScdevError::pkcs11("C_FindObjects"))?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(ScdevError::TokenData {
            what: "key id (more than one object carries it)",
        }),
    }
}

/// Every private key on the token.
pub(super) fn private_keys(session: &Session) -> Result<Vec<ObjectHandle>, ScdevError> {
    session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY)])
        .map_err(ScdevError::pkcs11("C_FindObjects"))
}

/// What a private key object is, without its public key.
pub(super) struct PrivateKeyFacts {
    pub(super) id: KeyId,
    pub(super) label: String,
    pub(super) algorithm: KeyAlgorithm,
    pub(super) extractable: bool,
}

pub(super) fn private_key_facts(
    session: &Session,
    handle: ObjectHandle,
) -> Result<PrivateKeyFacts, ScdevError> {
    let attributes = session
        .get_attributes(
            handle,
            &[
                AttributeType::Id,
                AttributeType::Label,
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::Modulus,
                AttributeType::Extractable,
            ],
        )
        .map_err(ScdevError::pkcs11("C_GetAttributeValue"))?;
    let (mut id, mut label, mut key_type, mut ec_params, mut modulus, mut extractable) =
        (None, None, None, None, None, false);
    for attribute in attributes {
        match attribute {
            Attribute::Id(v) => id = Some(v),
            Attribute::Label(v) => label = Some(v),
            Attribute::KeyType(v) => key_type = Some(v),
            Attribute::EcParams(v) => ec_params = Some(v),
            Attribute::Modulus(v) => modulus = Some(v),
            Attribute::Extractable(v) => extractable = v,
            _ => {}
        }
    }
    let id = id
        .and_then(|v| KeyId::new(v).ok())
        .ok_or(ScdevError::TokenData { what: "CKA_ID" })?;
    let label = label
        .and_then(|v| String::from_utf8(v).ok())
        .ok_or(ScdevError::TokenData { what: "CKA_LABEL" })?;
    let algorithm = match key_type {
        Some(KeyType::EC) | Some(KeyType::EC_EDWARDS) => {
            ec_params.as_deref().and_then(algorithm_from_ec_params)
        }
        Some(KeyType::RSA) => modulus.as_deref().and_then(|m| {
            let bits = m.len() * 8 - m.first().map_or(8, |b| b.leading_zeros() as usize);
            KeyAlgorithm::rsa_from_bits(bits)
        }),
        _ => None,
    }
    .ok_or(ScdevError::TokenData {
        what: "key type or domain parameters",
    })?;
    Ok(PrivateKeyFacts {
        id,
        label,
        algorithm,
        extractable,
    })
}

/// The public key object of `id`, as SPKI DER.
pub(super) fn public_key_der(
    session: &Session,
    id: &KeyId,
    algorithm: KeyAlgorithm,
) -> Result<Vec<u8>, ScdevError> {
    let bad = |what| ScdevError::TokenData { what };
    let handle =
        find(session, ObjectClass::PUBLIC_KEY, id)?.ok_or(bad("public key object (missing)"))?;
    let public = if algorithm.is_rsa() {
        let attributes = session
            .get_attributes(
                handle,
                &[AttributeType::Modulus, AttributeType::PublicExponent],
            )
            .map_err(ScdevError::pkcs11("C_GetAttributeValue"))?;
        let (mut modulus, mut exponent) = (None, None);
        for attribute in attributes {
            match attribute {
                Attribute::Modulus(v) => modulus = Some(v),
                Attribute::PublicExponent(v) => exponent = Some(v),
                _ => {}
            }
        }
        modulus
            .zip(exponent)
            .and_then(|(m, e)| PublicKey::rsa(&m, &e))
            .ok_or(bad("RSA public key"))?
    } else {
        let attributes = session
            .get_attributes(handle, &[AttributeType::EcPoint])
            .map_err(ScdevError::pkcs11("C_GetAttributeValue"))?;
        let point = attributes
            .into_iter()
            .find_map(|a| match a {
                Attribute::EcPoint(v) => Some(v),
                _ => None,
            })
            .ok_or(bad("CKA_EC_POINT"))?;
        PublicKey {
            algorithm,
            key: raw_point(algorithm, point).ok_or(bad("CKA_EC_POINT"))?,
        }
    };
    if public.algorithm != algorithm {
        return Err(bad("public key (does not match the private key type)"));
    }
    public.to_spki_der().map_err(|_| bad("public key"))
}

/// `CKA_EC_POINT` is a DER OCTET STRING holding the point (PKCS#11 v2.40
/// §2.3.3); some modules give the bare point. Accept both, by length.
fn raw_point(algorithm: KeyAlgorithm, value: Vec<u8>) -> Option<Vec<u8>> {
    let raw_len = match algorithm {
        KeyAlgorithm::EcP256 => 65,
        KeyAlgorithm::EcP384 => 97,
        KeyAlgorithm::Ed25519 => 32,
        _ => return None,
    };
    if value.len() == raw_len {
        return Some(value);
    }
    let inner = OctetString::from_der(&value).ok()?.into_bytes();
    (inner.len() == raw_len).then(|| inner.into_vec())
}

/// The whole description of the private key `handle`.
pub(super) fn key_info(session: &Session, handle: ObjectHandle) -> Result<KeyInfo, ScdevError> {
    let facts = private_key_facts(session, handle)?;
    let public_key = public_key_der(session, &facts.id, facts.algorithm)?;
    Ok(KeyInfo {
        id: facts.id,
        label: facts.label,
        algorithm: facts.algorithm,
        backup_allowed: facts.extractable,
        public_key,
    })
}
