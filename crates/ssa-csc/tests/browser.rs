//! The consent page in a real browser (Debian's Chromium, driven over
//! WebDriver by `chromedriver`): the signer reads the documents' labels
//! and digests in Japanese and in English, types PIN and OTP, approves;
//! the client application (a loopback server) gets the code, exchanges it
//! with its PKCE verifier and signs with `signHash`; OpenSSL verifies.
//! And what an attacker tries in the browser: a label carrying a script,
//! the page framed by another origin.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::oauth::{Ask, CLIENT, SECRET, pkce, post_form};
use common::{Server, b64, client_at, otp, unb64};
use der::{Decode, Encode};
use serde_json::{Value, json};
use ssa::{HashAlgorithm, KeyAlgorithm, Scal, SignatureAlgorithm};
use ssa_testkit::loopback::LoopbackServer;
use ssa_testkit::webdriver::{Chromedriver, Session};

/// The client application: `/callback` (where the signer's browser comes
/// back) and `/frame` (a page of another origin that frames `framed`).
struct ClientApp {
    server: LoopbackServer,
    framed: Arc<Mutex<String>>,
}

impl ClientApp {
    fn start() -> Self {
        let framed = Arc::new(Mutex::new(String::new()));
        let shown = Arc::clone(&framed);
        let server = LoopbackServer::start(move |line: &str, _body: &[u8]| {
            let page = if line.starts_with("GET /frame") {
                let src = shown
                    .lock()
                    .unwrap()
                    .replace('&', "&amp;")
                    .replace('"', "&quot;");
                format!(
                    "<!DOCTYPE html><title>app</title><iframe id=\"f\" src=\"{src}\" width=800 height=600></iframe>"
                )
            } else {
                "<!DOCTYPE html><title>app</title><p id=\"back\">back at the application</p>"
                    .to_owned()
            };
            Some(("text/html; charset=utf-8", page.into_bytes()))
        });
        Self { server, framed }
    }

    fn callback(&self) -> String {
        format!("{}/callback", self.server.base_url())
    }
}

