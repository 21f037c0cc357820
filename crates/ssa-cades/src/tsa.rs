//! Signature time-stamps (CAdES B-T): an RFC 3161 client and the embedding
//! of the token as the `signature-time-stamp` unsigned attribute
//! (EN 319 122-1 §5.3).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::asn1::SignedData;
use cms::content_info::ContentInfo;
use der::asn1::{Any, Int, OctetString, SetOfVec};
use der::{Decode, Encode};
use ssa_scdev::HashAlgorithm;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::ExtendedKeyUsage;

use crate::algorithm::{digest_algorithm, hash_of};
use crate::asn1::{MessageImprint, TimeStampReq, TimeStampResp, TstInfo};
use crate::{CadesError, oid, raw};

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
        .flat_map(|s| s.0.iter())
        .any(|choice| {
            matches!(choice, cms::cert::CertificateChoices::Certificate(c)
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
    host: String,
    port: u16,
    path: String,
    /// Timeout for connecting, and for each read and write.
    pub timeout: Duration,
    /// Attempts in all (at least 1), for connection failures and 5xx answers.
    pub attempts: u32,
    /// Largest response accepted, in bytes.
    pub max_response: usize,
}

impl HttpTsa {
    /// A client for `url` (`http://host[:port]/path`).
    pub fn new(url: &str) -> Result<Self, CadesError> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| tsa_error("only http:// TSA URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| tsa_error("bad port in TSA URL"))?),
            None => (authority, 80),
        };
        if host.is_empty() || path.contains(['\r', '\n', ' ']) || host.contains(['\r', '\n', ' ']) {
            return Err(tsa_error("bad TSA URL"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            timeout: Duration::from_secs(10),
            attempts: 3,
            max_response: 1 << 20,
        })
    }

    fn post_once(&self, body: &[u8]) -> Result<(u16, Vec<u8>), std::io::Error> {
        let address = (self.host.as_str(), self.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "TSA host not found")
            })?;
        let mut stream = TcpStream::connect_timeout(&address, self.timeout)?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/timestamp-query\r\nAccept: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.path,
            self.host,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut response = Vec::new();
        stream
            .take(self.max_response as u64 + 8192)
            .read_to_end(&mut response)?;
        parse_http_response(&response, self.max_response).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP response")
        })
    }
}

/// Status and body of an HTTP/1.x response (Content-Length, chunked, or to
/// the end of the connection).
fn parse_http_response(response: &[u8], max: usize) -> Option<(u16, Vec<u8>)> {
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..split]).ok()?;
    let body = &response[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().ok()?);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.eq_ignore_ascii_case("chunked")
        {
            chunked = true;
        }
    }
    let body = if chunked {
        let mut out = Vec::new();
        let mut rest = body;
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(
                std::str::from_utf8(&rest[..end])
                    .ok()?
                    .split(';')
                    .next()?
                    .trim(),
                16,
            )
            .ok()?;
            rest = &rest[end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        out
    } else if let Some(length) = length {
        body.get(..length)?.to_vec()
    } else {
        body.to_vec()
    };
    (body.len() <= max).then_some((status, body))
}

impl TimeStampAuthority for HttpTsa {
    fn time_stamp(&self, hash: HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>, CadesError> {
        let request = time_stamp_request(hash, digest)?;
        let body = request.to_der()?;
        let mut last = String::from("no attempt made");
        for attempt in 0..self.attempts.max(1) {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
            }
            match self.post_once(&body) {
                Ok((200, response)) => return check_response(&request, &response),
                Ok((status, _)) if status >= 500 => last = format!("HTTP {status}"),
                Ok((status, _)) => return Err(tsa_error(format!("HTTP {status}"))),
                Err(e) => last = e.to_string(),
            }
        }
        Err(tsa_error(format!(
            "unreachable after {} attempts: {last}",
            self.attempts.max(1)
        )))
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
/// `signature` (B-B to B-T). `on_failure` decides what a TSA failure does.
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
    for signer_info in signed.signer_infos.0.iter() {
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
    let not = |reason| CadesError::NotExtendable { reason };
    let (tst, _) = tst_info(token)?;
    let hash = hash_of(&tst.message_imprint.hash_algorithm)
        .ok_or_else(|| tsa_error("unknown imprint hash"))?;
    let info = ContentInfo::from_der(signature).map_err(|_| not("not a DER ContentInfo"))?;
    let mut signed: SignedData = info
        .content
        .decode_as()
        .map_err(|_| not("not a SignedData"))?;
    let before: Vec<Vec<u8>> = raw::signer_infos(signature)?
        .iter()
        .filter_map(|r| raw::signed_attrs_dtbs(r).ok().flatten())
        .collect();
    let mut infos: Vec<cms::signed_data::SignerInfo> =
        signed.signer_infos.0.iter().cloned().collect();
    let target = infos
        .iter_mut()
        .find(|i| {
            hash.digest(i.signature.as_bytes()) == tst.message_imprint.hashed_message.as_bytes()
        })
        .ok_or_else(|| not("the token stamps no signature value here"))?;
    let attribute = Attribute {
        oid: oid::ID_AA_TIME_STAMP_TOKEN,
        values: SetOfVec::try_from(vec![Any::from_der(token)?])?,
    };
    let mut unsigned: Vec<Attribute> = target
        .unsigned_attrs
        .iter()
        .flat_map(|a| a.iter().cloned())
        .collect();
    unsigned.push(attribute);
    target.unsigned_attrs = Some(SetOfVec::try_from(unsigned)?);
    signed.signer_infos.0 = SetOfVec::try_from(infos)?;
    let out = ContentInfo {
        content_type: oid::ID_SIGNED_DATA,
        content: Any::encode_from(&signed)?,
    }
    .to_der()?;
    let after: Vec<Vec<u8>> = raw::signer_infos(&out)?
        .iter()
        .filter_map(|r| raw::signed_attrs_dtbs(r).ok().flatten())
        .collect();
    if !before.iter().all(|b| after.contains(b)) {
        return Err(not("re-encoding would change signed attributes"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_responses_parse() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(
            parse_http_response(plain, 100),
            Some((200, b"abc".to_vec()))
        );
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(
            parse_http_response(chunked, 100),
            Some((200, b"abcde".to_vec()))
        );
        assert_eq!(parse_http_response(b"garbage", 100), None);
        assert_eq!(parse_http_response(plain, 2), None);
        assert_eq!(
            parse_http_response(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nab", 100),
            None
        );
    }

    #[test]
    fn urls() {
        assert!(HttpTsa::new("http://127.0.0.1:3180/tsa").is_ok());
        assert!(HttpTsa::new("https://tsa.example").is_err());
        assert!(HttpTsa::new("http://host:port/").is_err());
        assert!(HttpTsa::new("http://a b/").is_err());
    }
}
