//! Time-Stamp Protocol types (RFC 3161 §2.4). The `x509-tsp` crate has them
//! for der 0.7 only; these are for der 0.8 and cms 0.3.

use cms::content_info::ContentInfo;
use der::asn1::{BitString, GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extensions;
use x509_cert::ext::pkix::name::GeneralName;

/// RFC 3161 §2.4.1.
///
/// ```text
/// TimeStampReq ::= SEQUENCE {
///     version          INTEGER  { v1(1) },
///     messageImprint   MessageImprint,
///     reqPolicy        TSAPolicyId              OPTIONAL,
///     nonce            INTEGER                  OPTIONAL,
///     certReq          BOOLEAN                  DEFAULT FALSE,
///     extensions       [0] IMPLICIT Extensions  OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TimeStampReq {
    /// Always 1.
    pub version: u8,
    /// The hash of the data to time-stamp.
    pub message_imprint: MessageImprint,
    /// The TSA policy asked for.
    #[asn1(optional = "true")]
    pub req_policy: Option<ObjectIdentifier>,
    /// A nonce the response must repeat.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// Whether the TSA must put its certificate in the token.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Extensions.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// RFC 3161 §2.4.1.
///
/// ```text
/// MessageImprint ::= SEQUENCE {
///     hashAlgorithm   AlgorithmIdentifier,
///     hashedMessage   OCTET STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash.
    pub hashed_message: OctetString,
}

/// RFC 3161 §2.4.2.
///
/// ```text
/// TimeStampResp ::= SEQUENCE {
///     status          PKIStatusInfo,
///     timeStampToken  TimeStampToken  OPTIONAL }
/// TimeStampToken ::= ContentInfo
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TimeStampResp {
    /// Granted or not, and why.
    pub status: PkiStatusInfo,
    /// The token, when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<ContentInfo>,
}

/// RFC 3161 §2.4.2 (from RFC 4210).
///
/// ```text
/// PKIStatusInfo ::= SEQUENCE {
///     status        PKIStatus,
///     statusString  PKIFreeText     OPTIONAL,
///     failInfo      PKIFailureInfo  OPTIONAL }
/// PKIStatus ::= INTEGER { granted(0), grantedWithMods(1), rejection(2), waiting(3),
///                         revocationWarning(4), revocationNotification(5) }
/// PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
/// PKIFailureInfo ::= BIT STRING
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PkiStatusInfo {
    /// The status.
    pub status: u8,
    /// Text from the TSA.
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// Why it failed.
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// RFC 3161 §2.4.2.
///
/// ```text
/// TSTInfo ::= SEQUENCE {
///     version         INTEGER  { v1(1) },
///     policy          TSAPolicyId,
///     messageImprint  MessageImprint,
///     serialNumber    INTEGER,
///     genTime         GeneralizedTime,
///     accuracy        Accuracy                 OPTIONAL,
///     ordering        BOOLEAN                  DEFAULT FALSE,
///     nonce           INTEGER                  OPTIONAL,
///     tsa             [0] GeneralName          OPTIONAL,
///     extensions      [1] IMPLICIT Extensions  OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct TstInfo {
    /// Always 1.
    pub version: u8,
    /// The TSA policy.
    pub policy: ObjectIdentifier,
    /// What was time-stamped.
    pub message_imprint: MessageImprint,
    /// The token's serial number.
    pub serial_number: Int,
    /// The time (fractional seconds allowed, RFC 3161 §2.4.2).
    pub gen_time: GenTime,
    /// How exact the time is.
    #[asn1(optional = "true")]
    pub accuracy: Option<Accuracy>,
    /// Whether tokens of this TSA can be ordered by genTime alone.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The request's nonce.
    #[asn1(optional = "true")]
    pub nonce: Option<Int>,
    /// The TSA's name (a CHOICE, hence explicitly tagged).
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<GeneralName>,
    /// Extensions.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// RFC 3161 §2.4.2.
///
/// ```text
/// Accuracy ::= SEQUENCE {
///     seconds  INTEGER            OPTIONAL,
///     millis   [0] INTEGER (1..999) OPTIONAL,
///     micros   [1] INTEGER (1..999) OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct Accuracy {
    /// Seconds.
    #[asn1(optional = "true")]
    pub seconds: Option<u64>,
    /// Milliseconds.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub millis: Option<u16>,
    /// Microseconds.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub micros: Option<u16>,
}

/// A `GeneralizedTime` as RFC 3161 §2.4.2 allows it in `genTime`:
/// `YYYYMMDDhhmmss[.s...]Z`, with fractional seconds (OpenSSL's TSA writes
/// them with `clock_precision_digits`), which `der`'s `GeneralizedTime`
/// refuses. Kept as received; the fraction is read to the nanosecond.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct GenTime {
    text: Vec<u8>,
    at: std::time::SystemTime,
}

impl GenTime {
    /// The time, to the whole second (what this crate writes).
    pub fn from_system_time(at: std::time::SystemTime) -> der::Result<Self> {
        let whole = GeneralizedTime::from_system_time(at)?;
        let text = whole.to_der()?[2..].to_vec();
        Ok(Self {
            at: whole.to_system_time(),
            text,
        })
    }

    /// The time, fraction included.
    pub fn to_system_time(&self) -> std::time::SystemTime {
        self.at
    }

    fn parse(text: &[u8]) -> Option<std::time::SystemTime> {
        let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // The whole seconds through der's own (strict) reading.
        let mut strict = Vec::with_capacity(17);
        strict.extend_from_slice(&[0x18, 15]);
        strict.extend_from_slice(whole.as_bytes());
        strict.push(b'Z');
        let base = GeneralizedTime::from_der(&strict).ok()?.to_system_time();
        let nanos = match fraction {
            None => 0,
            Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
                let digits: String = f.chars().chain(std::iter::repeat('0')).take(9).collect();
                digits.parse::<u32>().ok()?
            }
            Some(_) => return None,
        };
        Some(base + std::time::Duration::from_nanos(u64::from(nanos)))
    }
}

impl der::FixedTag for GenTime {
    const TAG: der::Tag = der::Tag::GeneralizedTime;
}

impl<'a> der::DecodeValue<'a> for GenTime {
    type Error = der::Error;
    fn decode_value<R: der::Reader<'a>>(reader: &mut R, header: der::Header) -> der::Result<Self> {
        let text = reader.read_vec(header.length())?;
        let at = Self::parse(&text).ok_or_else(|| der::Error::from(der::ErrorKind::DateTime))?;
        Ok(Self { text, at })
    }
}

impl der::EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<der::Length> {
        der::Length::try_from(self.text.len())
    }
    fn encode_value(&self, writer: &mut impl der::Writer) -> der::Result<()> {
        writer.write(&self.text)
    }
}
