//! proptest round trips for every ASN.1 type this crate defines: encode,
//! decode, compare, and re-encode to the same bytes (DER is canonical).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::str::FromStr;

use cms::content_info::ContentInfo;
use der::asn1::{
    Any, BitString, GeneralizedTime, Int, Null, ObjectIdentifier, OctetString, SetOfVec,
};
use der::{Decode, Encode};
use proptest::prelude::*;
use spki::AlgorithmIdentifierOwned;
use ssa_cades::asn1::*;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Encode + for<'a> Decode<'a> + PartialEq + std::fmt::Debug,
{
    let der = value.to_der().unwrap();
    let decoded = T::from_der(&der).unwrap();
    prop_assert_eq!(&decoded, value);
    prop_assert_eq!(decoded.to_der().unwrap(), der);
    Ok(())
}

fn oid() -> impl Strategy<Value = ObjectIdentifier> {
    (
        0u32..3,
        0u32..40,
        proptest::collection::vec(0u32..100_000, 0..6),
    )
        .prop_map(|(a, b, rest)| {
            let mut text = format!("{a}.{b}");
            for arc in rest {
                text.push_str(&format!(".{arc}"));
            }
            ObjectIdentifier::new(&text).unwrap()
        })
}

fn octets(max: usize) -> impl Strategy<Value = OctetString> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(|b| OctetString::new(b).unwrap())
}

fn algorithm() -> impl Strategy<Value = AlgorithmIdentifierOwned> {
    (oid(), any::<bool>()).prop_map(|(oid, null)| AlgorithmIdentifierOwned {
        oid,
        parameters: null.then(Any::null),
    })
}

fn any_value() -> impl Strategy<Value = Any> {
    prop_oneof![
        "[a-z ]{0,20}"
            .prop_map(|s| Any::encode_from(&der::asn1::Utf8StringRef::new(&s).unwrap()).unwrap()),
        octets(20).prop_map(|o| Any::encode_from(&o).unwrap()),
        oid().prop_map(|o| Any::encode_from(&o).unwrap()),
    ]
}

fn int() -> impl Strategy<Value = Int> {
    any::<i64>().prop_map(|v| Int::from_der(&v.to_der().unwrap()).unwrap())
}

fn name() -> impl Strategy<Value = Name> {
    "[A-Za-z0-9 ]{1,20}".prop_map(|cn| Name::from_str(&format!("CN={cn},O=ssa test")).unwrap())
}

fn serial() -> impl Strategy<Value = SerialNumber> {
    proptest::collection::vec(any::<u8>(), 1..20).prop_map(|mut b| {
        b[0] = b[0].max(1) & 0x7f;
        SerialNumber::new(&b).unwrap()
    })
}

fn time() -> impl Strategy<Value = GeneralizedTime> {
    (0u64..4_000_000_000).prop_map(|s| {
        GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(s)).unwrap()
    })
}

fn attribute() -> impl Strategy<Value = Attribute> {
    (oid(), proptest::collection::vec(any_value(), 1..3)).prop_map(|(oid, values)| Attribute {
        oid,
        values: SetOfVec::try_from(values).unwrap(),
    })
}

fn ess_cert_id() -> impl Strategy<Value = EssCertIdV2> {
    (
        proptest::option::of(algorithm()),
        octets(64),
        proptest::option::of((name(), serial())),
    )
        .prop_map(|(hash_algorithm, cert_hash, issuer_serial)| EssCertIdV2 {
            hash_algorithm,
            cert_hash,
            issuer_serial: issuer_serial.map(|(issuer, serial_number)| IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(issuer)],
                serial_number,
            }),
        })
}

fn message_imprint() -> impl Strategy<Value = MessageImprint> {
    (algorithm(), octets(64)).prop_map(|(hash_algorithm, hashed_message)| MessageImprint {
        hash_algorithm,
        hashed_message,
    })
}

