//! Several `csc_server` processes (nodes) sharing one PostgreSQL cluster
//! (a private one, started here): every guarantee of one node holds across
//! them. Races are spread over the nodes; what was spent, counted, taken or
//! revoked is read back from the database with psql.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use common::{CHEAP, b64, client_at, otp};
use serde_json::{Value, json};
use ssa::{HashAlgorithm, KeyAlgorithm, Scal};
use ssa_csc::provider::{EnrolledSigner, Provider, ProviderOptions, SignerSpec};
use ssa_testkit::postgres::Cluster;

/// One `csc_server` process.
struct Node {
    child: Child,
    url: String,
}

impl Node {
    /// Starts a node over `data` (keys, issuer key, CA) and the database.
    fn start(data: &Path, database: &str, log: PathBuf) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_csc_server"))
            .arg("--data")
            .arg(data)
            .args(["--database-url", database, "--listen", "127.0.0.1:0"])
            .args(["--max-failures", "5", "--min-scal", "1"])
            .args(
                Some(data.join("oauth-clients.json"))
                    .filter(|p| p.exists())
                    .map(|p| vec!["--oauth-clients".into(), p.into_os_string()])
                    .unwrap_or_default(),
            )
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut said = Vec::new();
        let url = loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "a node stopped: {said:?}"
            );
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                break url.to_owned();
            }
            said.push(line);
        };
        // Keep reading, so the node never blocks on a full pipe.
        std::thread::spawn(move || for _ in reader.lines() {});
        Self { child, url }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A cluster, a database, a data directory the nodes share, and enrolled
/// signers (enrolled in this process through the database, before any
/// node starts).
struct Site {
    cluster: Cluster,
    database: String,
    name: String,
    data: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let cluster = Cluster::start();
        let name = "nodes".to_owned();
        cluster.create_database(&name);
        let database = cluster.url(&name);
        Self {
            cluster,
            database,
            name,
            data: tempfile::tempdir().unwrap(),
        }
    }

    fn enrol(&self, signers: &[(&str, Scal)]) -> Vec<EnrolledSigner> {
        let mut options = ProviderOptions::new(self.data.path());
        options.pin_policy = CHEAP;
        options.database = Some(self.database.clone());
        // As the nodes run (--min-scal 1): SCAL 1 credentials are allowed.
        options.requests.default_scal = Scal::Scal1;
        let provider = Provider::open(options).unwrap();
        signers
            .iter()
            .map(|(signer, scal)| {
                provider
                    .enrol(
                        &SignerSpec {
                            signer: (*signer).into(),
                            credential: format!("{signer}/1"),
                            key: KeyAlgorithm::EcP256,
                            scal: *scal,
                            subject: format!("CN={signer},O=nodes test"),
                        },
                        SystemTime::now(),
                    )
                    .unwrap()
            })
            .collect()
    }

    fn nodes(&self, n: usize) -> Vec<Node> {
        (0..n)
            .map(|i| {
                Node::start(
                    self.data.path(),
                    &self.database,
                    self.data.path().join(format!("node-{i}.log")),
                )
            })
            .collect()
    }

    /// The OAuth2 clients file the nodes read (`--oauth-clients`).
    fn clients_file(&self) -> PathBuf {
        self.data.path().join("oauth-clients.json")
    }

    fn psql(&self, sql: &str) -> String {
        self.cluster.psql(&self.name, sql)
    }

    /// The audit trail as the database holds it, checked as
    /// `audit_verify --database-url` checks it.
    fn trail(&self) -> (ssa::audit::LogReport, Vec<Value>) {
        use ssa::store::AuditSink;
        let db = ssa_store_postgres::Database::connect(&self.database).unwrap();
        let records = ssa_store_postgres::PgAuditSink::new(db)
            .read_from(0)
            .unwrap();
        let mut bytes = Vec::new();
        for record in &records {
            bytes.extend_from_slice(record.as_bytes());
            bytes.push(b'\n');
        }
        let parsed = records
            .iter()
            // HASH, a space, the record's JSON.
            .map(|r| serde_json::from_str(r.split_once(' ').unwrap().1).unwrap())
            .collect();
        (ssa::audit::scan(&bytes, None), parsed)
    }
}

fn hashes(tag: &str, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| HashAlgorithm::Sha256.digest(format!("{tag} {i}").as_bytes()))
        .collect()
}

