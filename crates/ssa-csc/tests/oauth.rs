//! The OAuth2 flow over HTTP (the browser's part done by hand): the code
//! and the token it yields sign exactly what the signer approved, and
//! every attack is refused with nothing signed. The browser itself is in
//! `browser.rs`; two nodes sharing PostgreSQL in `nodes.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::oauth::{
    Ask, CLIENT, REDIRECT, SECRET, approve, authorize_endpoint, exchange, get, pkce, post_form,
    token,
};
use common::{Server, b64, client_at, otp};
use der::{Decode, Encode};
use serde_json::{Value, json};
use ssa::{HashAlgorithm, KeyAlgorithm, Scal, SignatureAlgorithm};
use ssa_csc::provider::{EnrolledSigner, SignerSpec};

fn server() -> Server {
    Server::start(|options| {
        options.settings.oauth.clients = vec![common::oauth::client()];
    })
}

/// A server that allows SCAL 1 (PIN only): many approvals in a row,
/// where a SCAL 2 one would wait for each next TOTP step.
fn server_pin_only() -> Server {
    Server::start(|options| {
        let mut other = common::oauth::client();
        other.id = "other-app".into();
        options.settings.oauth.clients = vec![common::oauth::client(), other];
        options.requests.default_scal = Scal::Scal1;
    })
}

fn hashes(tag: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| HashAlgorithm::Sha256.digest(format!("{tag} {i}").as_bytes()))
        .collect()
}

/// signHash with a bearer token (credential token) and no SAD.
fn sign_with(base: &str, token: &str, credential: &str, hashes: &[Vec<u8>]) -> (u16, Value) {
    let mut client = client_at(base, "v2");
    client.token = Some(token.to_owned());
    client.post(
        "signatures/signHash",
        &json!({
            "credentialID": credential,
            "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
            "signAlgo": "1.2.840.10045.4.3.2",
        }),
    )
}

/// The credential's public key (SPKI DER).
fn spki(server: &Server, enrolled: &EnrolledSigner) -> Vec<u8> {
    let info = server
        .provider
        .csc()
        .info(
            &enrolled.signer,
            &enrolled.credential,
            std::time::SystemTime::now(),
        )
        .unwrap();
    x509_cert::Certificate::from_der(&info.chain[0])
        .unwrap()
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap()
}