proptest! {
    #[test]
    fn signing_certificate_v2(certs in proptest::collection::vec(ess_cert_id(), 1..4)) {
        round_trip(&SigningCertificateV2 { certs, policies: None })?;
    }

    #[test]
    fn cms_algorithm_protection(d in algorithm(), s in proptest::option::of(algorithm()), m in proptest::option::of(algorithm())) {
        round_trip(&CmsAlgorithmProtection { digest_algorithm: d, signature_algorithm: s, mac_algorithm: m })?;
    }

    #[test]
    fn content_hints(description in proptest::option::of("[ -~]{1,30}"), content_type in oid()) {
        round_trip(&ContentHints { content_description: description, content_type })?;
    }

    #[test]
    fn signature_policy_identifier(
        id in oid(), hash in algorithm(), value in octets(64),
        qualifiers in proptest::option::of(proptest::collection::vec((oid(), any_value()), 1..3)),
        implied in any::<bool>(),
    ) {
        let policy = if implied {
            SignaturePolicyIdentifier::SignaturePolicyImplied(Null)
        } else {
            SignaturePolicyIdentifier::SignaturePolicyId(SignaturePolicyId {
                sig_policy_id: id,
                sig_policy_hash: OtherHashAlgAndValue { hash_algorithm: hash, hash_value: value },
                sig_policy_qualifiers: qualifiers.map(|q| {
                    q.into_iter().map(|(sig_policy_qualifier_id, sig_qualifier)| SigPolicyQualifierInfo {
                        sig_policy_qualifier_id,
                        sig_qualifier,
                    }).collect()
                }),
            })
        };
        round_trip(&policy)?;
    }

    #[test]
    fn commitment_type_indication(id in oid(), qualifiers in proptest::option::of(proptest::collection::vec((oid(), any_value()), 1..3))) {
        round_trip(&CommitmentTypeIndication {
            commitment_type_id: id,
            commitment_type_qualifier: qualifiers.map(|q| {
                q.into_iter().map(|(commitment_type_identifier, qualifier)| CommitmentTypeQualifier {
                    commitment_type_identifier,
                    qualifier,
                }).collect()
            }),
        })?;
    }

    #[test]
    fn signer_attributes_v2(
        claimed in proptest::option::of(proptest::collection::vec(attribute(), 0..3)),
        certs in proptest::option::of(proptest::collection::vec((proptest::option::of(oid()), any_value()), 0..3)),
        assertions in proptest::option::of(proptest::collection::vec((oid(), any_value()), 0..3)),
        role in proptest::option::of("[a-z]{1,8}:[a-z0-9/.-]{1,20}"),
    ) {
        let value = SignerAttributesV2 {
            claimed_attributes: claimed,
            certified_attributes_v2: certs.map(|certs| certs.into_iter().map(|(other, value)| match other {
                Some(other_attribute_cert_id) => CertifiedAttributeChoice::OtherAttributeCertificate(
                    OtherAttributeCertificate { other_attribute_cert_id, other_attribute_cert: Some(value) },
                ),
                None => CertifiedAttributeChoice::AttributeCertificate(value),
            }).collect()),
            signed_assertions: assertions.map(|assertions| assertions.into_iter().map(|(signed_assertion_id, signed_assertion)| SignedAssertion {
                signed_assertion_id,
                signed_assertion,
            }).collect()),
        };
        round_trip(&value)?;
        if let Some(role) = role {
            round_trip(&ssa_cades::delegation::role_syntax(&role).unwrap())?;
        }
    }

    #[test]
    fn time_stamp_req(
        imprint in message_imprint(), policy in proptest::option::of(oid()),
        nonce in proptest::option::of(int()), cert_req in any::<bool>(),
    ) {
        round_trip(&TimeStampReq { version: 1, message_imprint: imprint, req_policy: policy, nonce, cert_req, extensions: None })?;
    }

    #[test]
    fn time_stamp_resp(
        status in 0u8..6, text in proptest::option::of(proptest::collection::vec("[ -~]{0,20}", 1..3)),
        fail in proptest::option::of(any::<u16>()), token in proptest::option::of(any_value()),
    ) {
        round_trip(&TimeStampResp {
            status: PkiStatusInfo {
                status,
                status_string: text,
                fail_info: fail.map(|f| BitString::from_bytes(&f.to_be_bytes()).unwrap()),
            },
            time_stamp_token: token.map(|content| ContentInfo { content_type: ssa_cades::oid::ID_SIGNED_DATA, content }),
        })?;
    }

    #[test]
    fn ats_hash_index_v3(
        hash in algorithm(),
        certificates in proptest::collection::vec(octets(64), 0..4),
        crls in proptest::collection::vec(octets(64), 0..4),
        unsigned in proptest::collection::vec(octets(64), 0..4),
    ) {
        round_trip(&AtsHashIndexV3 {
            hash_ind_algorithm: hash,
            certificates_hash_index: certificates,
            crls_hash_index: crls,
            unsigned_attr_values_hash_index: unsigned,
        })?;
    }

    /// genTime with fractional seconds (RFC 3161 §2.4.2): read to the
    /// nanosecond, written back as received.
    #[test]
    fn gen_time_with_a_fraction(whole in time(), fraction in "[0-9]{0,8}[1-9]") {
        let text = whole.to_der().unwrap();
        let mut der = vec![0x18, u8::try_from(text.len() - 2 + 1 + fraction.len()).unwrap()];
        der.extend_from_slice(&text[2..text.len() - 1]);
        der.push(b'.');
        der.extend_from_slice(fraction.as_bytes());
        der.push(b'Z');
        let decoded = GenTime::from_der(&der).unwrap();
        let nanos: u64 = format!("{fraction:0<9}").parse().unwrap();
        prop_assert_eq!(
            decoded.to_system_time(),
            whole.to_system_time() + std::time::Duration::from_nanos(nanos)
        );
        prop_assert_eq!(&decoded.to_der().unwrap(), &der);
        // Not a time: refused, never a panic.
        let mut broken = der.clone();
        let at = broken.len() - 2;
        broken[at] = b'x';
        prop_assert!(GenTime::from_der(&broken).is_err());
    }

    #[test]
    fn tst_info(
        policy in oid(), imprint in message_imprint(), serial in int(), gen_time in time(),
        accuracy in proptest::option::of((proptest::option::of(0u64..100), proptest::option::of(1u16..1000), proptest::option::of(1u16..1000))),
        ordering in any::<bool>(), nonce in proptest::option::of(int()), tsa in proptest::option::of(name()),
    ) {
        round_trip(&TstInfo {
            version: 1,
            policy,
            message_imprint: imprint,
            serial_number: serial,
            gen_time: GenTime::from_system_time(gen_time.to_system_time()).unwrap(),
            accuracy: accuracy.map(|(seconds, millis, micros)| Accuracy { seconds, millis, micros }),
            ordering,
            nonce,
            tsa: tsa.map(GeneralName::DirectoryName),
            extensions: None,
        })?;
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = SigningCertificateV2::from_der(&bytes);
        let _ = TstInfo::from_der(&bytes);
        let _ = TimeStampResp::from_der(&bytes);
        let _ = SignerAttributesV2::from_der(&bytes);
        let _ = SignaturePolicyIdentifier::from_der(&bytes);
    }
}

