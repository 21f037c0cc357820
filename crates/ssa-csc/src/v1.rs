//! CSC API v1.0.4 under `/csc/v1`, as existing clients (pyHanko's
//! `CSCSigner`) speak it.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use ssa::sad::{Amr, Otp, Sad, SigningMode};
use ssa::{HashAlgorithm, Pin};

use crate::codec::{self, SecretText};
use crate::error::CscError;
use crate::handler::RequestId;
use crate::handler::{authorization, bearer, blocking, request, signed};
use crate::service::{Authorize, CscService};

type Answer = Result<Json<Value>, CscError>;

/// `info`.
pub(crate) async fn info(State(csc): State<Arc<CscService>>, headers: HeaderMap) -> Json<Value> {
    let settings = csc.settings();
    let mut info = json!({
        "specs": "1.0.4.0",
        "name": settings.name,
        "logo": "",
        "region": "",
        "lang": "en-US",
        "description": settings.description,
        "authType": ["basic"],
        "methods": [
            "auth/login", "auth/revoke", "credentials/list", "credentials/info",
            "credentials/authorize", "signatures/signHash"
        ],
    });
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    settings.oauth.advertise(&mut info, host, "v1");
    Json(info)
}

/// `auth/login` (HTTP Basic).
pub(crate) async fn login(State(csc): State<Arc<CscService>>, headers: HeaderMap) -> Answer {
    let basic = authorization(&headers);
    blocking(&csc, move |csc| {
        let token = csc.login(basic.as_deref(), SystemTime::now())?;
        Ok(Json(json!({
            "access_token": token.expose(),
            "expires_in": csc.token_lifetime(),
        })))
    })
    .await
}

#[derive(Deserialize)]
struct RevokeRequest {
    token: Option<String>,
}

