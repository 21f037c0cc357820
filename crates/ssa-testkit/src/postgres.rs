//! A private PostgreSQL cluster for tests, from Debian's `postgresql`
//! package: `initdb` and `pg_ctl` into a temporary directory, reachable
//! only over a Unix socket in that directory (no TCP port), stopped when
//! the [`Cluster`] is dropped.
//!
//! `initdb` refuses to run as root: as root, the cluster's programs run as
//! the unprivileged user `nobody` (through `setpriv`), and the directory
//! belongs to it.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// The database role every test connects as (the cluster's superuser).
pub const USER: &str = "ssa";

/// A running private cluster. Dropping it stops it (`pg_ctl stop -m
/// immediate`) and removes its directory; so does the end of the test
/// process, for a cluster that is never dropped (one in a static).
#[derive(Debug)]
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

/// The directory of the newest PostgreSQL installed by Debian's packages.
pub fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); \
             install it with `apt-get install postgresql` (.ci/run does)"
        ),
    }
}

fn is_root() -> bool {
    // `id -u` rather than libc: this crate has no unsafe code to spare.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// Runs one of the cluster's programs, as `nobody` when this process is root.
fn run(bin: &Path, program: &str, args: &[&str]) -> Output {
    let program = bin.join(program);
    let mut command = if is_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--reset-env",
        ])
        .arg(&program);
        c
    } else {
        Command::new(&program)
    };
    command.args(args).env("LC_ALL", "C").env("TZ", "UTC");
    match command.output() {
        Ok(output) => output,
        Err(e) => panic!("could not run {}: {e}", program.display()),
    }
}

fn check(output: Output, what: &str) {
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Cluster {
    /// Makes and starts a new cluster (a second or so).
    pub fn start() -> Self {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("ssa-pg-")
            .tempdir()
            .expect("temporary PostgreSQL directory");
        if is_root() {
            let status = Command::new("chown")
                .args(["nobody:nogroup"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown of the cluster directory failed");
        }
        let cluster = Self { dir, bin };
        let data = cluster.data();
        check(
            run(
                &cluster.bin,
                "initdb",
                &[
                    "-D",
                    path_str(&data),
                    "-U",
                    USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
            ),
            "initdb",
        );
        // Only the socket in the cluster's own directory; durability as in
        // production (fsync and synchronous_commit on, the defaults).
        let conf = format!(
            "listen_addresses = ''\nunix_socket_directories = '{}'\nmax_connections = 200\n\
             shared_buffers = 64MB\nlog_min_messages = warning\n",
            cluster.dir.path().display()
        );
        let mut text =
            std::fs::read_to_string(data.join("postgresql.conf")).expect("read postgresql.conf");
        text.push_str(&conf);
        std::fs::write(data.join("postgresql.conf"), text).expect("write postgresql.conf");
        cluster.pg_ctl(&["start", "-w", "-t", "60"]);
        cluster.watch();
        cluster
    }

    /// A cluster in a static is never dropped: a small shell loop stops
    /// it, and removes its directory, once this process is gone. (It
    /// outlives this process by design: never waited for.)
    #[allow(clippy::zombie_processes)]
    fn watch(&self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let as_owner = if is_root() {
            "setpriv --reuid=nobody --regid=nogroup --clear-groups "
        } else {
            ""
        };
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 0.5; done; \
             {as_owner}'{pg_ctl}' -D '{data}' stop -m immediate >/dev/null 2>&1; \
             rm -rf '{dir}'",
            pid = std::process::id(),
            pg_ctl = pg_ctl.display(),
            data = self.data().display(),
            dir = self.dir.path().display(),
        );
        // In a process group of its own: a signal to the test's group (a
        // cancelled run) must not take the watcher down with it and leave
        // the cluster running.
        Command::new("sh")
            .args(["-c", &script])
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the cluster's watcher");
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data();
        let log = self.dir.path().join("server.log");
        let mut all = vec!["-D", path_str(&data), "-l", path_str(&log)];
        all.extend_from_slice(args);
        check(run(&self.bin, "pg_ctl", &all), "pg_ctl");
    }

    /// The directory holding the socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A URL for database `name` (see [`Cluster::create_database`]).
    pub fn url(&self, name: &str) -> String {
        format!(
            "postgres://{USER}@/{name}?host={}",
            self.socket_dir().display()
        )
    }

    /// Creates a fresh database with a name unique in this process and
    /// returns its URL.
    pub fn fresh_database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.create_database(&name);
        self.url(&name)
    }

    /// The name of the database a URL of [`Cluster::url`] names.
    pub fn database_name(url: &str) -> &str {
        let path = url.split_once("@/").map_or(url, |(_, path)| path);
        path.split_once('?').map_or(path, |(name, _)| name)
    }

    /// Creates database `name` with `psql` (an independent client).
    pub fn create_database(&self, name: &str) {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
    }

    /// Runs `sql` in database `name` with `psql`; its output (unaligned,
    /// tuples only).
    pub fn psql(&self, name: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", path_str(self.socket_dir()), "-U", USER, "-d", name])
            .args(["-c", sql])
            .output()
            .expect("run psql");
        if !output.status.success() {
            panic!(
                "psql failed on {sql:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the cluster comes
    /// back on the same socket.
    pub fn restart(&self) {
        self.pg_ctl(&["restart", "-m", "fast", "-w", "-t", "60"]);
    }

    /// Stops the cluster (`-m fast`); [`Cluster::resume`] starts it again.
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast", "-w", "-t", "60"]);
    }

    /// Starts a stopped cluster again.
    pub fn resume(&self) {
        self.pg_ctl(&["start", "-w", "-t", "60"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = run(
            &self.bin,
            "pg_ctl",
            &["-D", path_str(&data), "stop", "-m", "immediate", "-w"],
        );
    }
}

fn path_str(path: &Path) -> &str {
    match path.to_str() {
        Some(s) => s,
        None => panic!("a non-UTF-8 temporary path: {}", path.display()),
    }
}
