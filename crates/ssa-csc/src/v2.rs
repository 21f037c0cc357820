//! CSC API v2 under `/csc/v2`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use ssa::sad::{Amr, Otp, SigningMode};
use ssa::{CredentialInfo, Pin, SignatureAlgorithm};

use crate::codec::{self, SecretText};
use crate::error::CscError;
use crate::handler::RequestId;
use crate::handler::{bearer, blocking, request, signed};
use crate::service::{Authorize, CscService};
use crate::v1::{SignHashArgs, decode_all, hash_by_length, sign_hash_answer};

type Answer = Result<Json<Value>, CscError>;

/// `info` (GET or POST).
pub(crate) async fn info(State(csc): State<Arc<CscService>>, headers: HeaderMap) -> Json<Value> {
    let settings = csc.settings();
    let algos = codec::signature_oids(&SignatureAlgorithm::ALL);
    let levels: Vec<&str> = codec::CONFORMANCE_LEVELS.iter().map(|(n, _)| *n).collect();
    let mut info = json!({
        "specs": "2.0.0.2",
        "name": settings.name,
        "logo": "",
        "region": "",
        "lang": "en-US",
        "description": settings.description,
        "authType": ["basic"],
        "methods": [
            "auth/login", "auth/revoke", "credentials/list", "credentials/info",
            "credentials/authorize", "signatures/signHash", "signatures/signDoc"
        ],
        "asynchronousOperationMode": false,
        "validationInfo": false,
        "signAlgorithms": { "algos": algos },
        "signature_formats": { "formats": ["C"], "envelope_properties": [["Detached"]] },
        "conformance_levels": levels,
    });
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    settings.oauth.advertise(&mut info, host, "v2");
    Json(info)
}

#[derive(Deserialize)]
struct ListRequest {
    #[serde(rename = "userID", alias = "user_id")]
    user_id: Option<String>,
    #[serde(rename = "credentialInfo", alias = "credential_info", default)]
    credential_info: bool,
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
        let now = SystemTime::now();
        let signer = csc.signer(bearer.as_deref(), now)?;
        let request = request?;
        if request.user_id.is_some_and(|user| user != signer) {
            return Err(CscError::invalid_request("Invalid parameter userID"));
        }
        let ids = csc.list(&signer)?;
        let mut answer = json!({ "credentialIDs": ids });
        if request.credential_info {
            let infos = ids
                .iter()
                .map(|id| Ok(describe(&csc.info(&signer, id, now)?, "chain")))
                .collect::<Result<Vec<_>, CscError>>()?;
            answer["credentialInfos"] = json!(infos);
        }
        Ok(Json(answer))
    })
    .await
}

/// A credential as v2's `credentials/info` describes it.
fn describe(info: &CredentialInfo, certificates: &str) -> Value {
    let chain: Vec<String> = match certificates {
        "none" => Vec::new(),
        "single" => info
            .chain
            .iter()
            .take(1)
            .map(|c| codec::to_base64(c))
            .collect(),
        _ => info.chain.iter().map(|c| codec::to_base64(c)).collect(),
    };
    let mut algo: Vec<String> = Vec::new();
    for a in info
        .dtbsr_algorithms
        .iter()
        .chain(&info.document_algorithms)
    {
        if let Some(oid) = codec::signature_oid(*a).filter(|oid| !algo.contains(oid)) {
            algo.push(oid);
        }
    }
    let mut key = json!({
        "status": if info.disabled { "disabled" } else { "enabled" },
        "algo": algo,
        "len": codec::key_bits(info.key),
    });
    if let Some(curve) = codec::key_curve(info.key) {
        key["curve"] = json!(curve);
    }
    let mut objects = Vec::new();
    if info.factors.contains(&Amr::Pin) {
        objects.push(json!({ "type": "Password", "id": "PIN", "format": "N", "label": "PIN" }));
    }
    if info.factors.contains(&Amr::Otp) {
        objects.push(json!({
            "type": "Password", "id": "OTP", "format": "N", "label": "OTP", "generator": "totp"
        }));
    }
    let expression = objects
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect::<Vec<_>>()
        .join(" AND ");
    let scal = info.scal.level().to_string();
    json!({
        "credentialID": info.id,
        "key": key,
        "cert": { "status": "valid", "certificates": chain },
        "auth": { "mode": "explicit", "expression": expression, "objects": objects },
        "SCAL": scal,
        "scal": scal,
        "multisign": info.max_digests_per_sad,
        "lang": "en-US",
    })
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
        Ok(Json(describe(
            &info,
            request.certificates.as_deref().unwrap_or("single"),
        )))
    })
    .await
}

#[derive(Deserialize)]
struct AuthData {
    id: String,
    value: SecretText,
}

#[derive(Deserialize)]
struct AuthorizeRequest {
    #[serde(rename = "credentialID", alias = "credential_id")]
    credential: String,
    #[serde(rename = "numSignatures", alias = "num_signatures", default)]
    num: u32,
    #[serde(default)]
    hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", alias = "hash_algorithm_oid", default)]
    hash_algorithm: Option<String>,
    #[serde(rename = "authData", alias = "auth_data", default)]
    auth_data: Vec<AuthData>,
    /// ssa's extension: what the hashes are, `"dtbsr"` (for `signHash`,
    /// the default) or `"document"` (document digests, for `signDoc`). The
    /// SAD binds it, so one approved for documents cannot sign a DTBS/R.
    #[serde(rename = "signingMode", alias = "signing_mode", default)]
    signing_mode: Option<String>,
}