/// The signatures counted by the server's metrics.
fn signatures_made(server: &Server) -> f64 {
    server
        .provider
        .csc()
        .metrics()
        .render()
        .lines()
        .filter(|l| l.starts_with("csc_signatures_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A code for `alice` over `approved` (PIN and OTP right).
fn code_for(
    server: &Server,
    alice: &EnrolledSigner,
    approved: &[Vec<u8>],
    challenge: &str,
) -> String {
    let ask = Ask::new(&alice.credential, approved, challenge);
    let code = if server_scal1(alice) {
        String::new()
    } else {
        otp(alice)
    };
    let back = approve(&server.url, &ask, &alice.pin, &code);
    assert_eq!(back.get("state").map(String::as_str), Some("xyz"));
    back["code"].clone()
}

#[test]
fn the_token_signs_exactly_what_the_signer_approved() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let bob = server.enrol("bob", KeyAlgorithm::EcP256, Scal::Scal2);
    let alice2 = server
        .provider
        .enrol(
            &SignerSpec {
                signer: "alice".into(),
                credential: "alice/2".into(),
                key: KeyAlgorithm::EcP256,
                scal: Scal::Scal2,
                subject: "CN=alice,O=csc test".into(),
            },
            std::time::SystemTime::now(),
        )
        .unwrap();
    let approved = hashes("approved", 2);
    let pkce = pkce();
    let code = code_for(&server, &alice, &approved, &pkce.challenge);
    let (status, answer) = exchange(&server.url, &code, &pkce.verifier);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["credentialID"], "alice/1");
    assert!(answer["expires_in"].as_u64().unwrap() > 0);
    let access = answer["access_token"].as_str().unwrap().to_owned();

    // Refused, nothing signed: another hash, a hash added, another
    // credential of the signer or of another, a SAD sent along, an
    // endpoint that is not signing.
    let before = signatures_made(&server);
    let changed = vec![approved[0].clone(), hashes("changed", 1)[0].clone()];
    let added = [approved.clone(), hashes("added", 1)].concat();
    for (what, credential, asked, why) in [
        ("a changed hash", "alice/1", &changed, "SAD"),
        ("a hash added", "alice/1", &added, "SAD"),
        (
            "another credential of the signer",
            "alice/2",
            &approved,
            "another credential",
        ),
        (
            "another signer's credential",
            "bob/1",
            &approved,
            "another credential",
        ),
    ] {
        let (status, body) = sign_with(&server.url, &access, credential, asked);
        assert_eq!(status, 400, "{what}: {body}");
        let text = body["error_description"].as_str().unwrap();
        assert!(text.contains(why), "{what}: {text}");
    }
    let mut with_sad = client_at(&server.url, "v2");
    with_sad.token = Some(access.clone());
    let (status, body) = with_sad.post(
        "signatures/signHash",
        &json!({
            "credentialID": "alice/1", "SAD": "anything",
            "hashes": approved.iter().map(|h| b64(h)).collect::<Vec<_>>(),
            "signAlgo": "1.2.840.10045.4.3.2",
        }),
    );
    assert_eq!(status, 400, "{body}");
    let (status, body) = with_sad.post("credentials/list", &json!({}));
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "a credential token is not a service token"
    );
    assert_eq!(signatures_made(&server), before, "nothing was signed");

    // The approved hashes sign, and verify with OpenSSL.
    let (status, signed) = sign_with(&server.url, &access, "alice/1", &approved);
    assert_eq!(status, 200, "{signed}");
    let key = spki(&server, &alice);
    for (hash, signature) in approved
        .iter()
        .zip(signed["signatures"].as_array().unwrap())
    {
        assert!(ssa_testkit::openssl::verify_digest(
            &key,
            SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256),
            hash,
            &common::unb64(signature.as_str().unwrap()),
        ));
    }
    // numSignatures (2) is spent: no third signature, even of an approved hash.
    let (status, body) = sign_with(&server.url, &access, "alice/1", &approved[..1]);
    assert_eq!(status, 400, "{body}");
    assert_eq!(signatures_made(&server), before + 2.0);
    drop((bob, alice2));
}

