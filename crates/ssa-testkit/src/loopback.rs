//! A tiny HTTP/1.1 server on the loopback interface for the tests' real
//! services (TSA, CRL, OCSP): one request per connection, each connection
//! on its own thread (so a slow answer does not hold up the others),
//! bounded life, stops when dropped. And a server that stalls: it takes a
//! request and answers nothing, or a byte a second.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// What a handler answers: content type and body, or `None` for a 500.
pub type Answer = Option<(&'static str, Vec<u8>)>;

/// A running loopback server.
#[derive(Debug)]
pub struct LoopbackServer {
    base: String,
    stop: Arc<AtomicBool>,
    served: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl LoopbackServer {
    /// Binds a free loopback port and serves `handler(request_line, body)`.
    pub fn start(handler: impl Fn(&str, &[u8]) -> Answer + Send + Sync + 'static) -> Self {
        let handler = Arc::new(handler);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, served) = (Arc::clone(&stop), Arc::clone(&served));
            std::thread::spawn(move || {
                // Bounded: at most ten minutes, and stops when asked.
                for _ in 0..(10 * 60 * 100) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let (handler, served) = (Arc::clone(&handler), Arc::clone(&served));
                            std::thread::spawn(move || serve(stream, &*handler, &served));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            base,
            stop,
            served,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Requests answered so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request; counts it in `served` before the answer goes out,
/// so a client that has its answer always sees the count include it.
fn serve(stream: TcpStream, handler: &dyn Fn(&str, &[u8]) -> Answer, served: &AtomicUsize) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length.min(1 << 16)];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let (status, content_type, body) = match handler(request_line.trim_end(), &body) {
        Some((content_type, body)) => ("200 OK", content_type, body),
        None => ("500 Internal Server Error", "text/plain", Vec::new()),
    };
    served.fetch_add(1, Ordering::SeqCst);
    let mut stream = reader.into_inner();
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// How a [`StallingServer`] fails to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    /// It reads the request and says nothing.
    Silent,
    /// It sends a valid-looking answer one byte a second.
    Trickle,
}

/// A loopback server that takes requests and does not answer in time, for
/// deadline tests. Each connection is held for at most two minutes.
#[derive(Debug)]
pub struct StallingServer {
    base: String,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl StallingServer {
    /// Binds a free loopback port and stalls every request as `how`.
    pub fn start(how: Stall) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, accepted) = (Arc::clone(&stop), Arc::clone(&accepted));
            std::thread::spawn(move || {
                for _ in 0..(10 * 60 * 100) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                            let stop = Arc::clone(&stop);
                            std::thread::spawn(move || stall(stream, how, &stop));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Self {
            base,
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for StallingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stall(stream: TcpStream, how: Stall, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut stream = stream;
    let answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: 100000\r\n\r\n";
    let mut sent = 0usize;
    let mut sink = [0u8; 4096];
    for tick in 0..1_200u32 {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // Drain whatever the client sends; never close first.
        let _ = stream.read(&mut sink);
        if how == Stall::Trickle && tick % 10 == 0 {
            let byte = answer.get(sent).copied().unwrap_or(b'0');
            if stream.write_all(&[byte]).is_err() {
                break;
            }
            sent += 1;
        }
    }
}