/// `auth/revoke`.
pub(crate) async fn revoke(
    State(csc): State<Arc<CscService>>,
    headers: HeaderMap,
    body: Body,
) -> Result<StatusCode, CscError> {
    let request = request::<RevokeRequest>(&csc, body).await?;
    let bearer = bearer(&headers);
    blocking(&csc, move |csc| {
        let now = SystemTime::now();
        csc.signer(bearer.as_deref(), now)?;
        let request = request?;
        csc.revoke(bearer.as_deref(), request.token.as_deref(), now)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ListRequest {
    #[serde(rename = "userID", alias = "user_id")]
    user_id: Option<String>,
}

/// `credentials/list`: the bearer's own credentials.
pub(crate) async fn list(
    State(csc): State<Arc<CscService>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request = request::<ListRequest>(&csc, body).await?;
    let bearer = bearer(&headers);
    blocking(&csc, move |csc| {
        let signer = csc.signer(bearer.as_deref(), SystemTime::now())?;
        let request = request?;
        if request.user_id.is_some_and(|user| user != signer) {
            return Err(CscError::invalid_request("Invalid parameter userID"));
        }
        Ok(Json(json!({ "credentialIDs": csc.list(&signer)? })))
    })
    .await
}

#[derive(Deserialize)]
struct InfoRequest {
    #[serde(rename = "credentialID", alias = "credential_id")]
    credential: String,
    #[serde(default)]
    certificates: Option<String>,
}

/// `credentials/info`.
pub(crate) async fn credential_info(
    State(csc): State<Arc<CscService>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request = request::<InfoRequest>(&csc, body).await?;
    let bearer = bearer(&headers);
    blocking(&csc, move |csc| {
        let now = SystemTime::now();
        let signer = csc.signer(bearer.as_deref(), now)?;
        let request = request?;
        let info = csc.info(&signer, &request.credential, now)?;
        let certificates: Vec<String> = match request.certificates.as_deref() {
            Some("none") => Vec::new(),
            Some("single") => info
                .chain
                .iter()
                .take(1)
                .map(|c| codec::to_base64(c))
                .collect(),
            _ => info.chain.iter().map(|c| codec::to_base64(c)).collect(),
        };
        let algo = codec::signature_oids(&info.dtbsr_algorithms);
        let mut key = json!({
            "status": if info.disabled { "disabled" } else { "enabled" },
            "algo": algo,
            "len": codec::key_bits(info.key),
        });
        if let Some(curve) = codec::key_curve(info.key) {
            key["curve"] = json!(curve);
        }
        let mut answer = json!({
            "key": key,
            "cert": { "status": "valid", "certificates": certificates },
            "authMode": "explicit",
            "SCAL": info.scal.level().to_string(),
            "multisign": info.max_digests_per_sad,
        });
        if info.factors.contains(&Amr::Pin) {
            answer["PIN"] = json!({ "presence": "true", "format": "N", "label": "PIN" });
        }
        if info.factors.contains(&Amr::Otp) {
            answer["OTP"] = json!({
                "presence": "true", "type": "offline", "ID": "totp",
                "format": "N", "label": "OTP", "provider": "RFC 6238"
            });
        }
        Ok(Json(answer))
    })
    .await
}

#[derive(Deserialize)]
struct AuthorizeRequest {
    #[serde(rename = "credentialID", alias = "credential_id")]
    credential: String,
    #[serde(rename = "numSignatures", alias = "num_signatures", default)]
    num: u32,
    #[serde(default)]
    hash: Vec<String>,
    #[serde(rename = "PIN", default)]
    pin: Option<SecretText>,
    #[serde(rename = "OTP", default)]
    otp: Option<SecretText>,
}

/// The hash algorithm of `hashes`, by their length (v1.0.4's authorize
/// names none); SHA-256 for none.
pub(crate) fn hash_by_length(hashes: &[Vec<u8>]) -> Result<HashAlgorithm, CscError> {
    let Some(first) = hashes.first() else {
        return Ok(HashAlgorithm::Sha256);
    };
    let hash = [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ]
    .into_iter()
    .find(|h| h.digest_len() == first.len())
    .ok_or_else(|| CscError::invalid_request("Invalid digest value length"))?;
    if hashes.iter().any(|h| h.len() != first.len()) {
        return Err(CscError::invalid_request("Invalid digest value length"));
    }
    Ok(hash)
}

pub(crate) fn decode_all(values: &[String], parameter: &str) -> Result<Vec<Vec<u8>>, CscError> {
    values.iter().map(|v| codec::base64(v, parameter)).collect()
}

/// `credentials/authorize`: PIN and OTP for a SAD over the hashes (DTBS/R).
pub(crate) async fn authorize(
    State(csc): State<Arc<CscService>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let request = request::<AuthorizeRequest>(&csc, body).await?;
    let bearer = bearer(&headers);
    blocking(&csc, move |csc| {
        let now = SystemTime::now();
        let signer = csc.signer(bearer.as_deref(), now)?;
        let request = request?;
        let hashes = decode_all(&request.hash, "hash")?;
        let (sad, expires_in) = csc.authorize(
            &signer,
            Authorize {
                credential: request.credential,
                num: request.num,
                hash: hash_by_length(&hashes)?,
                hashes,
                mode: SigningMode::Dtbsr,
                pin: request.pin.map(|p| Pin::new(p.expose())),
                otp: request.otp.map(|o| Otp::new(o.expose())),
                request_id: Some(request_id),
            },
            now,
        )?;
        Ok(Json(
            json!({ "SAD": sad.as_str(), "expiresIn": expires_in }),
        ))
    })
    .await
}

#[derive(Deserialize)]
struct SignHashRequest {
    #[serde(rename = "credentialID", alias = "credential_id")]
    credential: String,
    #[serde(rename = "SAD", alias = "sad", default)]
    sad: Option<SecretText>,
    hash: Vec<String>,
    #[serde(rename = "hashAlgo", alias = "hash_algo", default)]
    hash_algo: Option<String>,
    #[serde(rename = "signAlgo", alias = "sign_algo")]
    sign_algo: String,
    #[serde(rename = "signAlgoParams", alias = "sign_algo_params", default)]
    sign_algo_params: Option<String>,
}

/// `signatures/signHash`: one signature per hash, in order.
pub(crate) async fn sign_hash(
    State(csc): State<Arc<CscService>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::response::Response, CscError> {
    let request = request::<SignHashRequest>(&csc, body).await?;
    let bearer = bearer(&headers);
    blocking(&csc, move |csc| {
        let now = SystemTime::now();
        let authority = csc.signing_bearer(bearer.as_deref(), now)?;
        let request = request?;
        let (signer, sad) = authority.authority(request.sad.as_ref(), &request.credential)?;
        sign_hash_answer(
            csc,
            &signer,
            SignHashArgs {
                credential: &request.credential,
                sad: &sad,
                hashes: &request.hash,
                hashes_name: "hash",
                hash_oid: request.hash_algo.as_deref(),
                hash_oid_name: "hashAlgo",
                sign_algo: &request.sign_algo,
                sign_algo_params: request.sign_algo_params.as_deref(),
            },
            &request_id,
            now,
        )
    })
    .await
}

/// A signHash request as both versions carry it (the parameters' names,
/// for errors, differ).
pub(crate) struct SignHashArgs<'a> {
    pub(crate) credential: &'a str,
    pub(crate) sad: &'a Sad,
    pub(crate) hashes: &'a [String],
    pub(crate) hashes_name: &'static str,
    pub(crate) hash_oid: Option<&'a str>,
    pub(crate) hash_oid_name: &'static str,
    pub(crate) sign_algo: &'a str,
    pub(crate) sign_algo_params: Option<&'a str>,
}

/// `signatures/signHash` of either version: the algorithm asked for, for
/// the bearer's own credential, one signature per hash, in order.
pub(crate) fn sign_hash_answer(
    csc: &CscService,
    signer: &str,
    args: SignHashArgs<'_>,
    request_id: &str,
    now: SystemTime,
) -> Result<axum::response::Response, CscError> {
    let hash = args
        .hash_oid
        .map(|oid| codec::hash_algorithm(oid, args.hash_oid_name))
        .transpose()?;
    let key = csc.info(signer, args.credential, now)?.key;
    let algorithm = codec::signature(args.sign_algo, args.sign_algo_params, hash, key)?;
    let hashes = decode_all(args.hashes, args.hashes_name)?;
    let signatures = csc.sign_hash(
        signer,
        args.credential,
        args.sad,
        &hashes,
        algorithm,
        Some(request_id),
        now,
    )?;
    let encoded: Vec<String> = signatures.iter().map(|s| codec::to_base64(s)).collect();
    let count = encoded.len();
    Ok(signed(json!({ "signatures": encoded }), count))
}
