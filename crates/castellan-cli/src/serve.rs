//! `castellan serve`: the IAM, STS and Organizations endpoint over a data directory (or in
//! memory), until SIGINT or SIGTERM; with the test-suite options (fixed identities, several
//! accounts, test resets).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use castellan::credentials::{Clock, SecretString, SystemClock};
use castellan::{Iam, ROOT_CREDENTIALS_FILE};
use castellan_server::{OffsetClock, Server, ServerConfig};

use crate::{Outcome, ServeArgs};

/// The data directory unless told otherwise.
const DEFAULT_DATA_DIR: &str = "castellan-data";

/// `--account-id`: 12 digits, as `AccountId` reads them.
pub(crate) fn parse_account_id(text: &str) -> Result<String, String> {
    castellan_policy::AccountId::parse(text)
        .map(|id| id.as_str().to_owned())
        .map_err(|_| format!("`{text}` is not an AWS account id (12 digits)"))
}

/// The address `castellan serve` listens on unless told otherwise: loopback, port 7680 (not
/// 4566, which other local AWS emulators take).
pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:7680";

/// Runs the server until a signal; returns when it has shut down.
pub(crate) fn serve(args: ServeArgs) -> Outcome {
    let ServeArgs {
        listen,
        data_dir,
        in_memory,
        account_id,
        root_access_key_id,
        root_secret_access_key,
        accounts,
        test_reset,
        allow_clock_control,
    } = args;
    let listen = listen.as_str();
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
    let data_dir = (!in_memory).then(|| data_dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)));
    let mut builder = Iam::builder().test_reset(test_reset);
    if let Some(dir) = &data_dir {
        builder = builder.data_dir(dir);
    }
    if let Some(clock) = &clock {
        builder = builder.clock(Arc::clone(clock) as Arc<dyn Clock>);
    }
    if let Some(id) = account_id {
        builder = builder.account_id(id);
    }
    let given_key = root_access_key_id.is_some();
    if let (Some(id), Some(secret)) = (root_access_key_id, root_secret_access_key) {
        if let Err(e) = castellan::check_root_access_key(&id, &secret) {
            eprintln!("castellan serve: {}", e.message());
            return Outcome::Usage;
        }
        builder = builder.root_access_key(id, SecretString::new(secret));
    }
    if let Some(n) = accounts {
        builder = builder.accounts(n);
    }
    let iam = match builder.open() {
        Ok(iam) => iam,
        Err(e) => {
            match &data_dir {
                Some(dir) => {
                    eprintln!("castellan serve: cannot open the data directory {}: {}", dir.display(), e.message())
                }
                None => eprintln!("castellan serve: cannot start: {}", e.message()),
            }
            return Outcome::Usage;
        }
    };
    announce_bootstrap(&iam, data_dir.as_deref(), given_key);
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
        if iam.test_reset_enabled() {
            eprintln!(
                "castellan: WARNING: test resets enabled (POST /_castellan/reset deletes everything but the \
                 bootstrap state): for tests only, never on a server anyone relies on"
            );
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

/// Says on stderr what the bootstrap made, if this start bootstrapped: where the root
/// credentials are or, in memory (where they are kept nowhere else), the credentials themselves
/// in the shared-credentials format between two marker lines.
fn announce_bootstrap(iam: &Iam, data_dir: Option<&std::path::Path>, given_key: bool) {
    let all = iam.bootstrap_credentials();
    let Some(first) = all.first() else { return };
    let ids: Vec<&str> = all.iter().map(|c| c.account_id.as_str()).collect();
    let what = if all.len() == 1 {
        format!("account {}", first.account_id)
    } else {
        format!("{} accounts in one organization ({}; the first is the management account)", all.len(), ids.join(", "))
    };
    let keys = if all.len() == 1 { "the root user's access key is" } else { "the root users' access keys are" };
    match data_dir {
        Some(dir) => eprintln!(
            "castellan: bootstrapped {what} in {}; {keys} in {} (use that file as AWS_SHARED_CREDENTIALS_FILE)",
            dir.display(),
            dir.join(ROOT_CREDENTIALS_FILE).display()
        ),
        None => {
            eprintln!("castellan: bootstrapped {what} in memory; the root credentials (kept nowhere else):");
            let mut text = castellan::shared_credentials(all);
            if given_key {
                // The operator's own secret is not repeated into logs.
                let line = format!("aws_secret_access_key = {}\n", first.secret_access_key.expose());
                text = text.replacen(
                    &line,
                    "# aws_secret_access_key: the one given (--root-secret-access-key or CASTELLAN_ROOT_SECRET_ACCESS_KEY)\n",
                    1,
                );
            }
            eprint!("{BEGIN_CREDENTIALS}\n{text}{END_CREDENTIALS}\n");
        }
    }
}

/// The line before the root credentials printed on stderr by an in-memory server.
const BEGIN_CREDENTIALS: &str = "-----BEGIN CASTELLAN ROOT CREDENTIALS-----";
/// The line after them.
const END_CREDENTIALS: &str = "-----END CASTELLAN ROOT CREDENTIALS-----";

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