fn sign_hash_body(enrolled: &EnrolledSigner, sad: &Value, hash: &[u8]) -> Value {
    json!({
        "credentialID": enrolled.credential, "SAD": sad, "hashes": [b64(hash)],
        "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1", "signAlgo": "1.2.840.10045.4.3.2",
    })
}

/// A SCAL 1 authorization of `num` signatures of any hashes (PIN only).
fn authorize_any(enrolled: &EnrolledSigner, num: usize) -> Value {
    json!({
        "credentialID": enrolled.credential,
        "numSignatures": num,
        "authData": [{ "id": "PIN", "value": enrolled.pin.as_str() }],
    })
}

/// An authorization with a PIN, and a TOTP code unless `otp` is empty
/// (SCAL 1).
fn authorize_body(enrolled: &EnrolledSigner, hashes: &[Vec<u8>], pin: &str, otp: &str) -> Value {
    let mut auth = vec![json!({ "id": "PIN", "value": pin })];
    if !otp.is_empty() {
        auth.push(json!({ "id": "OTP", "value": otp }));
    }
    json!({
        "credentialID": enrolled.credential,
        "numSignatures": hashes.len(),
        "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
        "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
        "authData": auth,
    })
}

fn logged_in(url: &str, enrolled: &EnrolledSigner) -> common::Client {
    let mut client = client_at(url, "v2");
    client.login_as(enrolled);
    client
}