/// `credentials/authorize`: PIN and OTP in `authData` for a SAD.
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
        let hashes = decode_all(&request.hashes, "hashes")?;
        let hash = match request.hash_algorithm.as_deref() {
            Some(oid) => codec::hash_algorithm(oid, "hashAlgorithmOID")?,
            None => hash_by_length(&hashes)?,
        };
        let mode = match request.signing_mode.as_deref() {
            None | Some("dtbsr") => SigningMode::Dtbsr,
            Some("document") => SigningMode::Document,
            Some(_) => return Err(CscError::invalid_request("Invalid parameter signingMode")),
        };
        let mut pin = None;
        let mut otp = None;
        for item in &request.auth_data {
            match item.id.as_str() {
                "PIN" if pin.is_none() => pin = Some(Pin::new(item.value.expose())),
                "OTP" if otp.is_none() => otp = Some(Otp::new(item.value.expose())),
                _ => return Err(CscError::invalid_request("Invalid parameter authData")),
            }
        }
        let (sad, expires_in) = csc.authorize(
            &signer,
            Authorize {
                credential: request.credential,
                num: request.num,
                hash,
                hashes,
                mode,
                pin,
                otp,
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
    hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", alias = "hash_algorithm_oid", default)]
    hash_algorithm: Option<String>,
    #[serde(rename = "signAlgo", alias = "sign_algo")]
    sign_algo: String,
    #[serde(rename = "signAlgoParams", alias = "sign_algo_params", default)]
    sign_algo_params: Option<String>,
    #[serde(rename = "operationMode", alias = "operation_mode", default)]
    operation_mode: Option<String>,
}

fn synchronous(mode: Option<&str>) -> Result<(), CscError> {
    match mode {
        None | Some("S") => Ok(()),
        Some(_) => Err(CscError::invalid_request(
            "Invalid parameter operationMode: only S (synchronous) is offered",
        )),
    }
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
        synchronous(request.operation_mode.as_deref())?;
        let (signer, sad) = authority.authority(request.sad.as_ref(), &request.credential)?;
        sign_hash_answer(
            csc,
            &signer,
            SignHashArgs {
                credential: &request.credential,
                sad: &sad,
                hashes: &request.hashes,
                hashes_name: "hashes",
                hash_oid: request.hash_algorithm.as_deref(),
                hash_oid_name: "hashAlgorithmOID",
                sign_algo: &request.sign_algo,
                sign_algo_params: request.sign_algo_params.as_deref(),
            },
            &request_id,
            now,
        )
    })
    .await
}

#[derive(Deserialize)]
struct DocumentDigests {
    hashes: Vec<String>,
    #[serde(rename = "hashAlgorithmOID", alias = "hash_algorithm_oid", default)]
    hash_algorithm: Option<String>,
    #[serde(rename = "signature_format", alias = "signatureFormat")]
    signature_format: String,
    #[serde(rename = "conformance_level", alias = "conformanceLevel", default)]
    conformance_level: Option<String>,
    #[serde(rename = "signAlgo", alias = "sign_algo", default)]
    sign_algo: Option<String>,
    #[serde(rename = "signAlgoParams", alias = "sign_algo_params", default)]
    sign_algo_params: Option<String>,
}

#[derive(Deserialize)]
struct SignDocRequest {
    #[serde(rename = "credentialID", alias = "credential_id")]
    credential: String,
    #[serde(rename = "SAD", alias = "sad", default)]
    sad: Option<SecretText>,
    #[serde(rename = "documentDigests", alias = "document_digests", default)]
    document_digests: Vec<DocumentDigests>,
    #[serde(default)]
    documents: Option<Value>,
    #[serde(rename = "operationMode", alias = "operation_mode", default)]
    operation_mode: Option<String>,
}

/// `signatures/signDoc` with `documentDigests`: a detached CAdES
/// signature (DER CMS) per digest, at the conformance level asked.
pub(crate) async fn sign_doc(
    State(csc): State<Arc<CscService>>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::response::Response, CscError> {
    let request = request::<SignDocRequest>(&csc, body).await?;
    let bearer = bearer(&headers);
    blocking(&csc, move |csc| {
        let now = SystemTime::now();
        let authority = csc.signing_bearer(bearer.as_deref(), now)?;
        let request = request?;
        synchronous(request.operation_mode.as_deref())?;
        let (signer, sad) = authority.authority(request.sad.as_ref(), &request.credential)?;
        if request.documents.is_some() {
            return Err(CscError::invalid_request(
                "Invalid parameter documents: only documentDigests are signed (the document stays with the client)",
            ));
        }
        let [group] = request.document_digests.as_slice() else {
            return Err(CscError::invalid_request(
                "Invalid parameter documentDigests: one group of digests per request",
            ));
        };
        if !group.signature_format.eq_ignore_ascii_case("C") {
            return Err(CscError::invalid_request(
                "Invalid parameter signature_format: only C (CAdES) is offered",
            ));
        }
        let level = codec::level(group.conformance_level.as_deref().unwrap_or("Ades-B-B"))?;
        let hashes = decode_all(&group.hashes, "hashes")?;
        let hash = match group.hash_algorithm.as_deref() {
            Some(oid) => codec::hash_algorithm(oid, "hashAlgorithmOID")?,
            None => hash_by_length(&hashes)?,
        };
        let key = csc.info(&signer, &request.credential, now)?.key;
        let algorithm = group
            .sign_algo
            .as_deref()
            .map(|oid| codec::signature(oid, group.sign_algo_params.as_deref(), Some(hash), key))
            .transpose()?;
        let signatures = csc.sign_documents(
            &signer,
            &request.credential,
            &sad,
            &hashes,
            algorithm,
            level,
            Some(&request_id),
            now,
        )?;
        let encoded: Vec<String> = signatures.iter().map(|s| codec::to_base64(s)).collect();
        let count = encoded.len();
        Ok(signed(json!({ "SignatureObject": encoded }), count))
    })
    .await
}
