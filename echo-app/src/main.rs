//! The `echo-app` binary: `serve` (the default), `client`, `bench`.
//!
//! Errors are one line on stderr (`error: listen 0.0.0.0:8080: address
//! already in use`) and exit status 1; never a panic message or a
//! backtrace.

#![forbid(unsafe_code)]

use clap::{Args, Parser, Subcommand, ValueEnum};
use echo_app::bench::{self, BenchConfig, Mode};
use echo_app::server::{self, ServeConfig};
use echo_app::{client, cluster, sys, Error, Result};
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// An echo server on loop-core and loop-net, its line client and a load
/// generator.
#[derive(Parser, Debug)]
#[command(name = "echo-app", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand: `serve` with these options.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Echo every byte back on every connection (the default).
    Serve(ServeArgs),
    /// Send standard input line by line and print each echo.
    Client(ClientArgs),
    /// Load an echo server and verify every byte it echoes.
    Bench(BenchArgs),
}

#[derive(Args, Debug, Clone)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    host: String,
    /// Port to listen on (0: any free port; the listening line shows it).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Loops, each on its own thread, sharing the port (SO_REUSEPORT).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: u16,
    /// Most connections open at once; more are accepted and closed.
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Close a connection after this many seconds without traffic.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    idle_timeout: Option<Duration>,
    /// Log level or filter (tracing-subscriber's env-filter syntax);
    /// RUST_LOG also works. Default: warn.
    #[arg(long, value_name = "LEVEL")]
    log: Option<String>,
    /// Print a statistics line every SECS seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    stats: Option<Duration>,
    /// After SIGINT/SIGTERM, stop waiting for open connections after SECS
    /// seconds (exit status 1).
    #[arg(long, value_name = "SECS", value_parser = parse_secs)]
    shutdown_timeout: Option<Duration>,
    /// Do not answer UDP echo on the port (by default every worker does).
    #[arg(long)]
    no_udp: bool,
    /// N worker processes sharing the listening socket (a cluster: the
    /// primary binds, restarts dead workers, runs the shutdown).
    #[arg(long, value_name = "N", conflicts_with = "workers",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    processes: Option<u16>,
    /// Internal: run as worker ID of a cluster primary.
    #[arg(long = "cluster-worker", value_name = "ID", hide = true)]
    cluster_worker: Option<usize>,
}

#[derive(Args, Debug)]
struct ClientArgs {
    /// The echo server, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Log level or filter; RUST_LOG also works.
    #[arg(long, value_name = "LEVEL")]
    log: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ModeArg {
    /// One message in flight per connection: messages/s and latency.
    Pingpong,
    /// --pipeline messages in flight per connection: MB/s.
    Stream,
    /// Connect and hold the connections, silent.
    Idle,
    /// UDP: --pipeline datagrams in flight per socket: datagrams/s.
    Udp,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// The echo server, HOST:PORT.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// Connections.
    #[arg(long, default_value_t = 50)]
    conns: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=(64 << 20)))]
    size: u64,
    /// Measured time in seconds.
    #[arg(long, default_value = "10", value_parser = parse_secs)]
    duration: Duration,
    /// pingpong, stream, idle or udp.
    #[arg(long, value_enum, default_value_t = ModeArg::Pingpong)]
    mode: ModeArg,
    /// Messages in flight per connection (stream mode).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pipeline: u64,
    /// Log level or filter; RUST_LOG also works.
    #[arg(long, value_name = "LEVEL")]
    log: Option<String>,
}

