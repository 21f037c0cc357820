//! The consent page, in English and Japanese: maud templates (every value
//! escaped), no script, one inline style allowed by its hash in the
//! Content-Security-Policy.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::{Deserialize, Serialize};
use ssa::CredentialInfo;
use ssa::sad::Amr;

use super::flow::{Pending, Scope};

/// The page's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Lang {
    /// English.
    En,
    /// Japanese.
    Ja,
}

impl Lang {
    /// `lang` if it names one of ours, else the first of ours in
    /// `Accept-Language` (entries with `q=0` skipped), else English.
    pub(crate) fn choose(lang: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(lang) = lang.and_then(Self::of) {
            return lang;
        }
        accept_language
            .into_iter()
            .flat_map(|header| header.split(','))
            .filter(|entry| {
                !entry
                    .split(';')
                    .skip(1)
                    .any(|p| p.trim().strip_prefix("q=").is_some_and(|q| q.trim() == "0"))
            })
            .find_map(|entry| Self::of(entry.split(';').next().unwrap_or("").trim()))
            .unwrap_or(Self::En)
    }

    fn of(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ja" => Some(Self::Ja),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
        }
    }

    fn texts(self) -> &'static Texts {
        match self {
            Self::En => &EN,
            Self::Ja => &JA,
        }
    }
}

/// What the page tells the signer after an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    /// Wrong factors (or sign-in): generic on purpose.
    Refused,
    /// The credential (or account) is locked.
    Locked,
    /// The service could not answer now.
    Unavailable,
}

struct Texts {
    title: &'static str,
    sign_in_title: &'static str,
    asks: &'static str,
    asks_sign_in: &'static str,
    service: &'static str,
    client: &'static str,
    signer: &'static str,
    credential: &'static str,
    subject: &'static str,
    issuer: &'static str,
    validity: &'static str,
    to: &'static str,
    documents: &'static str,
    count: &'static str,
    hash: &'static str,
    document: &'static str,
    digest: &'static str,
    signatures: &'static str,
    description: &'static str,
    pin: &'static str,
    otp: &'static str,
    user: &'static str,
    password: &'static str,
    approve: &'static str,
    sign_in: &'static str,
    deny: &'static str,
    refused: &'static str,
    locked: &'static str,
    unavailable: &'static str,
    error_title: &'static str,
}

static EN: Texts = Texts {
    title: "Approve signing",
    sign_in_title: "Sign in",
    asks: "The application below asks to sign with your credential. Check every document before you approve.",
    asks_sign_in: "The application below asks to act for your account.",
    service: "Service",
    client: "Application",
    signer: "Signer",
    credential: "Credential",
    subject: "Certificate subject",
    issuer: "Certificate issuer",
    validity: "Valid",
    to: "to",
    documents: "Documents to sign",
    count: "Number of documents",
    hash: "Hash algorithm",
    document: "Document",
    digest: "Digest",
    signatures: "Signatures allowed",
    description: "Description",
    pin: "PIN",
    otp: "One-time password",
    user: "Account",
    password: "Password",
    approve: "Approve and sign",
    sign_in: "Sign in",
    deny: "Deny",
    refused: "The authentication data were not accepted. Try again.",
    locked: "This credential is locked after too many failed attempts. Contact the service.",
    unavailable: "The service cannot answer now. Try again later.",
    error_title: "This request cannot be served",
};

static JA: Texts = Texts {
    title: "署名の承認",
    sign_in_title: "サインイン",
    asks: "次のアプリケーションが、あなたの署名鍵による署名を求めています。承認する前に、すべての文書を確認してください。",
    asks_sign_in: "次のアプリケーションが、あなたのアカウントでの操作を求めています。",
    service: "サービス",
    client: "アプリケーション",
    signer: "署名者",
    credential: "署名鍵（クレデンシャル）",
    subject: "証明書の主体者",
    issuer: "証明書の発行者",
    validity: "有効期間",
    to: "〜",
    documents: "署名する文書",
    count: "文書の数",
    hash: "ハッシュアルゴリズム",
    document: "文書",
    digest: "ダイジェスト",
    signatures: "許可する署名の数",
    description: "説明",
    pin: "PIN",
    otp: "ワンタイムパスワード",
    user: "アカウント",
    password: "パスワード",
    approve: "承認して署名する",
    sign_in: "サインイン",
    deny: "拒否する",
    refused: "認証情報が受け付けられませんでした。もう一度お試しください。",
    locked: "失敗が多すぎたため、この署名鍵はロックされています。サービスにお問い合わせください。",
    unavailable: "現在サービスが応答できません。しばらくしてからお試しください。",
    error_title: "この要求は処理できません",
};