#[test]
fn codes_are_single_use_and_bound_to_client_redirect_verifier_and_hashes() {
    let server = server_pin_only();
    let alice = server.enrol("carol", KeyAlgorithm::EcP256, Scal::Scal1);
    let approved = hashes("approved", 2);
    let base = server.url.as_str();
    let other_hash = b64(&hashes("other", 1)[0]);
    let approved_list = approved
        .iter()
        .map(|h| {
            use base64ct::{Base64UrlUnpadded, Encoding};
            Base64UrlUnpadded::encode_string(h)
        })
        .collect::<Vec<_>>();
    let added = format!("{},{other_hash}", approved_list.join(","));
    let changed = format!("{},{other_hash}", approved_list[0]);
    // Each case on a fresh code; every one is refused, and the code is
    // spent by the refused attempt (the right verifier then fails too).
    let wrong = pkce();
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, u16, &'a str);
    let cases: Vec<Case<'_>> = vec![
        (
            "wrong PKCE verifier",
            vec![("code_verifier", wrong.verifier.clone())],
            400,
            "invalid_grant",
        ),
        ("missing PKCE verifier", vec![], 400, "invalid_grant"),
        (
            "changed redirect URI",
            vec![("redirect_uri", "http://127.0.0.1:9/other".into())],
            400,
            "invalid_grant",
        ),
        (
            "a hash added",
            vec![("hashes", added.clone())],
            400,
            "invalid_grant",
        ),
        (
            "a hash changed",
            vec![("hashes", changed.clone())],
            400,
            "invalid_grant",
        ),
    ];
    for (what, fields, status, error) in cases {
        let pair = pkce();
        let code = code_for(&server, &alice, &approved, &pair.challenge);
        let mut all: Vec<(&str, &str)> = vec![
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ];
        let verifier_given = fields.iter().any(|(k, _)| *k == "code_verifier");
        let missing = what == "missing PKCE verifier";
        if !verifier_given && !missing {
            all.push(("code_verifier", &pair.verifier));
        }
        for (k, v) in &fields {
            if let Some(slot) = all.iter_mut().find(|(name, _)| name == k) {
                slot.1 = v;
            } else {
                all.push((k, v));
            }
        }
        let (got, body) = token(base, "v2", &all);
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{what}: {body}"
        );
        let (got, body) = exchange(base, &code, &pair.verifier);
        assert_eq!(
            (got, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{what}: the code is spent: {body}"
        );
    }

    // Replayed: the second exchange of a good code is refused.
    let pair = pkce();
    let code = code_for(&server, &alice, &approved, &pair.challenge);
    let (status, first) = exchange(base, &code, &pair.verifier);
    assert_eq!(status, 200, "{first}");
    let (status, again) = exchange(base, &code, &pair.verifier);
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // The client must prove itself: no secret, a wrong one.
    let pair = pkce();
    let code = code_for(&server, &alice, &approved, &pair.challenge);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", pair.verifier.as_str()),
    ];
    let bare = post_form(&format!("{base}/csc/v2/oauth2/token"), None, &fields);
    assert_eq!(bare.status, 401, "{}", bare.body);
    let mut wrong_secret = vec![("client_id", CLIENT), ("client_secret", "not-it")];
    wrong_secret.extend_from_slice(&fields);
    let answered = post_form(&format!("{base}/csc/v2/oauth2/token"), None, &wrong_secret);
    assert_eq!(answered.status, 401, "{}", answered.body);
    // Another registered client (with the same secret) cannot use it:
    // refused, and the code is spent.
    let mut other = vec![("client_id", "other-app"), ("client_secret", SECRET)];
    other.extend_from_slice(&fields);
    let answered = post_form(&format!("{base}/csc/v2/oauth2/token"), None, &other);
    assert_eq!(answered.status, 400, "{}", answered.body);
    assert!(
        answered.body.contains("another client"),
        "{}",
        answered.body
    );
    let (status, _) = exchange(base, &code, &pair.verifier);
    assert_eq!(status, 400);
    // Those before did not reach the code: a fresh one works, once.
    let pair = pkce();
    let code = code_for(&server, &alice, &approved, &pair.challenge);
    let (status, body) = exchange(base, &code, &pair.verifier);
    assert_eq!(status, 200, "{body}");
    let _ = SECRET;
}

/// Whether `enrolled` is this file's SCAL 1 signer (PIN only).
fn server_scal1(enrolled: &EnrolledSigner) -> bool {
    enrolled.signer == "carol"
}

#[test]
fn an_unregistered_redirect_uri_gets_an_error_page_and_no_redirect() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let approved = hashes("approved", 1);
    let pair = pkce();
    for redirect in [
        "http://127.0.0.1:9/callback/../evil",
        "http://evil.example/callback",
        "http://127.0.0.1:9/callback?x=1",
    ] {
        let mut ask = Ask::new(&alice.credential, &approved, &pair.challenge);
        ask.redirect = redirect;
        let page = get(&ask.url(&server.url), None);
        assert_eq!(page.status, 400, "{redirect}");
        assert!(page.header("location").is_none(), "{redirect}");
        assert!(
            page.header("set-cookie").is_none(),
            "no session: {redirect}"
        );
        assert!(page.body.contains("redirect_uri"), "{}", page.body);
    }
    // An unknown client: the same.
    let ask = Ask::new(&alice.credential, &approved, &pair.challenge);
    let url = ask
        .url(&server.url)
        .replace("client_id=test-app", "client_id=other");
    let page = get(&url, None);
    assert_eq!(page.status, 400);
    assert!(page.header("location").is_none());
    // A registered URI, a bad request: back to the client with the error.
    let url = ask
        .url(&server.url)
        .replace("code_challenge_method=S256", "code_challenge_method=plain");
    let page = get(&url, None);
    let back = page.redirected();
    assert_eq!(back["error"], "invalid_request");
    assert_eq!(back["state"], "xyz");
    let url = ask
        .url(&server.url)
        .replace("code_challenge=", "code_challengx=");
    let back = get(&url, None).redirected();
    assert_eq!(back["error"], "invalid_request", "PKCE is required");
}

