//! A small HTTP/1.1 client for TSAs, CRL distribution points and OCSP
//! responders: plain HTTP (what they answer is signed), timeouts, an
//! overall deadline, a size limit, and a bounded retry on connection
//! failures and 5xx answers.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Connection settings.
#[derive(Clone, Copy, Debug)]
pub struct HttpSettings {
    /// Timeout for connecting, and for each read and write.
    pub timeout: Duration,
    /// Attempts in all (at least 1), within the deadline.
    pub attempts: u32,
    /// Largest body accepted, in bytes.
    pub max_response: usize,
    /// The most one request may take in all: connecting, every read (a
    /// server sending a byte a second is cut off), retries and the pauses
    /// between them. A signing request holds its SAD while it waits.
    pub deadline: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            attempts: 3,
            max_response: 4 << 20,
            deadline: Duration::from_secs(5),
        }
    }
}

/// What is left before `deadline`, or an error once it passed.
fn left(deadline: Instant) -> std::io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::TimedOut, "the deadline passed"))
}

/// A parsed `http://host[:port]/path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Url {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) path: String,
}

impl Url {
    pub(crate) fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("http://")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (authority, 80),
        };
        let bad = |s: &str| s.is_empty() || s.contains(['\r', '\n', ' ']);
        if bad(host) || bad(path) {
            return None;
        }
        Some(Self {
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }
}

fn exchange(
    url: &Url,
    request: &[u8],
    settings: &HttpSettings,
    deadline: Instant,
) -> std::io::Result<(u16, Vec<u8>)> {
    let address = (url.host.as_str(), url.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "host not found"))?;
    let within = || left(deadline).map(|d| d.min(settings.timeout));
    let mut stream = TcpStream::connect_timeout(&address, within()?)?;
    stream.set_write_timeout(Some(within()?))?;
    stream.write_all(request)?;
    let limit = settings.max_response + 16 * 1024;
    let mut response = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        // Each read waits no longer than what is left of the deadline.
        stream.set_read_timeout(Some(within()?))?;
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..n]);
        if response.len() > limit {
            break;
        }
    }
    parse_response(&response, settings.max_response).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed HTTP response")
    })
}

/// Sends `GET` (no body) or `POST` (with `body` of `content_type`) and
/// returns the body of a 200 answer, within `settings.deadline`.
pub(crate) fn fetch(
    url: &str,
    post: Option<(&str, &[u8])>,
    settings: &HttpSettings,
) -> Result<Vec<u8>, String> {
    fetch_by(url, post, settings, Instant::now() + settings.deadline)
}

/// [`fetch`], done by `deadline` (several requests may share one).
pub(crate) fn fetch_by(
    url: &str,
    post: Option<(&str, &[u8])>,
    settings: &HttpSettings,
    deadline: Instant,
) -> Result<Vec<u8>, String> {
    let url = Url::parse(url).ok_or_else(|| format!("unsupported URL {url:?} (only http://)"))?;
    let mut request = match post {
        Some((content_type, body)) => format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            url.path,
            url.host,
            body.len()
        )
        .into_bytes(),
        None => format!("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", url.path, url.host).into_bytes(),
    };
    if let Some((_, body)) = post {
        request.extend_from_slice(body);
    }
    let mut last = String::from("no attempt made");
    for attempt in 0..settings.attempts.max(1) {
        if attempt > 0 {
            let Ok(remaining) = left(deadline) else {
                break;
            };
            std::thread::sleep(remaining.min(Duration::from_millis(200 * u64::from(attempt))));
        }
        if left(deadline).is_err() {
            last = format!("the deadline of {:?} passed", settings.deadline);
            break;
        }
        match exchange(&url, &request, settings, deadline) {
            Ok((200, body)) => return Ok(body),
            Ok((status, _)) if status >= 500 => last = format!("HTTP {status}"),
            Ok((status, _)) => return Err(format!("HTTP {status}")),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("failed within {:?}: {last}", settings.deadline))
}

/// Status and body of an HTTP/1.x response (Content-Length, chunked, or to
/// the end of the connection).
pub(crate) fn parse_response(response: &[u8], max: usize) -> Option<(u16, Vec<u8>)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_parse() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_response(plain, 100), Some((200, b"abc".to_vec())));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked, 100), Some((200, b"abcde".to_vec())));
        assert_eq!(parse_response(b"garbage", 100), None);
        assert_eq!(parse_response(plain, 2), None);
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nab", 100),
            None
        );
    }

    #[test]
    fn urls() {
        assert!(Url::parse("http://127.0.0.1:3180/tsa").is_some());
        assert_eq!(
            Url::parse("http://h").map(|u| (u.port, u.path)),
            Some((80, "/".to_owned()))
        );
        assert!(Url::parse("https://tsa.example").is_none());
        assert!(Url::parse("http://host:port/").is_none());
        assert!(Url::parse("http://a b/").is_none());
    }
}
