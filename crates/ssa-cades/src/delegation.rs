//! Electronic delegation (電子委任状): an RFC 5755 attribute certificate
//! saying that the holder of a signing certificate may act for someone
//! (a company, through its representative or a delegation provider).

use std::time::SystemTime;

use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;

use crate::asn1::{
    AttCertIssuer, AttributeCertificate, CertifiedAttributeChoice, RoleSyntax, SignerAttributesV2,
};
use crate::chain::verify_signature;

/// Why a delegation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DelegationError {
    /// Not a DER attribute certificate of this profile.
    #[error("malformed attribute certificate: {reason}")]
    Malformed {
        /// Why.
        reason: &'static str,
    },
    /// The holder is not the signer's certificate.
    #[error("the attribute certificate's holder is not the signer's certificate")]
    WrongHolder,
    /// The signing time is outside the validity period.
    #[error("the attribute certificate is not valid at the signing time")]
    NotValidAtSigningTime,
    /// No trusted attribute authority issued and signed it.
    #[error("the attribute certificate's issuer is not trusted, or its signature does not verify")]
    UntrustedIssuer,
}

/// A checked delegation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delegation {
    /// The attribute authority (representative, delegation provider).
    pub issuer: String,
    /// The certified attributes' types.
    pub attributes: Vec<der::asn1::ObjectIdentifier>,
    /// The certificate itself.
    pub certificate: AttributeCertificate,
}

/// Checks an attribute certificate (DER) for `holder` at `at`: its holder's
/// baseCertificateID names `holder` (issuer and serial), `at` is inside its
/// validity period, and one of `issuers` (trusted attribute authorities)
/// is named as its issuer and signed it. The most specific failure wins.
pub fn check_delegation(
    der: &[u8],
    holder: &Certificate,
    issuers: &[Certificate],
    at: SystemTime,
) -> Result<Delegation, DelegationError> {
    let ac = AttributeCertificate::from_der(der)
        .map_err(|_| DelegationError::Malformed { reason: "not DER" })?;
    let info = &ac.acinfo;
    if info.version != 1 {
        return Err(DelegationError::Malformed {
            reason: "not a v2 attribute certificate",
        });
    }
    let base = info
        .holder
        .base_certificate_id
        .as_ref()
        .ok_or(DelegationError::WrongHolder)?;
    let names_holder_issuer = base
        .issuer
        .iter()
        .any(|n| matches!(n, GeneralName::DirectoryName(name) if name == holder.tbs_certificate().issuer()));
    if !names_holder_issuer || base.serial != *holder.tbs_certificate().serial_number() {
        return Err(DelegationError::WrongHolder);
    }
    let period = &info.attr_cert_validity_period;
    if at < period.not_before_time.to_system_time() || at > period.not_after_time.to_system_time() {
        return Err(DelegationError::NotValidAtSigningTime);
    }
    let AttCertIssuer::V2Form(form) = &info.issuer else {
        return Err(DelegationError::Malformed {
            reason: "v1Form issuer",
        });
    };
    let issuer_names = form
        .issuer_name
        .as_ref()
        .ok_or(DelegationError::UntrustedIssuer)?;
    let tbs = info
        .to_der()
        .map_err(|_| DelegationError::Malformed { reason: "acinfo" })?;
    let issuer = issuers
        .iter()
        .find(|candidate| {
            issuer_names
                .iter()
                .any(|n| matches!(n, GeneralName::DirectoryName(name) if name == candidate.tbs_certificate().subject()))
                && verify_signature(candidate, &ac.signature_algorithm, &tbs, ac.signature_value.raw_bytes())
        })
        .ok_or(DelegationError::UntrustedIssuer)?;
    Ok(Delegation {
        issuer: issuer.tbs_certificate().subject().to_string(),
        attributes: info.attributes.iter().map(|a| a.oid).collect(),
        certificate: ac,
    })
}