fn server_for(app: &ClientApp) -> Server {
    Server::start(|options| {
        options.settings.oauth.clients = vec![common::oauth::client_at(&app.callback())];
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The documents' digests as the page shows them, spaces removed.
fn digests_shown(browser: &Session) -> Vec<String> {
    browser
        .find_all("code.digest")
        .iter()
        .map(|e| browser.text(e).split_whitespace().collect())
        .collect()
}

fn labels_shown(browser: &Session) -> Vec<String> {
    browser
        .find_all("td.label")
        .iter()
        .map(|e| browser.text(e))
        .collect()
}

/// Saves a screenshot under the tests' output directory; checks it is a
/// PNG with something in it.
fn screenshot(browser: &Session, name: &str) {
    let png = browser.screenshot();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{name}: {} bytes",
        png.len()
    );
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("consent-pages");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
}

#[test]
fn the_signer_approves_in_a_browser_and_the_signature_verifies() {
    let app = ClientApp::start();
    let server = server_for(&app);
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let documents = ["契約書 2026-12.pdf", "Invoice 42.pdf"];
    let hashes: Vec<Vec<u8>> = documents
        .iter()
        .map(|d| HashAlgorithm::Sha256.digest(format!("DTBS/R of {d}").as_bytes()))
        .collect();
    let pair = pkce();
    let callback = app.callback();
    let mut ask = Ask::new(&alice.credential, &hashes, &pair.challenge);
    ask.labels = Some(&documents);
    ask.redirect = &callback;
    ask.state = "state-42";

    let driver = Chromedriver::start();
    let browser = driver.session("en-US");
    let expected: Vec<String> = hashes.iter().map(|h| hex(h)).collect();
    let mut shown = Vec::new();
    for lang in ["ja", "en"] {
        ask.lang = Some(lang);
        browser.goto(&ask.url(&server.url));
        let title = browser.text(&browser.find("h1").unwrap());
        assert_eq!(
            title,
            if lang == "ja" {
                "署名の承認"
            } else {
                "Approve signing"
            }
        );
        assert_eq!(digests_shown(&browser), expected, "{lang}");
        assert_eq!(labels_shown(&browser), documents, "{lang}");
        assert_eq!(browser.text(&browser.find("#count").unwrap()), "2");
        assert_eq!(browser.text(&browser.find("#signer").unwrap()), "alice");
        assert!(
            browser
                .text(&browser.find("#subject").unwrap())
                .contains("CN=alice")
        );
        assert!(
            browser
                .text(&browser.find("#issuer").unwrap())
                .contains("throw-away CA")
        );
        screenshot(&browser, &format!("consent-{lang}"));
        shown.push(digests_shown(&browser));
    }
    assert_eq!(shown[0], shown[1], "both languages show the same digests");

    // The English page is the one open: the signer approves.
    browser.type_into(&browser.find("#pin").unwrap(), &alice.pin);
    browser.type_into(&browser.find("#otp").unwrap(), &otp(&alice));
    browser.click(&browser.find("#approve").unwrap());
    let landed = browser.wait_for_url(&callback, Duration::from_secs(30));
    assert_eq!(
        browser.text(&browser.find("#back").unwrap()),
        "back at the application"
    );
    let query = landed.split_once('?').unwrap().1;
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .map(common::oauth::unpercent)
    };
    assert_eq!(param("state").as_deref(), Some("state-42"));
    let code = param("code").expect("a code");

    // The client application's back end exchanges the code and signs.
    let answered = post_form(
        &format!("{}/csc/v2/oauth2/token", server.url),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &callback),
            ("code_verifier", &pair.verifier),
            ("client_id", CLIENT),
            ("client_secret", SECRET),
        ],
    );
    assert_eq!(answered.status, 200, "{}", answered.body);
    let token: Value = serde_json::from_str(&answered.body).unwrap();
    let mut client = client_at(&server.url, "v2");
    client.token = Some(token["access_token"].as_str().unwrap().to_owned());
    let (status, signed) = client.post(
        "signatures/signHash",
        &json!({
            "credentialID": alice.credential,
            "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
            "signAlgo": "1.2.840.10045.4.3.2",
        }),
    );
    assert_eq!(status, 200, "{signed}");
    let info = server
        .provider
        .csc()
        .info("alice", &alice.credential, std::time::SystemTime::now())
        .unwrap();
    let spki = x509_cert::Certificate::from_der(&info.chain[0])
        .unwrap()
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    let signatures = signed["signatures"].as_array().unwrap();
    assert_eq!(signatures.len(), 2);
    for (hash, signature) in hashes.iter().zip(signatures) {
        assert!(ssa_testkit::openssl::verify_digest(
            &spki,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            hash,
            &unb64(signature.as_str().unwrap()),
        ));
    }
}

#[test]
fn a_script_label_stays_text_and_the_page_is_not_framed() {
    let app = ClientApp::start();
    let server = server_for(&app);
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let hashes = vec![HashAlgorithm::Sha256.digest(b"the document")];
    let label = "<script>alert('x');window.injected=1</script><b id=\"injected\">bold</b>";
    let labels = [label];
    let pair = pkce();
    let callback = app.callback();
    let mut ask = Ask::new(&alice.credential, &hashes, &pair.challenge);
    ask.labels = Some(&labels);
    ask.redirect = &callback;

    let driver = Chromedriver::start();
    let browser = driver.session("en-US");
    browser.goto(&ask.url(&server.url));
    assert_eq!(browser.alert_text(), None, "no alert");
    assert!(
        browser.find("#injected").is_err(),
        "no element from the label"
    );
    assert_eq!(labels_shown(&browser), [label], "the label shown as text");
    assert_eq!(
        browser.execute("return [document.scripts.length, typeof window.injected]"),
        json!([0, "undefined"])
    );
    assert_eq!(digests_shown(&browser), [hex(&hashes[0])]);

    // Framed by the application's origin (another port): the browser
    // refuses to show it.
    *app.framed.lock().unwrap() = ask.url(&server.url);
    browser.goto(&format!("{}/frame", app.server.base_url()));
    let frame = browser.find("#f").expect("the framing page");
    browser.switch_to_frame(&frame);
    assert!(
        browser.find("#consent").is_err(),
        "the consent form showed inside another origin's frame"
    );
    browser.switch_to_top();
}
