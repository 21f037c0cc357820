//! Signature time-stamps (CAdES B-T): an RFC 3161 client and the embedding
//! of the token as the `signature-time-stamp` unsigned attribute
//! (EN 319 122-1 §5.3).

use crate::asn1::SignedData;
use cms::content_info::ContentInfo;
use der::asn1::{Int, OctetString, SetOfVec};
use der::{Decode, Encode};
use ssa_types::HashAlgorithm;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use crate::algorithm::{digest_algorithm, hash_of};
use crate::asn1::{MessageImprint, TimeStampReq, TimeStampResp, TstInfo};
use crate::http::{HttpSettings, Url, fetch};
use crate::{CadesError, extend, oid};

/// Something that time-stamps a digest and returns an RFC 3161
/// `TimeStampToken` (DER `ContentInfo`), already checked against the request.
pub trait TimeStampAuthority: Send + Sync {
    /// Time-stamps `digest` (of `hash`).
    fn time_stamp(&self, hash: HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>, CadesError>;
}

fn tsa_error(reason: impl Into<String>) -> CadesError {
    CadesError::Tsa {
        reason: reason.into(),
    }
}

/// A time-stamp request for `digest`, with a fresh 64-bit nonce and the
/// TSA's certificate requested in the token.
pub fn time_stamp_request(hash: HashAlgorithm, digest: &[u8]) -> Result<TimeStampReq, CadesError> {
    let mut nonce = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
        .map_err(|_| tsa_error("no random nonce"))?;
    nonce[0] &= 0x7f;
    nonce[0] |= 0x01;
    Ok(TimeStampReq {
        version: 1,
        message_imprint: MessageImprint {
            hash_algorithm: digest_algorithm(hash),
            hashed_message: OctetString::new(digest)?,
        },
        req_policy: None,
        nonce: Some(Int::new(&nonce)?),
        cert_req: true,
        extensions: None,
    })
}

/// Checks a `TimeStampResp` against its request: granted, the token's
/// imprint and nonce are the request's, the TSA certificate is in the token
/// with the critical timeStamping EKU. Returns the token.
pub fn check_response(request: &TimeStampReq, response: &[u8]) -> Result<Vec<u8>, CadesError> {
    let response =
        TimeStampResp::from_der(response).map_err(|_| tsa_error("malformed TimeStampResp"))?;
    if response.status.status > 1 {
        return Err(tsa_error(format!(
            "request refused (status {}: {})",
            response.status.status,
            response.status.status_string.unwrap_or_default().join(" ")
        )));
    }
    let token = response
        .time_stamp_token
        .ok_or_else(|| tsa_error("granted without a token"))?;
    let token_der = token.to_der()?;
    let (tst, signed) = tst_info(&token_der)?;
    if tst.message_imprint != request.message_imprint {
        return Err(tsa_error("the token is over another imprint"));
    }
    if tst.nonce != request.nonce {
        return Err(tsa_error("the token does not carry the request's nonce"));
    }
    let has_tsa_cert = signed
        .certificates
        .iter()
        .flat_map(|s| s.iter())
        .any(|choice| {
            matches!(choice, crate::asn1::CertificateChoices::Certificate(c)
            if matches!(c.tbs_certificate().get_extension::<ExtendedKeyUsage>(),
                Ok(Some((true, eku))) if eku.0 == [oid::ID_KP_TIME_STAMPING]))
        });
    if !has_tsa_cert {
        return Err(tsa_error(
            "no TSA certificate with the critical timeStamping EKU in the token",
        ));
    }
    Ok(token_der)
}

/// The TSTInfo of a token, and its SignedData.
pub(crate) fn tst_info(token: &[u8]) -> Result<(TstInfo, SignedData), CadesError> {
    let info = ContentInfo::from_der(token).map_err(|_| tsa_error("malformed token"))?;
    if info.content_type != oid::ID_SIGNED_DATA {
        return Err(tsa_error("the token is not a SignedData"));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|_| tsa_error("malformed token"))?;
    if signed.encap_content_info.econtent_type != oid::ID_CT_TST_INFO {
        return Err(tsa_error("the token does not hold a TSTInfo"));
    }
    let content = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| tsa_error("the token holds no TSTInfo"))?
        .decode_as::<OctetString>()
        .map_err(|_| tsa_error("malformed TSTInfo"))?;
    let tst = TstInfo::from_der(content.as_bytes()).map_err(|_| tsa_error("malformed TSTInfo"))?;
    Ok((tst, signed))
}