/// The page's only style; the Content-Security-Policy allows it by hash.
pub(crate) const STYLE: &str = "body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#111}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #ccc;vertical-align:top}\
code.digest{font-family:monospace;word-spacing:.4em;overflow-wrap:anywhere}\
.message{padding:.6em;border:2px solid #a00;color:#a00}\
label{display:block;margin:.8em 0 .2em}button{margin:1em 1em 0 0;padding:.5em 1.2em}";

/// The digest in hex, four bytes to a group, for reading aloud.
pub(crate) fn grouped_hex(bytes: &[u8]) -> String {
    bytes
        .chunks(4)
        .map(ssa::store::durable::hex)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One document as shown.
struct Document {
    label: Option<String>,
    digest: String,
}

/// Everything the page shows.
pub(crate) struct View {
    lang: Lang,
    service: String,
    client: String,
    scope: Scope,
    signer: Option<String>,
    credential: Option<String>,
    subject: Option<String>,
    issuer: Option<String>,
    validity: Option<(String, String)>,
    documents: Vec<Document>,
    hash: Option<String>,
    num: u32,
    description: Option<String>,
    csrf: String,
    pin: bool,
    otp: bool,
    message: Option<Message>,
    request_error: Option<String>,
    /// Where the form's answer may be sent on: the client's redirect URI's
    /// origin (for `form-action`).
    pub(crate) redirect_origin: Option<String>,
}

impl View {
    pub(crate) fn new(
        service: String,
        client: String,
        pending: &Pending,
        info: Option<&CredentialInfo>,
        message: Option<Message>,
    ) -> Self {
        let certificate = info
            .and_then(|i| i.chain.first())
            .and_then(|der| <x509_cert::Certificate as der::Decode>::from_der(der).ok());
        let tbs = certificate.as_ref().map(|c| c.tbs_certificate());
        Self {
            lang: pending.lang,
            service,
            client,
            scope: pending.scope,
            signer: pending.signer.clone(),
            credential: pending.credential.clone(),
            subject: tbs.map(|t| t.subject().to_string()),
            issuer: tbs.map(|t| t.issuer().to_string()),
            validity: tbs.map(|t| {
                (
                    t.validity().not_before.to_string(),
                    t.validity().not_after.to_string(),
                )
            }),
            documents: pending
                .hashes
                .iter()
                .zip(&pending.labels)
                .map(|(hash, label)| Document {
                    label: label.clone(),
                    digest: grouped_hex(hash),
                })
                .collect(),
            hash: pending.hash.clone(),
            num: pending.num,
            description: pending.description.clone(),
            csrf: pending.csrf.to_string(),
            pin: info.is_some_and(|i| i.factors.contains(&Amr::Pin)),
            otp: info.is_some_and(|i| i.factors.contains(&Amr::Otp)),
            message,
            request_error: None,
            redirect_origin: origin(&pending.redirect_uri),
        }
    }

    /// The page's id: names its session cookie, so pages open in several
    /// tabs keep their own sessions.
    pub(crate) fn page_id(&self) -> String {
        page_id(&self.csrf)
    }

    /// A refusal that was about the request (not the factors) is told as
    /// it is.
    pub(crate) fn set_request_error(&mut self, about_request: bool, description: &str) {
        if about_request {
            self.request_error = Some(description.to_owned());
        }
    }

    /// The page.
    pub(crate) fn render(&self) -> String {
        let t = self.lang.texts();
        let title = match self.scope {
            Scope::Credential => t.title,
            Scope::Service => t.sign_in_title,
        };
        let body = html! {
            h1 { (title) }
            p { (match self.scope { Scope::Credential => t.asks, Scope::Service => t.asks_sign_in }) }
            @if let Some(message) = self.message {
                p.message role="alert" #message {
                    (match message {
                        Message::Refused => t.refused,
                        Message::Locked => t.locked,
                        Message::Unavailable => t.unavailable,
                    })
                    @if let Some(error) = &self.request_error { " (" (error) ")" }
                }
            }
            table #request {
                tr { th { (t.service) } td #service { (self.service) } }
                tr { th { (t.client) } td #client { (self.client) } }
                @if let Some(signer) = &self.signer { tr { th { (t.signer) } td #signer { (signer) } } }
                @if let Some(credential) = &self.credential { tr { th { (t.credential) } td #credential { (credential) } } }
                @if let Some(subject) = &self.subject { tr { th { (t.subject) } td #subject { (subject) } } }
                @if let Some(issuer) = &self.issuer { tr { th { (t.issuer) } td #issuer { (issuer) } } }
                @if let Some((from, to)) = &self.validity {
                    tr { th { (t.validity) } td #validity { (from) " " (t.to) " " (to) } }
                }
                @if let Some(description) = &self.description { tr { th { (t.description) } td #description { (description) } } }
            }
            @if self.scope == Scope::Credential {
                h2 { (t.documents) }
                table {
                    tr { th { (t.count) } td #count { (self.documents.len()) } }
                    @if let Some(hash) = &self.hash { tr { th { (t.hash) } td #hash { (hash) } } }
                    tr { th { (t.signatures) } td #num { (self.num) } }
                }
                table #documents {
                    tr { th { "#" } th { (t.document) } th { (t.digest) } }
                    @for (i, document) in self.documents.iter().enumerate() {
                        tr.document {
                            td { (i + 1) }
                            td.label {
                                @if let Some(label) = &document.label { (label) }
                                @else { (t.document) " " (i + 1) }
                            }
                            td { code.digest { (document.digest) } }
                        }
                    }
                }
            }
            form #consent method="post" action="authorize" autocomplete="off" {
                input type="hidden" name="page" value=(self.page_id());
                input type="hidden" name="csrf" value=(self.csrf);
                @if self.scope == Scope::Service {
                    label for="username" { (t.user) }
                    input #username type="text" name="username" autocomplete="username";
                    label for="password" { (t.password) }
                    input #password type="password" name="password" autocomplete="current-password";
                }
                @if self.pin {
                    label for="pin" { (t.pin) }
                    input #pin type="password" name="pin" inputmode="numeric" autocomplete="off";
                }
                @if self.otp {
                    label for="otp" { (t.otp) }
                    input #otp type="text" name="otp" inputmode="numeric" autocomplete="one-time-code";
                }
                div {
                    button #approve type="submit" name="action" value="approve" {
                        (match self.scope { Scope::Credential => t.approve, Scope::Service => t.sign_in })
                    }
                    button #deny type="submit" name="action" value="deny" { (t.deny) }
                }
            }
        };
        document(self.lang, title, &body)
    }
}

/// The id of the page whose CSRF token is `csrf` (not a secret: the
/// cookie it names is).
pub(crate) fn page_id(csrf: &str) -> String {
    ssa::store::durable::hex(&ssa::HashAlgorithm::Sha256.digest(csrf.as_bytes())[..8])
}

/// An error page (no form).
pub(crate) fn error_page(lang: Lang, description: &str) -> String {
    let t = lang.texts();
    let body = html! {
        h1 { (t.error_title) }
        p.message #message { (description) }
    };
    document(lang, t.error_title, &body)
}

fn document(lang: Lang, title: &str, body: &Markup) -> String {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    }
    .into_string()
}

/// The origin of a redirect URI (`scheme://authority`, or `scheme:` for a
/// private-use scheme), if it is made of characters a
/// Content-Security-Policy source may hold.
fn origin(uri: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+-.:[]".contains(c);
    let (scheme, rest) = uri.split_once(':')?;
    if scheme.is_empty() || !scheme.chars().all(|c| allowed(c) && c != ':') {
        return None;
    }
    match rest.strip_prefix("//") {
        Some(rest) => {
            let authority = rest.split(['/', '?', '#']).next()?;
            (!authority.is_empty() && !authority.contains('@') && authority.chars().all(allowed))
                .then(|| format!("{scheme}://{authority}"))
        }
        None => Some(format!("{scheme}:")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_comes_from_lang_then_accept_language() {
        assert_eq!(Lang::choose(Some("ja-JP"), Some("en")), Lang::Ja);
        assert_eq!(Lang::choose(Some("fr"), Some("fr, ja;q=0.8")), Lang::Ja);
        assert_eq!(Lang::choose(None, Some("ja;q=0, en")), Lang::En);
        assert_eq!(Lang::choose(None, Some("de")), Lang::En);
        assert_eq!(Lang::choose(None, None), Lang::En);
    }

    #[test]
    fn digests_are_grouped_by_four_bytes() {
        assert_eq!(grouped_hex(&[0xde, 0xad, 0xbe, 0xef, 0x01]), "deadbeef 01");
    }

    #[test]
    fn origins_fit_a_policy_or_are_none() {
        assert_eq!(
            origin("https://app.example:8443/cb?x=1").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(
            origin("com.example.app:/cb").as_deref(),
            Some("com.example.app:")
        );
        assert_eq!(origin("https://a.example;script-src *"), None);
        assert_eq!(origin("https://user@a.example/"), None);
        assert_eq!(origin("nothing"), None);
    }
}