/// The `id-at-role` value (RFC 5755 §4.4.5 `RoleSyntax`) for a claimed
/// role. RFC 5755 requires the role name to be a `uniformResourceIdentifier`,
/// so `role` must be an absolute URI (`scheme:rest`, printable ASCII, no
/// spaces), e.g. `urn:example:role:purchasing-manager`; text in other
/// scripts is written percent-encoded (RFC 3986 §2.1).
pub fn role_syntax(role: &str) -> Result<RoleSyntax, DelegationError> {
    let not_uri = DelegationError::Malformed {
        reason: "the claimed role is not an absolute URI (RFC 5755 §4.4.5)",
    };
    let (scheme, rest) = role.split_once(':').ok_or(not_uri.clone())?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let rest_ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_graphic());
    if !scheme_ok || !rest_ok {
        return Err(not_uri);
    }
    let uri = der::asn1::Ia5String::new(role).map_err(|_| not_uri)?;
    Ok(RoleSyntax {
        role_authority: None,
        role_name: GeneralName::UniformResourceIdentifier(uri),
    })
}

/// The claimed roles of a signer-attributes-v2 value: each `id-at-role`
/// claimed attribute's role name (a URI, or a directory name as text).
/// A role value that is not a `RoleSyntax` is an error.
pub fn claimed_roles(attributes: &SignerAttributesV2) -> Result<Vec<String>, DelegationError> {
    let mut roles = Vec::new();
    for attribute in attributes.claimed_attributes.iter().flatten() {
        if attribute.oid != ID_AT_ROLE {
            continue;
        }
        for value in attribute.values.iter() {
            let role: RoleSyntax = value.decode_as().map_err(|_| DelegationError::Malformed {
                reason: "a claimed role is not a RoleSyntax",
            })?;
            roles.push(match role.role_name {
                GeneralName::UniformResourceIdentifier(uri) => uri.to_string(),
                GeneralName::DirectoryName(name) => name.to_string(),
                _ => {
                    return Err(DelegationError::Malformed {
                        reason: "a claimed role's name is neither a URI nor a directory name",
                    });
                }
            });
        }
    }
    Ok(roles)
}

/// The signer-attributes-v2 value (EN 319 122-1 §5.2.6.1) for a signer who
/// claims `role` (a URI, see [`role_syntax`]) and holds the delegation
/// attribute certificates `certificates` (DER): each is checked again for
/// `holder` at `at` against the trusted attribute `authorities`. `None` if
/// there is nothing to carry.
pub fn signer_attributes(
    role: Option<&str>,
    certificates: &[Vec<u8>],
    holder: &Certificate,
    authorities: &[Certificate],
    at: SystemTime,
) -> Result<Option<SignerAttributesV2>, DelegationError> {
    let mut value = SignerAttributesV2::default();
    if let Some(role) = role {
        let malformed = |_| DelegationError::Malformed {
            reason: "the claimed role could not be encoded",
        };
        let any = der::asn1::Any::encode_from(&role_syntax(role)?).map_err(malformed)?;
        value.claimed_attributes = Some(vec![x509_cert::attr::Attribute {
            oid: ID_AT_ROLE,
            values: der::asn1::SetOfVec::try_from(vec![any]).map_err(malformed)?,
        }]);
    }
    if !certificates.is_empty() {
        let mut certified = Vec::with_capacity(certificates.len());
        for der in certificates {
            check_delegation(der, holder, authorities, at)?;
            let any = der::asn1::Any::from_der(der)
                .map_err(|_| DelegationError::Malformed { reason: "not DER" })?;
            certified.push(CertifiedAttributeChoice::AttributeCertificate(any));
        }
        value.certified_attributes_v2 = Some(certified);
    }
    Ok((value != SignerAttributesV2::default()).then_some(value))
}

/// `id-at-role` (X.520; RFC 5755 §4.4.5).
pub const ID_AT_ROLE: der::asn1::ObjectIdentifier =
    der::asn1::ObjectIdentifier::new_unwrap("2.5.4.72");