#[test]
fn the_page_is_strict_and_escapes_what_the_request_carries() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let approved = hashes("approved", 2);
    let pair = pkce();
    let labels = ["<script>alert(1)</script>", "\"><b id=x>契約書</b>"];
    let mut ask = Ask::new(&alice.credential, &approved, &pair.challenge);
    ask.labels = Some(&labels);
    let page = get(&ask.url(&server.url), None);
    assert_eq!(page.status, 200, "{}", page.body);
    let policy = page.header("content-security-policy").unwrap();
    for part in [
        "default-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self' http://127.0.0.1:9",
        "style-src 'sha256-",
    ] {
        assert!(policy.contains(part), "{policy}");
    }
    assert!(!policy.contains("script-src"), "{policy}");
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let cookie = page.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!page.body.contains("<script>"), "{}", page.body);
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains("<b id=x>"));
    assert!(
        page.body
            .contains("<td id=\"subject\">CN=alice,O=csc test</td>"),
        "the credential's certificate is shown: {}",
        page.body
    );
    assert!(
        page.body.contains("Test &lt;Signing&gt; App"),
        "the client's name escaped too"
    );
    // The digests, grouped, and the count.
    for hash in &approved {
        let grouped: Vec<String> = hash
            .chunks(4)
            .map(|c| c.iter().map(|b| format!("{b:02x}")).collect())
            .collect();
        assert!(page.body.contains(&grouped.join(" ")));
    }
    assert!(
        page.body.contains("<td id=\"count\">2</td>"),
        "{}",
        page.body
    );
    // Japanese, by lang or by Accept-Language.
    ask.lang = Some("ja");
    assert!(get(&ask.url(&server.url), None).body.contains("署名の承認"));
    ask.lang = None;
    let ja = get(&ask.url(&server.url), Some("ja-JP,ja;q=0.9,en;q=0.5"));
    assert!(ja.body.contains("lang=\"ja\"") && ja.body.contains("承認して署名する"));
}

#[test]
fn a_post_without_its_csrf_token_or_session_changes_nothing() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let approved = hashes("approved", 1);
    let pair = pkce();
    let ask = Ask::new(&alice.credential, &approved, &pair.challenge);
    let page = get(&ask.url(&server.url), None);
    let endpoint = authorize_endpoint(&server.url, "v2");
    let code = otp(&alice);
    let good = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("page", page.page()),
            ("pin", alice.pin.to_string()),
            ("otp", code.clone()),
            ("action", "approve".to_owned()),
        ]
    };
    let as_refs = |f: &Vec<(&'static str, String)>| -> Vec<(&str, String)> { f.clone() };
    let send = |cookie: Option<&str>, fields: &[(&str, String)]| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        post_form(&endpoint, cookie, &fields)
    };
    let mut no_csrf = as_refs(&good(""));
    no_csrf.remove(0);
    // Another page's token does not fit this page's session.
    let other = get(&ask.url(&server.url), None);
    let refusals = [
        ("no CSRF token", send(Some(&page.cookie()), &no_csrf), 403),
        (
            "a wrong CSRF token",
            send(Some(&page.cookie()), &good("not-the-token")),
            403,
        ),
        ("no session cookie", send(None, &good(&page.csrf())), 400),
        (
            "another page's token",
            send(Some(&page.cookie()), &good(&other.csrf())),
            403,
        ),
    ];
    for (what, refused, status) in &refusals {
        assert_eq!(refused.status, *status, "{what}: {}", refused.body);
        assert!(refused.header("location").is_none(), "{what}");
    }
    // None of that spent the OTP, counted a failure or the page: the
    // right answer still gets a code.
    let answered = send(Some(&page.cookie()), &good(&page.csrf()));
    assert!(answered.redirected().contains_key("code"));
    // Its cookie goes with the answer.
    let gone = answered.header("set-cookie").unwrap();
    assert!(
        gone.starts_with(&format!("ssa_consent_{}=;", page.page())),
        "{gone}"
    );
    // And the page is spent.
    let again = send(Some(&page.cookie()), &good(&page.csrf()));
    assert_eq!(again.status, 400);
}