/// An RFC 3161 TSA over HTTP (`application/timestamp-query`), plain HTTP
/// only: a TSA's answer is signed, so transport security adds no integrity.
#[derive(Clone, Debug)]
pub struct HttpTsa {
    url: String,
    /// Timeouts, retries and the size limit.
    pub settings: HttpSettings,
}

impl HttpTsa {
    /// A client for `url` (`http://host[:port]/path`).
    pub fn new(url: &str) -> Result<Self, CadesError> {
        Url::parse(url)
            .ok_or_else(|| tsa_error("only well-formed http:// TSA URLs are supported"))?;
        Ok(Self {
            url: url.to_owned(),
            settings: HttpSettings::default(),
        })
    }
}

impl TimeStampAuthority for HttpTsa {
    fn time_stamp(&self, hash: HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>, CadesError> {
        let request = time_stamp_request(hash, digest)?;
        let body = request.to_der()?;
        let response = fetch(
            &self.url,
            Some(("application/timestamp-query", &body)),
            &self.settings,
        )
        .map_err(tsa_error)?;
        check_response(&request, &response)
    }
}

/// What to do when the TSA fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsaFailure {
    /// Return the error; no signature.
    Fail,
    /// Return the B-B signature, and say so.
    DowngradeToBB,
}

/// A signature with the level it reached.
#[derive(Debug)]
#[non_exhaustive]
pub struct Stamped {
    /// The signature (DER).
    pub signature: Vec<u8>,
    /// Whether the time-stamp was added.
    pub time_stamped: bool,
    /// Why not, if it was not.
    pub tsa_error: Option<CadesError>,
}

/// Adds a signature time-stamp from `tsa` to every SignerInfo of
/// `signature` that has none yet (B-B to B-T); a SignerInfo already
/// time-stamped (a co-signed signature's earlier signer) is left as it is.
/// `on_failure` decides what a TSA failure does.
pub fn add_signature_time_stamp(
    signature: &[u8],
    tsa: &dyn TimeStampAuthority,
    hash: HashAlgorithm,
    on_failure: TsaFailure,
) -> Result<Stamped, CadesError> {
    let info = ContentInfo::from_der(signature).map_err(|_| CadesError::NotExtendable {
        reason: "not a DER ContentInfo",
    })?;
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|_| CadesError::NotExtendable {
            reason: "not a SignedData",
        })?;
    let mut tokens = Vec::new();
    let unstamped = signed
        .signer_infos
        .0
        .iter()
        .filter(|info| !extend::has_unsigned(info, oid::ID_AA_TIME_STAMP_TOKEN));
    for signer_info in unstamped {
        let digest = hash.digest(signer_info.signature.as_bytes());
        match tsa.time_stamp(hash, &digest) {
            Ok(token) => tokens.push(token),
            Err(e) if on_failure == TsaFailure::DowngradeToBB => {
                return Ok(Stamped {
                    signature: signature.to_vec(),
                    time_stamped: false,
                    tsa_error: Some(e),
                });
            }
            Err(e) => return Err(e),
        }
    }
    let mut out = signature.to_vec();
    for token in tokens {
        out = embed_signature_time_stamp(&out, &token)?;
    }
    Ok(Stamped {
        signature: out,
        time_stamped: true,
        tsa_error: None,
    })
}

/// Embeds `token` as a signature time-stamp of the SignerInfo whose
/// signature value it stamps. The signed attributes keep their exact bytes,
/// or nothing is returned.
pub fn embed_signature_time_stamp(signature: &[u8], token: &[u8]) -> Result<Vec<u8>, CadesError> {
    let (tst, _) = tst_info(token)?;
    let hash = hash_of(&tst.message_imprint.hash_algorithm)
        .ok_or_else(|| tsa_error("unknown imprint hash"))?;
    let mut signed = extend::parse(signature)?;
    let mut infos: Vec<cms::signed_data::SignerInfo> =
        signed.signer_infos.0.iter().cloned().collect();
    let target = infos
        .iter_mut()
        .find(|i| {
            hash.digest(i.signature.as_bytes()) == tst.message_imprint.hashed_message.as_bytes()
        })
        .ok_or(CadesError::NotExtendable {
            reason: "the token stamps no signature value here",
        })?;
    extend::push_unsigned(target, oid::ID_AA_TIME_STAMP_TOKEN, token)?;
    signed.signer_infos.0 = SetOfVec::try_from(infos)?;
    extend::reencode(signature, &signed)
}