fn cert_id() -> impl Strategy<Value = CertId> {
    (algorithm(), octets(32), octets(32), serial()).prop_map(
        |(hash_algorithm, issuer_name_hash, issuer_key_hash, serial_number)| CertId {
            hash_algorithm,
            issuer_name_hash,
            issuer_key_hash,
            serial_number,
        },
    )
}

fn cert_status() -> impl Strategy<Value = CertStatus> {
    prop_oneof![
        Just(CertStatus::Good(Null)),
        Just(CertStatus::Unknown(Null)),
        time().prop_map(|revocation_time| CertStatus::Revoked(RevokedInfo {
            revocation_time,
            revocation_reason: None
        })),
    ]
}

proptest! {
    #[test]
    fn ocsp_request(ids in proptest::collection::vec(cert_id(), 1..3)) {
        round_trip(&OcspRequest {
            tbs_request: TbsRequest {
                request_list: ids.into_iter().map(|req_cert| Request { req_cert }).collect(),
                request_extensions: None,
            },
        })?;
    }

    #[test]
    fn ocsp_response_data(
        by_key in any::<bool>(), who in name(), key in octets(20), produced in time(),
        singles in proptest::collection::vec((cert_id(), cert_status(), time(), proptest::option::of(time())), 1..3),
    ) {
        let data = ResponseData {
            version: None,
            responder_id: if by_key { ResponderId::ByKey(key) } else { ResponderId::ByName(who) },
            produced_at: produced,
            responses: singles.into_iter().map(|(cert_id, cert_status, this_update, next_update)| SingleResponse {
                cert_id, cert_status, this_update, next_update, single_extensions: None,
            }).collect(),
            response_extensions: None,
        };
        round_trip(&data)?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: AlgorithmIdentifierOwned { oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"), parameters: None },
            signature: BitString::from_bytes(&[1, 2, 3]).unwrap(),
            certs: None,
        };
        round_trip(&basic)?;
        let response = OcspResponse {
            response_status: OcspResponseStatus::Successful,
            response_bytes: Some(ResponseBytes {
                response_type: ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1"),
                response: OctetString::new(basic.to_der().unwrap()).unwrap(),
            }),
        };
        round_trip(&response)?;
    }

    #[test]
    fn other_revocation_info(format in oid(), info in any_value()) {
        let choice = RevocationInfoChoice::Other(OtherRevocationInfoFormat { other_rev_info_format: format, other_rev_info: info });
        round_trip(&choice)?;
    }
}