#[test]
fn pages_open_side_by_side_keep_their_own_sessions() {
    let server = server_pin_only();
    let carol = server.enrol("carol", KeyAlgorithm::EcP256, Scal::Scal1);
    let first = hashes("first tab", 1);
    let second = hashes("second tab", 1);
    let (p1, p2) = (pkce(), pkce());
    let one = get(
        &Ask::new(&carol.credential, &first, &p1.challenge).url(&server.url),
        None,
    );
    let two = get(
        &Ask::new(&carol.credential, &second, &p2.challenge).url(&server.url),
        None,
    );
    assert_ne!(one.page(), two.page());
    // The browser sends both cookies with each answer.
    let cookies = format!("{}; {}", one.cookie(), two.cookie());
    let endpoint = authorize_endpoint(&server.url, "v2");
    let mut codes = Vec::new();
    for (page, pair) in [(&two, &p2), (&one, &p1)] {
        let back = post_form(
            &endpoint,
            Some(&cookies),
            &[
                ("page", &page.page()),
                ("csrf", &page.csrf()),
                ("pin", &carol.pin),
                ("action", "approve"),
            ],
        )
        .redirected();
        let (status, token) = exchange(&server.url, &back["code"], &pair.verifier);
        assert_eq!(status, 200, "{token}");
        codes.push(token["access_token"].as_str().unwrap().to_owned());
    }
    // Each token signs its own tab's hash, not the other's.
    assert_eq!(sign_with(&server.url, &codes[0], "carol/1", &first).0, 400);
    assert_eq!(sign_with(&server.url, &codes[0], "carol/1", &second).0, 200);
    assert_eq!(sign_with(&server.url, &codes[1], "carol/1", &first).0, 200);
}

#[test]
fn wrong_factors_show_the_page_again_and_lock_at_the_limit() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let approved = hashes("approved", 1);
    let pair = pkce();
    let ask = Ask::new(&alice.credential, &approved, &pair.challenge);
    let page = get(&ask.url(&server.url), None);
    let endpoint = authorize_endpoint(&server.url, "v2");
    let cookie = page.cookie();
    let csrf = page.csrf();
    let id = page.page();
    // The provider's default limit is 5 failures.
    for attempt in 1..=5 {
        let answered = post_form(
            &endpoint,
            Some(&cookie),
            &[
                ("page", &id),
                ("csrf", &csrf),
                ("pin", "000000x"),
                ("otp", &otp(&alice)),
                ("action", "approve"),
            ],
        );
        assert_eq!(answered.status, 401, "attempt {attempt}");
        assert!(answered.header("location").is_none());
        let text = if attempt < 5 {
            "The authentication data were not accepted"
        } else {
            "locked"
        };
        assert!(
            answered.body.contains(text),
            "attempt {attempt}: {}",
            answered.body
        );
        assert!(answered.body.contains("name=\"csrf\""), "the page again");
    }
    // Locked: the right factors are refused too.
    let answered = post_form(
        &endpoint,
        Some(&cookie),
        &[
            ("page", &id),
            ("csrf", &csrf),
            ("pin", &alice.pin),
            ("otp", &otp(&alice)),
            ("action", "approve"),
        ],
    );
    assert_eq!(answered.status, 401);
    assert!(answered.body.contains("locked"), "{}", answered.body);
}

