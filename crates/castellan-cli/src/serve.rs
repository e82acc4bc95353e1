//! `castellan serve`: the IAM, STS and Organizations endpoint over a data directory, until
//! SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use castellan::credentials::{Clock, SystemClock};
use castellan::{Iam, ROOT_CREDENTIALS_FILE};
use castellan_server::{OffsetClock, Server, ServerConfig};

use crate::Outcome;

/// The address `castellan serve` listens on unless told otherwise: loopback, port 7680 (not
/// 4566, which other local AWS emulators take).
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:7680";

/// Runs the server until a signal; returns when it has shut down.
pub(crate) fn serve(listen: &str, data_dir: &Path, allow_clock_control: bool) -> Outcome {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CASTELLAN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let address: SocketAddr = match listen.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("castellan serve: `{listen}` is not an address (such as {DEFAULT_LISTEN}): {e}");
            return Outcome::Usage;
        }
    };
    // With clock control, the facade runs on a clock tests may move forward.
    let clock = allow_clock_control.then(|| Arc::new(OffsetClock::new(Arc::new(SystemClock))));
    let mut builder = Iam::builder().data_dir(data_dir);
    if let Some(clock) = &clock {
        builder = builder.clock(Arc::clone(clock) as Arc<dyn Clock>);
    }
    let iam = match builder.open() {
        Ok(iam) => iam,
        Err(e) => {
            eprintln!("castellan serve: cannot open the data directory {}: {e}", data_dir.display());
            return Outcome::Usage;
        }
    };
    if let Some(root) = iam.root_credentials() {
        eprintln!(
            "castellan: bootstrapped account {} in {}; the root user's access key {} is in {} \
             (use it with AWS_SHARED_CREDENTIALS_FILE)",
            root.account_id,
            data_dir.display(),
            root.access_key_id,
            data_dir.join(ROOT_CREDENTIALS_FILE).display()
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("castellan serve: cannot start the runtime: {e}");
            return Outcome::Usage;
        }
    };
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let local = listener.local_addr()?;
        let iam = Arc::new(iam);
        let mut server = Server::new(Arc::clone(&iam), ServerConfig::default());
        if let Some(clock) = clock {
            eprintln!("castellan: clock control enabled (POST /_castellan/clock): for tests only");
            server = server.with_clock_control(clock);
        }
        let flusher = tokio::spawn(flush_periodically(Arc::clone(&iam)));
        eprintln!("castellan: serving IAM, STS and Organizations at http://{local}");
        let served = server.serve(listener, shutdown_signal()).await;
        flusher.abort();
        let _ = flusher.await;
        flush(Arc::clone(&iam)).await;
        served?;
        eprintln!("castellan: stopped");
        Ok::<(), std::io::Error>(())
    });
    match result {
        Ok(()) => Outcome::Clean,
        Err(e) => {
            eprintln!("castellan serve: {e}");
            Outcome::Usage
        }
    }
}

/// How often the last-used data gathered in memory is written to the store.
const FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// Writes the last-used data every [`FLUSH_INTERVAL`], until aborted.
async fn flush_periodically(iam: Arc<Iam>) {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + FLUSH_INTERVAL, FLUSH_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        flush(Arc::clone(&iam)).await;
    }
}

/// Writes the last-used data once (on the blocking pool: it writes to the store); logs a
/// failure.
async fn flush(iam: Arc<Iam>) {
    match tokio::task::spawn_blocking(move || iam.flush_last_used()).await {
        Ok(Ok(written)) => tracing::debug!(written, "last-used data flushed"),
        Ok(Err(e)) => tracing::warn!(error = %e, "could not write the last-used data"),
        Err(e) => tracing::warn!(error = %e, "the last-used flush did not finish"),
    }
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