#[test]
fn signed_data_mirror_round_trips_a_real_signature() {
    // What the builder writes decodes into the crate's SignedData and
    // encodes back to the same bytes.
    let der = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/b-b-openssl.der"),
    )
    .unwrap();
    let info = ContentInfo::from_der(&der).unwrap();
    let signed: SignedData = info.content.decode_as().unwrap();
    let again = ContentInfo {
        content_type: info.content_type,
        content: Any::encode_from(&signed).unwrap(),
    }
    .to_der()
    .unwrap();
    assert_eq!(again, der);
}

proptest! {
    #[test]
    fn attribute_certificate(
        holder in proptest::option::of((name(), serial())), entity in proptest::option::of(name()),
        issuer in name(), alg in algorithm(), serial in serial(), from in time(), until in time(),
        attributes in proptest::collection::vec(attribute(), 0..3), signature in proptest::collection::vec(any::<u8>(), 0..72),
    ) {
        round_trip(&AttributeCertificate {
            acinfo: AttributeCertificateInfo {
                version: 1,
                holder: Holder {
                    base_certificate_id: holder.map(|(issuer, serial)| AcIssuerSerial {
                        issuer: vec![GeneralName::DirectoryName(issuer)],
                        serial,
                        issuer_uid: None,
                    }),
                    entity_name: entity.map(|n| vec![GeneralName::DirectoryName(n)]),
                },
                issuer: AttCertIssuer::V2Form(V2Form {
                    issuer_name: Some(vec![GeneralName::DirectoryName(issuer)]),
                    base_certificate_id: None,
                }),
                signature: alg.clone(),
                serial_number: serial,
                attr_cert_validity_period: AttCertValidityPeriod { not_before_time: from, not_after_time: until },
                attributes,
                issuer_unique_id: None,
                extensions: None,
            },
            signature_algorithm: alg,
            signature_value: BitString::from_bytes(&signature).unwrap(),
        })?;
    }
}