#[test]
fn deny_sends_access_denied_back_with_the_state() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let approved = hashes("approved", 1);
    let pair = pkce();
    let mut ask = Ask::new(&alice.credential, &approved, &pair.challenge);
    ask.state = "st&te=1";
    ask.version = "v1";
    let page = get(&ask.url(&server.url), None);
    let answered = post_form(
        &authorize_endpoint(&server.url, "v1"),
        Some(&page.cookie()),
        &[
            ("page", &page.page()),
            ("csrf", &page.csrf()),
            ("action", "deny"),
        ],
    );
    let back = answered.redirected();
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["state"], "st&te=1");
    assert!(!back.contains_key("code"));
}

#[test]
fn service_scope_signs_in_and_refresh_tokens_rotate() {
    let server = server();
    // info tells clients where the OAuth2 server is.
    for version in ["v1", "v2"] {
        let (status, info) = client_at(&server.url, version).post("info", &json!({}));
        assert_eq!(status, 200);
        assert_eq!(info["authType"], json!(["basic", "oauth2code"]));
        assert_eq!(info["oauth2"], format!("{}/csc/{version}", server.url));
        assert!(
            info["methods"]
                .as_array()
                .unwrap()
                .contains(&json!("oauth2/token"))
        );
    }
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let pair = pkce();
    let url = format!(
        "{}/csc/v2/oauth2/authorize?response_type=code&client_id={CLIENT}&redirect_uri={}&scope=service&code_challenge={}&code_challenge_method=S256&state=s",
        server.url,
        common::oauth::percent(REDIRECT),
        pair.challenge
    );
    let page = get(&url, None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"password\""));
    let endpoint = authorize_endpoint(&server.url, "v2");
    let wrong = post_form(
        &endpoint,
        Some(&page.cookie()),
        &[
            ("page", &page.page()),
            ("csrf", &page.csrf()),
            ("username", "alice"),
            ("password", "wrong"),
            ("action", "approve"),
        ],
    );
    assert_eq!(wrong.status, 401);
    let back = post_form(
        &endpoint,
        Some(&page.cookie()),
        &[
            ("page", &page.page()),
            ("csrf", &page.csrf()),
            ("username", "alice"),
            ("password", &alice.password),
            ("action", "approve"),
        ],
    )
    .redirected();
    let (status, tokens) = exchange(&server.url, &back["code"], &pair.verifier);
    assert_eq!(status, 200, "{tokens}");
    let mut client = client_at(&server.url, "v2");
    client.token = Some(tokens["access_token"].as_str().unwrap().to_owned());
    let (status, list) = client.post("credentials/list", &json!({}));
    assert_eq!(
        (status, list["credentialIDs"].clone()),
        (200, json!(["alice/1"]))
    );
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = token(
        &server.url,
        "v2",
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    );
    assert_eq!(status, 200, "{renewed}");
    let (status, again) = token(
        &server.url,
        "v2",
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    );
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "rotated"
    );
    // Revoked: the new refresh token is refused from then on.
    let renewed_refresh = renewed["refresh_token"].as_str().unwrap();
    let revoked = post_form(
        &format!("{}/csc/v2/oauth2/revoke", server.url),
        None,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("token", renewed_refresh),
        ],
    );
    assert_eq!(revoked.status, 200);
    let (status, _) = token(
        &server.url,
        "v2",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", renewed_refresh),
        ],
    );
    assert_eq!(status, 400);
}

