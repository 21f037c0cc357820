//! A real browser for tests: Debian's `chromium` driven through
//! `chromedriver` over the W3C WebDriver protocol (JSON over HTTP on a
//! loopback port). Only the commands the tests use: open a page, find
//! elements, read their text, type, click, run a script, switch frames,
//! read an alert, take a screenshot.
//!
//! Headless, with a throw-away profile; `--no-sandbox` because CI runs as
//! root (the pages are the test's own, on loopback).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where Debian installs the browser and its driver.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A WebDriver error: its code (`no such element`, `no such alert`, …)
/// and message.
#[derive(Debug, Clone)]
pub struct WebDriverError {
    /// The W3C error code.
    pub error: String,
    /// What the driver said.
    pub message: String,
}

/// A running `chromedriver`, stopped when dropped.
pub struct Chromedriver {
    child: Child,
    base: String,
    agent: ureq::Agent,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

impl Chromedriver {
    /// Starts `chromedriver` on a free loopback port and waits until it
    /// is ready.
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{CHROMEDRIVER} (Debian: chromium-driver): {e}"));
        let driver = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            agent: agent(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = driver
                .agent
                .get(format!("{}/status", driver.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"] == json!(true));
            if ready {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new headless browser session with its own profile, in `lang`.
    pub fn session(&self, lang: &str) -> Session {
        let profile = tempfile::tempdir().expect("a profile directory");
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1000,1600".to_owned(),
            format!("--lang={lang}"),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": CHROMIUM,
                        "args": args,
                        "prefs": { "intl.accept_languages": lang },
                    },
                },
            },
        });
        let answer = call(
            &self.agent,
            "POST",
            &format!("{}/session", self.base),
            Some(&capabilities),
        )
        .unwrap_or_else(|e| panic!("a browser session: {e:?}"));
        let id = answer["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        Session {
            base: format!("{}/session/{id}", self.base),
            agent: self.agent.clone(),
            _profile: profile,
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, WebDriverError> {
    let response = match (method, body) {
        ("GET", _) => agent.get(url).call(),
        ("DELETE", _) => agent.delete(url).call(),
        (_, body) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(
                serde_json::to_vec(body.unwrap_or(&json!({})))
                    .expect("JSON")
                    .as_slice(),
            ),
    };
    let mut response = response.map_err(|e| WebDriverError {
        error: "transport".into(),
        message: e.to_string(),
    })?;
    let status = response.status().as_u16();
    let value: Value = response
        .body_mut()
        .read_json()
        .map_err(|e| WebDriverError {
            error: "transport".into(),
            message: e.to_string(),
        })?;
    if status == 200 {
        Ok(value["value"].clone())
    } else {
        Err(WebDriverError {
            error: value["value"]["error"].as_str().unwrap_or("").to_owned(),
            message: value["value"]["message"].as_str().unwrap_or("").to_owned(),
        })
    }
}

/// A browser session (one window), closed when dropped.
pub struct Session {
    base: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

/// An element of the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Session {
    fn post(&self, path: &str, body: &Value) -> Result<Value, WebDriverError> {
        call(
            &self.agent,
            "POST",
            &format!("{}{path}", self.base),
            Some(body),
        )
    }

    fn get(&self, path: &str) -> Result<Value, WebDriverError> {
        call(&self.agent, "GET", &format!("{}{path}", self.base), None)
    }

    /// Opens `url` and waits for it to load.
    pub fn goto(&self, url: &str) {
        self.post("/url", &json!({ "url": url }))
            .unwrap_or_else(|e| panic!("open {url}: {e:?}"));
    }

    /// The current page's URL.
    pub fn url(&self) -> String {
        self.get("/url")
            .expect("the URL")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Waits until the URL starts with `prefix` (a navigation after a
    /// click), at most `timeout`.
    pub fn wait_for_url(&self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let url = self.url();
            if url.starts_with(prefix) {
                return url;
            }
            assert!(Instant::now() < deadline, "still at {url}, not {prefix}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The first element matching the CSS `selector`.
    pub fn find(&self, selector: &str) -> Result<Element, WebDriverError> {
        let found = self.post(
            "/element",
            &json!({ "using": "css selector", "value": selector }),
        )?;
        Ok(Element(found[ELEMENT].as_str().unwrap_or("").to_owned()))
    }

    /// Every element matching the CSS `selector`.
    pub fn find_all(&self, selector: &str) -> Vec<Element> {
        self.post(
            "/elements",
            &json!({ "using": "css selector", "value": selector }),
        )
        .expect("find elements")
        .as_array()
        .map(|all| {
            all.iter()
                .map(|e| Element(e[ELEMENT].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
    }

    /// The rendered text of `element`.
    pub fn text(&self, element: &Element) -> String {
        self.get(&format!("/element/{}/text", element.0))
            .expect("element text")
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// Types `text` into `element`.
    pub fn type_into(&self, element: &Element, text: &str) {
        self.post(
            &format!("/element/{}/value", element.0),
            &json!({ "text": text }),
        )
        .expect("type");
    }

    /// Clicks `element`.
    pub fn click(&self, element: &Element) {
        self.post(&format!("/element/{}/click", element.0), &json!({}))
            .expect("click");
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub fn execute(&self, script: &str) -> Value {
        self.post("/execute/sync", &json!({ "script": script, "args": [] }))
            .expect("execute a script")
    }

    /// The text of an open alert, if one is open.
    pub fn alert_text(&self) -> Option<String> {
        match self.get("/alert/text") {
            Ok(text) => Some(text.as_str().unwrap_or("").to_owned()),
            Err(e) if e.error == "no such alert" => None,
            Err(e) => panic!("alert: {e:?}"),
        }
    }

    /// Switches into the frame `element` (an `iframe`).
    pub fn switch_to_frame(&self, element: &Element) {
        self.post("/frame", &json!({ "id": { ELEMENT: element.0 } }))
            .expect("switch to frame");
    }

    /// Switches back to the top-level page.
    pub fn switch_to_top(&self) {
        self.post("/frame", &json!({ "id": null }))
            .expect("switch to the top");
    }

    /// A PNG of the window.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64ct::{Base64, Encoding};
        let encoded = self.get("/screenshot").expect("screenshot");
        Base64::decode_vec(encoded.as_str().unwrap_or("")).expect("base64 PNG")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = call(&self.agent, "DELETE", &self.base, None);
    }
}
