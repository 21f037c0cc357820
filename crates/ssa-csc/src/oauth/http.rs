//! The OAuth2 endpoints over HTTP: the page with its headers and cookie,
//! the answer's form, the token and revoke endpoints' bodies. Decisions
//! are the flow's (`flow.rs`).

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::flow::{AnswerForm, Answered, AuthorizeQuery, Opened, RevokeRequest, TokenRequest};
use super::page::{self, Lang, STYLE, View};
use crate::error::CscError;
use crate::handler::{blocking, body};
use crate::service::{CscService, parse_basic};

/// The page session's cookie: this prefix and the page's id.
const COOKIE: &str = "ssa_consent_";

/// The hash source of the page's style, for the Content-Security-Policy.
fn style_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        format!(
            "'sha256-{}'",
            crate::codec::to_base64(&ssa::HashAlgorithm::Sha256.digest(STYLE.as_bytes()))
        )
    })
}

/// An HTML answer with the page's headers: a strict policy (no script,
/// the one style by hash, the form posting only here or on to the
/// client's redirect URI), never framed, never cached.
fn html(status: u16, body: String, redirect_origin: Option<&str>) -> Response {
    let mut form_action = String::from("'self'");
    if let Some(origin) = redirect_origin {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    let policy = format!(
        "default-src 'none'; style-src {}; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'",
        style_source()
    );
    let mut response =
        (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    no_store(headers);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

fn error_page(lang: Lang, status: u16, description: &str) -> Response {
    html(status, page::error_page(lang, description), None)
}

fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, value);
            no_store(response.headers_mut());
            response
        }
        Err(_) => error_page(Lang::En, 400, "the redirect URI cannot be sent"),
    }
}

fn page_response(view: &View, status: u16) -> Response {
    html(status, view.render(), view.redirect_origin.as_deref())
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `GET oauth2/authorize`: the consent (or sign-in) page.
pub(crate) async fn authorize(
    State(csc): State<Arc<CscService>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let limit = csc.settings().limits.body_bytes;
    if uri.query().map_or(0, str::len) > limit {
        return error_page(Lang::En, 414, "the request is too long");
    }
    let query: AuthorizeQuery = match axum::extract::Query::try_from_uri(&uri) {
        Ok(axum::extract::Query(query)) => query,
        Err(_) => return error_page(Lang::En, 400, "the request's parameters are malformed"),
    };
    let accept = header_text(&headers, header::ACCEPT_LANGUAGE);
    let secure = csc.settings().oauth.secure_cookies;
    let lifetime = csc.settings().oauth.page_lifetime;
    let opened = blocking(&csc, move |csc| {
        csc.open_page(&query, accept.as_deref(), SystemTime::now())
    })
    .await;
    match opened {
        Ok(Opened::Page(view, secret)) => {
            let mut response = page_response(&view, 200);
            let cookie = format!(
                "{COOKIE}{}={}; Path=/; Max-Age={lifetime}; HttpOnly; SameSite=Strict{}",
                view.page_id(),
                secret.expose(),
                if secure { "; Secure" } else { "" }
            );
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Opened::Refused(lang, description)) => error_page(lang, 400, &description),
        Ok(Opened::Redirect(location)) => see_other(&location),
        Err(e) => error_page(Lang::En, e.status.as_u16(), &e.description),
    }
}

/// Whether `page` is a page id (16 hex digits), which may name a cookie.
fn page_id_ok(page: &str) -> bool {
    page.len() == 16 && page.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The secret of page `page`'s session, from the `Cookie` header.
fn session(headers: &HeaderMap, page: &str) -> Option<String> {
    if !page_id_ok(page) {
        return None;
    }
    let wanted = format!("{COOKIE}{page}");
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == wanted).then(|| value.to_owned())
        })
}

fn form<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, CscError> {
    if bytes.is_empty() {
        return Ok(T::default());
    }
    serde_urlencoded::from_bytes(bytes)
        .map_err(|_| CscError::invalid_request("the form is malformed"))
}

/// `POST oauth2/authorize`: the signer's answer on the page.
pub(crate) async fn answer(
    State(csc): State<Arc<CscService>>,
    headers: HeaderMap,
    raw: Body,
) -> Response {
    let bytes = match body(raw, csc.settings().limits.body_bytes).await {
        Ok(bytes) => bytes,
        Err(e) => return error_page(Lang::En, e.status.as_u16(), &e.description),
    };
    let answer: AnswerForm = match form(&bytes) {
        Ok(answer) => answer,
        Err(e) => return error_page(Lang::En, 400, &e.description),
    };
    let page = answer.page.clone().unwrap_or_default();
    let session = session(&headers, &page);
    let answered = blocking(&csc, move |csc| {
        csc.answer_page(session.as_deref(), &answer, SystemTime::now())
    })
    .await;
    let mut response = match answered {
        Ok(Answered::Redirect(location)) => see_other(&location),
        Ok(Answered::Page(view, status)) => page_response(&view, status),
        Ok(Answered::Refused(lang, status, description)) => error_page(lang, status, &description),
        Err(e) => error_page(Lang::En, e.status.as_u16(), &e.description),
    };
    if response.status() == StatusCode::SEE_OTHER && page_id_ok(&page) {
        // The page is answered: its cookie goes.
        let gone = format!("{COOKIE}{page}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&gone) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// A token or revoke request: a form (RFC 6749), or JSON.
fn token_body<T: DeserializeOwned + Default>(
    headers: &HeaderMap,
    bytes: &[u8],
) -> Result<T, CscError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    if json {
        crate::codec::json(bytes)
    } else {
        form(bytes)
    }
}

fn client_basic(headers: &HeaderMap) -> Option<(String, zeroize::Zeroizing<String>)> {
    header_text(headers, header::AUTHORIZATION)
        .as_deref()
        .and_then(parse_basic)
}

/// `POST oauth2/token`.
pub(crate) async fn token(
    State(csc): State<Arc<CscService>>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, CscError> {
    let bytes = body(raw, csc.settings().limits.body_bytes).await?;
    let request: TokenRequest = token_body(&headers, &bytes)?;
    let basic = client_basic(&headers);
    let answer = blocking(&csc, move |csc| {
        csc.exchange(&request, basic, SystemTime::now())
    })
    .await?;
    let mut response = axum::Json(answer).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// `POST oauth2/revoke`.
pub(crate) async fn revoke(
    State(csc): State<Arc<CscService>>,
    headers: HeaderMap,
    raw: Body,
) -> Result<Response, CscError> {
    let bytes = body(raw, csc.settings().limits.body_bytes).await?;
    let request: RevokeRequest = token_body(&headers, &bytes)?;
    let basic = client_basic(&headers);
    blocking(&csc, move |csc| {
        csc.revoke_grant(&request, basic, SystemTime::now())
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}