#[test]
fn a_revoked_credential_token_signs_nothing() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let approved = hashes("approved", 1);
    let pair = pkce();
    let code = code_for(&server, &alice, &approved, &pair.challenge);
    let (_, answer) = exchange(&server.url, &code, &pair.verifier);
    let access = answer["access_token"].as_str().unwrap();
    let revoked = post_form(
        &format!("{}/csc/v2/oauth2/revoke", server.url),
        None,
        &[
            ("client_id", CLIENT),
            ("client_secret", SECRET),
            ("token", access),
        ],
    );
    assert_eq!(revoked.status, 200);
    let (status, body) = sign_with(&server.url, access, "alice/1", &approved);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
}

#[test]
fn a_document_flow_signs_cades_with_sign_doc_and_only_there() {
    let server = server_pin_only();
    let carol = server.enrol("carol", KeyAlgorithm::EcP256, Scal::Scal1);
    let documents: Vec<Vec<u8>> = vec![b"contract one".to_vec(), b"contract two".to_vec()];
    let digests: Vec<Vec<u8>> = documents
        .iter()
        .map(|d| HashAlgorithm::Sha256.digest(d))
        .collect();
    let sign_doc = |token: &str| {
        let mut client = client_at(&server.url, "v2");
        client.token = Some(token.to_owned());
        client.post(
            "signatures/signDoc",
            &json!({
                "credentialID": "carol/1",
                "documentDigests": [{
                    "hashes": digests.iter().map(|h| b64(h)).collect::<Vec<_>>(),
                    "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                    "signature_format": "C",
                    "conformance_level": "Ades-B-B",
                }],
            }),
        )
    };
    // A token approved for DTBS/R hashes does not buy CAdES signatures.
    let pair = pkce();
    let code = code_for(&server, &carol, &digests, &pair.challenge);
    let (_, token) = exchange(&server.url, &code, &pair.verifier);
    let (status, body) = sign_doc(token["access_token"].as_str().unwrap());
    assert_eq!(status, 400, "{body}");
    // Approved as document digests: one CAdES signature per document.
    let pair = pkce();
    let labels = ["contract one", "contract two"];
    let mut ask = Ask::new("carol/1", &digests, &pair.challenge);
    ask.labels = Some(&labels);
    ask.mode = Some("document");
    let back = approve(&server.url, &ask, &carol.pin, "");
    let (status, token) = exchange(&server.url, &back["code"], &pair.verifier);
    assert_eq!(status, 200, "{token}");
    let access = token["access_token"].as_str().unwrap();
    assert_eq!(
        sign_with(&server.url, access, "carol/1", &digests).0,
        400,
        "nor does a document token buy bare DTBS/R signatures"
    );
    let (status, signed) = sign_doc(access);
    assert_eq!(status, 200, "{signed}");
    let objects = signed["SignatureObject"].as_array().unwrap();
    for (document, cms) in documents.iter().zip(objects) {
        let cms = common::unb64(cms.as_str().unwrap());
        let (ok, said) =
            ssa_testkit::openssl::cms_verify_cades(&cms, Some(document), &server.ca_pem(), false);
        assert!(ok, "{said}");
    }
}