/// The hex digests of the successful signature records of the trail.
fn signed_in_trail(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .filter(|r| r["event"]["type"] == "signature" && r["outcome"]["result"] == "success")
        .flat_map(|r| r["digests"].as_array().cloned().unwrap_or_default())
        .map(|d| d.as_str().unwrap().to_owned())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn three_nodes_keep_every_guarantee_of_one() {
    let site = Site::new();
    let signers = site.enrol(&[
        ("alice", Scal::Scal2),
        ("bob", Scal::Scal2),
        ("carol", Scal::Scal2),
        ("dave", Scal::Scal1),
    ]);
    let (alice, bob, carol, dave) = (&signers[0], &signers[1], &signers[2], &signers[3]);
    let nodes = site.nodes(3);
    let urls: Vec<&str> = nodes.iter().map(|n| n.url.as_str()).collect();

    // 2 x 10 000 attempts on one SAD of num 40, spread over the nodes.
    let wanted = hashes("race", 40);
    let (status, body) = logged_in(urls[1], alice).post(
        "credentials/authorize",
        &authorize_body(alice, &wanted, &alice.pin, &otp(alice)),
    );
    assert_eq!(status, 200, "{body}");
    let sad = body["SAD"].clone();
    let won = Mutex::new(Vec::new());
    let refused = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2usize {
            let (won, refused, sad, wanted) = (&won, &refused, &sad, &wanted);
            let clients: Vec<_> = urls.iter().map(|u| logged_in(u, alice)).collect();
            s.spawn(move || {
                for i in 0..10_000usize {
                    let hash = &wanted[(i * 7 + t) % wanted.len()];
                    let node = (i + t) % clients.len();
                    let (status, body) = clients[node]
                        .post("signatures/signHash", &sign_hash_body(alice, sad, hash));
                    match status {
                        200 => won.lock().unwrap().push(hash.clone()),
                        400 => {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                        other => panic!("node {node}: {other} {body}"),
                    }
                }
            });
        }
    });
    let won = won.into_inner().unwrap();
    eprintln!(
        "20 000 attempts over 3 nodes in {:.1} s: {} signed, {} refused",
        started.elapsed().as_secs_f64(),
        won.len(),
        refused.load(Ordering::Relaxed)
    );
    assert_eq!(won.len(), 40, "a num-40 SAD gave {} signatures", won.len());
    let distinct: BTreeSet<_> = won.iter().collect();
    assert_eq!(distinct.len(), 40, "a bound hash was signed twice");

    // One TOTP code, tried at once on every node: one SAD.
    let code = otp(bob);
    let one = hashes("totp", 1);
    let granted = AtomicU64::new(0);
    std::thread::scope(|s| {
        for i in 0..6 {
            let client = logged_in(urls[i % 3], bob);
            let (granted, one, code) = (&granted, &one, &code);
            s.spawn(move || {
                let (status, _) = client.post(
                    "credentials/authorize",
                    &authorize_body(bob, one, &bob.pin, code),
                );
                if status == 200 {
                    granted.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(
        granted.into_inner(),
        1,
        "one TOTP code gave more or fewer than one SAD"
    );

    // 8 wrong PINs at once over the nodes: locked after exactly the limit.
    std::thread::scope(|s| {
        for i in 0..8 {
            let client = logged_in(urls[i % 3], carol);
            s.spawn(move || {
                let (status, _) = client.post(
                    "credentials/authorize",
                    &authorize_body(carol, &hashes("lock", 1), "wrong-pin", &otp(carol)),
                );
                assert_ne!(status, 200);
            });
        }
    });
    assert_eq!(
        site.psql("SELECT failures || ' ' || locked FROM ssa_lockout WHERE credential = 'carol/1'"),
        "5 true",
        "8 parallel failures over 3 nodes did not count exactly to the lock"
    );
    for url in &urls {
        let (status, body) = logged_in(url, carol).post(
            "credentials/authorize",
            &authorize_body(carol, &hashes("after lock", 1), &carol.pin, &otp(carol)),
        );
        assert_ne!(
            status, 200,
            "a locked credential was authorized on {url}: {body}"
        );
    }

    // A token revoked on one node is refused by every node at once.
    let mut holder = client_at(urls[2], "v2");
    holder.login_as(dave);
    let token = holder.token.clone().unwrap();
    let on = |url: &str| {
        let mut c = client_at(url, "v2");
        c.token = Some(token.clone());
        c
    };
    for url in &urls {
        let (status, body) = on(url).post("credentials/list", &json!({}));
        assert_eq!(status, 200, "{url}: {body}");
    }
    let (status, body) = on(urls[0]).post("auth/revoke", &json!({ "token": token }));
    assert!(status == 200 || status == 204, "{status} {body}");
    for url in &urls {
        let (status, _) = on(url).post("credentials/list", &json!({}));
        assert_eq!(
            status, 401,
            "{url} accepted a token revoked on another node"
        );
    }

    // The trail of all three nodes is one intact chain, with a signature
    // record for every signature returned.
    let (report, records) = site.trail();
    eprintln!("the trail: {} records", records.len());
    assert!(report.is_intact(), "{:?}", report.problems);
    let recorded = signed_in_trail(&records);
    for hash in &won {
        assert!(
            recorded.contains(&hex(hash)),
            "a signature without its record"
        );
    }
}

/// Signs one hash after another through `url` until `stop`; every hash
/// signed goes into `signed`.
fn sign_until(
    url: &str,
    enrolled: &EnrolledSigner,
    sad: &Value,
    todo: &Mutex<Vec<Vec<u8>>>,
    signed: &Mutex<Vec<Vec<u8>>>,
    failed: &AtomicU64,
    stop: &AtomicBool,
) {
    let client = logged_in(url, enrolled);
    while !stop.load(Ordering::Relaxed) {
        let Some(hash) = todo.lock().unwrap().pop() else {
            return;
        };
        match client.try_post("signatures/signHash", &sign_hash_body(enrolled, sad, &hash)) {
            Some((200, body)) => {
                assert_eq!(body["signatures"].as_array().unwrap().len(), 1);
                signed.lock().unwrap().push(hash);
            }
            // Unavailable (a database restarting): nothing signed.
            Some((503, _)) => {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            Some((status, body)) => panic!("{status} {body}"),
            // Cut off (a killed node): this worker is done.
            None => {
                failed.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// Waits until `done`, failing if a worker ended first (it panicked, or
/// ran out of work) or after a minute.
fn wait_for(done: impl Fn() -> bool, workers: &[&std::thread::ScopedJoinHandle<'_, ()>]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            workers.iter().all(|w| !w.is_finished()),
            "a worker ended before it was time (see its panic)"
        );
        assert!(Instant::now() < deadline, "not reached within a minute");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_node_killed_mid_signing_leaves_no_signature_without_its_record() {
    let site = Site::new();
    let signers = site.enrol(&[("erin", Scal::Scal1)]);
    let erin = &signers[0];
    let mut nodes = site.nodes(3);
    let urls: Vec<String> = nodes.iter().map(|n| n.url.clone()).collect();
    let all = hashes("kill", 600);
    let (status, body) =
        logged_in(&urls[1], erin).post("credentials/authorize", &authorize_any(erin, all.len()));
    assert_eq!(status, 200, "{body}");
    let sad = body["SAD"].clone();
    let todo = Mutex::new(all.clone());
    let signed = Mutex::new(Vec::new());
    let failed = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let after_kill = std::thread::scope(|s| {
        let victim = s.spawn(|| sign_until(&urls[0], erin, &sad, &todo, &signed, &failed, &stop));
        let victim2 = s.spawn(|| sign_until(&urls[0], erin, &sad, &todo, &signed, &failed, &stop));
        let others = s.spawn(|| {
            let mut n = 0;
            while !todo.lock().unwrap().is_empty() {
                sign_until(&urls[1 + n % 2], erin, &sad, &todo, &signed, &failed, &stop);
                n += 1;
            }
        });
        // Mid-signing: some signatures made, most still to do.
        wait_for(|| signed.lock().unwrap().len() >= 60, &[&victim, &others]);
        nodes[0].kill();
        let at_kill = signed.lock().unwrap().len();
        victim.join().unwrap();
        victim2.join().unwrap();
        others.join().unwrap();
        signed.lock().unwrap().len() - at_kill
    });
    let signed = signed.into_inner().unwrap();
    eprintln!(
        "{} signed ({after_kill} after the kill), {} refused or cut",
        signed.len(),
        failed.load(Ordering::Relaxed)
    );
    assert!(after_kill > 100, "the other nodes did not go on");
    let (report, records) = site.trail();
    assert!(
        report.is_intact() || report.only_a_torn_tail(),
        "{:?}",
        report.problems
    );
    let recorded = signed_in_trail(&records);
    let missing: Vec<_> = signed
        .iter()
        .filter(|h| !recorded.contains(&hex(h)))
        .collect();
    assert!(
        missing.is_empty(),
        "{} signatures without their record",
        missing.len()
    );
    // No hash was signed twice, killed node or not.
    let distinct: BTreeSet<_> = signed.iter().collect();
    assert_eq!(distinct.len(), signed.len());
}

#[test]
fn a_database_restart_mid_run_fails_requests_cleanly_and_the_nodes_recover() {
    let site = Site::new();
    let signers = site.enrol(&[("frank", Scal::Scal1)]);
    let frank = &signers[0];
    let nodes = site.nodes(2);
    let urls: Vec<String> = nodes.iter().map(|n| n.url.clone()).collect();
    let all = hashes("restart", 1_000);
    let (status, body) =
        logged_in(&urls[0], frank).post("credentials/authorize", &authorize_any(frank, all.len()));
    assert_eq!(status, 200, "{body}");
    let sad = body["SAD"].clone();
    let todo = Mutex::new(all.clone());
    let signed = Mutex::new(Vec::new());
    let failed = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let mut per_phase = BTreeMap::new();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let (todo, signed, failed, stop, sad, url) =
                    (&todo, &signed, &failed, &stop, &sad, &urls[i % 2]);
                s.spawn(move || {
                    while !stop.load(Ordering::Relaxed) && !todo.lock().unwrap().is_empty() {
                        sign_until(url, frank, sad, todo, signed, failed, stop);
                    }
                })
            })
            .collect();
        wait_for(
            || signed.lock().unwrap().len() >= 100,
            &workers.iter().collect::<Vec<_>>(),
        );
        per_phase.insert("before", signed.lock().unwrap().len());
        site.cluster.restart();
        per_phase.insert("at restart", signed.lock().unwrap().len());
        // The nodes go on by themselves: more signatures on both nodes.
        let at_restart = per_phase["at restart"];
        wait_for(
            || signed.lock().unwrap().len() >= at_restart + 100,
            &workers.iter().collect::<Vec<_>>(),
        );
        // Down for longer than the nodes retry: requests fail (503), the
        // audit logs stop; back up, the nodes recover by themselves.
        site.cluster.stop();
        std::thread::sleep(Duration::from_secs(5));
        per_phase.insert("while down", signed.lock().unwrap().len());
        site.cluster.resume();
        let after_outage = signed.lock().unwrap().len();
        wait_for(
            || signed.lock().unwrap().len() >= after_outage + 100,
            &workers.iter().collect::<Vec<_>>(),
        );
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
    });
    let signed = signed.into_inner().unwrap();
    let failed = failed.into_inner();
    eprintln!(
        "{per_phase:?}; {} signed in all, {failed} refused (503)",
        signed.len(),
    );
    assert!(failed > 0, "no request met the outage");
    // Each node signs again after the restart.
    for url in &urls {
        let hash = HashAlgorithm::Sha256.digest(format!("after {url}").as_bytes());
        let (status, body) = logged_in(url, frank).post(
            "credentials/authorize",
            &authorize_body(frank, std::slice::from_ref(&hash), &frank.pin, ""),
        );
        assert_eq!(status, 200, "{body}");
        let (status, body) = logged_in(url, frank).post(
            "signatures/signHash",
            &sign_hash_body(frank, &body["SAD"], &hash),
        );
        assert_eq!(status, 200, "{url} did not recover: {body}");
    }
    let (report, records) = site.trail();
    assert!(report.is_intact(), "{:?}", report.problems);
    let recorded = signed_in_trail(&records);
    let missing = signed
        .iter()
        .filter(|h| !recorded.contains(&hex(h)))
        .count();
    assert_eq!(missing, 0, "signatures without their record");
    let distinct: BTreeSet<_> = signed.iter().collect();
    assert_eq!(distinct.len(), signed.len(), "a hash was signed twice");
}

#[test]
fn an_oauth_flow_begun_on_one_node_completes_on_another() {
    use common::oauth::{Ask, authorize_endpoint, exchange, get, pkce, post_form};
    let site = Site::new();
    std::fs::write(
        site.clients_file(),
        serde_json::to_vec(&json!([oauth_client_json()])).unwrap(),
    )
    .unwrap();
    let [alice] = site
        .enrol(&[("alice", Scal::Scal1)])
        .try_into()
        .ok()
        .unwrap();
    let nodes = site.nodes(2);
    let (a, b) = (&nodes[0].url, &nodes[1].url);
    let approved = hashes("approved on two nodes", 2);
    let pair = pkce();
    let ask = Ask::new(&alice.credential, &approved, &pair.challenge);

    // The page opens on node A; the signer's answer reaches node B.
    let page = get(&ask.url(a), None);
    assert_eq!(page.status, 200, "{}", page.body);
    let back = post_form(
        &authorize_endpoint(b, "v2"),
        Some(&page.cookie()),
        &[
            ("page", &page.page()),
            ("csrf", &page.csrf()),
            ("pin", &alice.pin),
            ("otp", ""),
            ("action", "approve"),
        ],
    )
    .redirected();
    let code = back["code"].clone();
    // Exchanged on A; the same code replayed on B is refused.
    let (status, token) = exchange(a, &code, &pair.verifier);
    assert_eq!(status, 200, "{token}");
    let (status, again) = exchange(b, &code, &pair.verifier);
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The token signs on B, once per approved signature, whichever node.
    let access = token["access_token"].as_str().unwrap();
    let sign = |url: &str, hashes: &[Vec<u8>]| {
        let mut client = client_at(url, "v2");
        client.token = Some(access.to_owned());
        client.post(
            "signatures/signHash",
            &json!({
                "credentialID": alice.credential,
                "hashes": hashes.iter().map(|h| b64(h)).collect::<Vec<_>>(),
                "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                "signAlgo": "1.2.840.10045.4.3.2",
            }),
        )
    };
    let (status, body) = sign(b, &approved[..1]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = sign(a, &approved[1..]);
    assert_eq!(status, 200, "{body}");
    let (status, body) = sign(b, &approved[..1]);
    assert_eq!(
        status, 400,
        "numSignatures is spent across the nodes: {body}"
    );
    // What the database holds: no code left, one credential token (the
    // page was spent by the answer), its SAD sealed (a JWS starts eyJ).
    assert_eq!(
        site.psql("SELECT string_agg(kind, ',' ORDER BY kind) FROM ssa_grant"),
        "credential-token"
    );
    assert_eq!(
        site.psql("SELECT count(*) FROM ssa_grant WHERE position('eyJ'::bytea in sealed) > 0"),
        "0"
    );
    // A flow approved on one node and one with the same page on the other
    // cannot both get a code.
    let pair = pkce();
    let ask = Ask::new(&alice.credential, &approved, &pair.challenge);
    let page = get(&ask.url(b), None);
    let answer = |url: &str| {
        post_form(
            &authorize_endpoint(url, "v2"),
            Some(&page.cookie()),
            &[
                ("page", &page.page()),
                ("csrf", &page.csrf()),
                ("pin", &alice.pin),
                ("otp", ""),
                ("action", "approve"),
            ],
        )
    };
    let first = answer(a);
    let second = answer(b);
    assert_eq!(first.status, 303, "{}", first.body);
    assert_eq!(second.status, 400, "{}", second.body);
}

/// The test client as `--oauth-clients` reads it.
fn oauth_client_json() -> Value {
    let secret = HashAlgorithm::Sha256.digest(common::oauth::SECRET.as_bytes());
    json!({
        "id": common::oauth::CLIENT,
        "name": "Test App",
        "secret_sha256": hex(&secret),
        "redirect_uris": [common::oauth::REDIRECT],
    })
}