/// Seconds, fractions allowed (`0.5`), more than 0.
fn parse_secs(s: &str) -> std::result::Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(v.is_finite() && v > 0.0 && v < 1e9) {
        return Err(format!("`{s}`: seconds must be more than 0"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// tracing to stderr: `--log` if given, else RUST_LOG, else `warn`.
fn init_logging(level: Option<&str>) -> Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = match level {
        Some(l) => EnvFilter::try_new(l).map_err(|e| Error::new(format!("--log {l}: {e}")))?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal only: a log file or a pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        // One loop per thread: the thread names which loop logged.
        .with_thread_names(true)
        .try_init()
        .map_err(|e| Error::new(format!("logging: {e}")))
}

fn serve(a: ServeArgs) -> Result<i32> {
    init_logging(a.log.as_deref())?;
    sys::raise_nofile_limit();
    if let Some(id) = a.cluster_worker {
        cluster::worker::run(&cluster::worker::WorkerConfig {
            id,
            max_connections: a.max_connections,
            idle_timeout: a.idle_timeout,
            stats_every: a.stats,
        })?;
        return Ok(0);
    }
    let addr = sys::resolve(&a.host, a.port)?[0];
    let cfg = ServeConfig {
        addr,
        workers: a.workers.into(),
        max_connections: a.max_connections,
        idle_timeout: a.idle_timeout,
        stats_every: a.stats,
        shutdown_timeout: a.shutdown_timeout,
        udp: !a.no_udp,
    };
    let listening = |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {addr}");
        let _ = out.flush();
    };
    let summary = match a.processes {
        None => server::serve(&cfg, listening)?,
        Some(n) => {
            let exe =
                std::env::current_exe().map_err(|e| Error::io("find", &"this program", &e))?;
            let cfg = cluster::primary::ClusterConfig {
                serve: cfg,
                processes: n.into(),
                exe,
                worker_args: worker_args(&a),
            };
            let (summary, workers) = cluster::primary::serve(&cfg, listening)?;
            let mut out = std::io::stdout().lock();
            for w in workers {
                let _ = writeln!(out, "{w}");
            }
            summary
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{summary}");
    let _ = out.flush();
    Ok(summary.exit.code())
}

/// The options a cluster worker needs, as the primary was given them.
fn worker_args(a: &ServeArgs) -> Vec<std::ffi::OsString> {
    let mut v: Vec<String> = Vec::new();
    if let Some(n) = a.max_connections {
        v.extend(["--max-connections".into(), n.to_string()]);
    }
    if let Some(d) = a.idle_timeout {
        v.extend(["--idle-timeout".into(), d.as_secs_f64().to_string()]);
    }
    if let Some(d) = a.stats {
        v.extend(["--stats".into(), d.as_secs_f64().to_string()]);
    }
    if let Some(l) = &a.log {
        v.extend(["--log".into(), l.clone()]);
    }
    v.into_iter().map(Into::into).collect()
}

fn run_client(a: ClientArgs) -> Result<i32> {
    init_logging(a.log.as_deref())?;
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    client::run(&a.addr, stdin, stdout)?;
    Ok(0)
}

fn run_bench(a: BenchArgs) -> Result<i32> {
    init_logging(a.log.as_deref())?;
    sys::raise_nofile_limit();
    let addr = sys::resolve_addr(&a.addr)?[0];
    let cfg = BenchConfig {
        addr,
        conns: a.conns,
        size: a.size as usize,
        duration: a.duration,
        mode: match a.mode {
            ModeArg::Pingpong => Mode::Pingpong,
            ModeArg::Stream => Mode::Stream,
            ModeArg::Idle => Mode::Idle,
            ModeArg::Udp => Mode::Udp,
        },
        pipeline: a.pipeline as usize,
        progress: std::io::stdout().is_terminal(),
    };
    let report = bench::run(&cfg)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{report}");
    let _ = out.flush();
    if report.errors > 0 {
        let first = report.first_error.as_deref().unwrap_or("unknown");
        return Err(Error::new(format!(
            "bench: {} errors (first: {first})",
            report.errors
        )));
    }
    Ok(0)
}

fn main() {
    // A bug must still read as one line, without a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error: {msg}{at}");
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                std::process::exit(0);
            }
            // A usage error: its first line only (`error: invalid value…`),
            // and clap's status 2.
            let text = e.render().to_string();
            let line = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("error: bad usage");
            eprintln!("{line}");
            std::process::exit(2);
        }
    };
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(a)) => serve(a),
        Some(Command::Client(a)) => run_client(a),
        Some(Command::Bench(a)) => run_bench(a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    let _ = std::io::stdout().flush();
    // Exit now: after a forced shutdown, worker threads are still running.
    std::process::exit(code);
}