#[test]
fn what_a_request_may_carry_is_bounded_at_the_edges() {
    let server = Server::start(|options| {
        options.settings.oauth.clients = vec![common::oauth::client()];
        options.settings.limits.hashes_per_request = 3;
        options.requests.default_scal = Scal::Scal1;
    });
    // Enrolled: the bounds are judged on a credential that exists.
    server.enrol("carol", KeyAlgorithm::EcP256, Scal::Scal1);
    let pair = pkce();
    let opened = |ask: &Ask<'_>, extra: &str| {
        let page = get(&format!("{}{extra}", ask.url(&server.url)), None);
        match page.status {
            200 => Ok(()),
            303 => Err(page.redirected()["error_description"].clone()),
            other => Err(format!("{other}: {}", page.body)),
        }
    };
    let three = hashes("bounded", 3);
    let four = hashes("bounded", 4);
    // Hashes: up to the server's limit.
    assert_eq!(
        opened(&Ask::new("carol/1", &three, &pair.challenge), ""),
        Ok(())
    );
    assert!(opened(&Ask::new("carol/1", &four, &pair.challenge), "").is_err());
    // state: 512 characters, not 513 (an error page: no redirect with it).
    let mut ask = Ask::new("carol/1", &three, &pair.challenge);
    let long = "s".repeat(512);
    ask.state = &long;
    assert_eq!(opened(&ask, ""), Ok(()));
    let longer = "s".repeat(513);
    ask.state = &longer;
    assert!(opened(&ask, "").unwrap_err().starts_with("400"));
    // A label: 256 characters, not 257.
    let label = "l".repeat(256);
    let labels = [label.as_str()];
    let one = hashes("labelled", 1);
    let mut ask = Ask::new("carol/1", &one, &pair.challenge);
    ask.labels = Some(&labels);
    assert_eq!(opened(&ask, ""), Ok(()));
    let label = "l".repeat(257);
    let labels = [label.as_str()];
    ask.labels = Some(&labels);
    assert!(opened(&ask, "").is_err());
    // numSignatures: at least 1.
    let mut ask = Ask::new("carol/1", &one, &pair.challenge);
    ask.num = Some(1);
    assert_eq!(opened(&ask, ""), Ok(()));
    ask.num = Some(0);
    assert!(opened(&ask, "").is_err());
    // authorization_details with plain hashes too: which would be shown?
    let mut ask = Ask::new("carol/1", &one, &pair.challenge);
    ask.labels = Some(&["x"]);
    let extra = format!(
        "&hashes={}",
        b64(&one[0]).replace('+', "-").replace('/', "_")
    );
    assert!(opened(&ask, &extra).unwrap_err().contains("both"));
}

#[test]
fn a_refusal_about_the_request_says_why_on_the_page() {
    let server = server();
    let alice = server.enrol("alice", KeyAlgorithm::EcP256, Scal::Scal2);
    let approved = hashes("approved", 1);
    let pair = pkce();
    let page = get(
        &Ask::new(&alice.credential, &approved, &pair.challenge).url(&server.url),
        None,
    );
    // SCAL 2 without the OTP: refused before any factor is counted.
    let answered = post_form(
        &authorize_endpoint(&server.url, "v2"),
        Some(&page.cookie()),
        &[
            ("page", &page.page()),
            ("csrf", &page.csrf()),
            ("pin", &alice.pin),
            ("action", "approve"),
        ],
    );
    assert_eq!(answered.status, 401);
    assert!(
        answered
            .body
            .contains("SCAL2 needs a knowledge and a possession factor"),
        "{}",
        answered.body
    );
}

/// authorization_details of type credential over `hashes`.
fn details(credential: &str, hashes: &[Vec<u8>]) -> String {
    json!([{
        "type": "credential",
        "credentialID": credential,
        "documentDigests": hashes.iter().map(|h| json!({ "hash": b64(h) })).collect::<Vec<_>>(),
        "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
    }])
    .to_string()
}

#[test]
fn authorization_details_in_the_token_request_must_be_those_approved() {
    let server = server_pin_only();
    let carol = server.enrol("carol", KeyAlgorithm::EcP256, Scal::Scal1);
    let approved = hashes("approved", 2);
    let changed = [approved[0].clone(), hashes("changed", 1)[0].clone()];
    for (what, sent, ok) in [
        ("the same", details("carol/1", &approved), true),
        ("a hash changed", details("carol/1", &changed), false),
        ("another credential", details("carol/2", &approved), false),
    ] {
        let pair = pkce();
        let code = code_for(&server, &carol, &approved, &pair.challenge);
        let (status, body) = token(
            &server.url,
            "v2",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &pair.verifier),
                ("authorization_details", &sent),
            ],
        );
        if ok {
            assert_eq!(status, 200, "{what}: {body}");
        } else {
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "{what}"
            );
        }
    }
}
