//! The `castellan` command: check, format and simulate AWS IAM policies offline.
//!
//! Exit codes are part of the contract: 0 when everything checked is fine, 1 when some input is
//! not (an invalid policy, a file `fmt --check` would change), 2 for usage errors (unknown
//! options, unreadable paths).

mod policy_cmd;
mod serve;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "castellan", version, about = "An identity and access management engine that behaves like AWS IAM")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Work with policy documents.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run decision cases through the evaluator and compare with their expected decisions.
    Simulate {
        /// A decision-case file (a JSON array of cases).
        #[arg(long)]
        cases: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Serve the IAM, STS and Organizations APIs (for the AWS CLI and SDKs) over a data
    /// directory, until SIGINT or SIGTERM.
    Serve(Box<ServeArgs>),
}

/// `castellan serve`'s options.
#[derive(clap::Args)]
struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value = serve::DEFAULT_LISTEN)]
    listen: String,
    /// The data directory (created and bootstrapped on first start) [default: castellan-data].
    #[arg(long, conflicts_with = "in_memory")]
    data_dir: Option<PathBuf>,
    /// Keep everything in memory: nothing is written to disk (no data directory, no audit log;
    /// the bootstrap root credentials are printed on stderr).
    #[arg(long)]
    in_memory: bool,
    /// The bootstrap account's 12-digit id [default: a random one, kept in the data directory].
    #[arg(long, value_name = "ID", value_parser = serve::parse_account_id)]
    account_id: Option<String>,
    /// The bootstrap root user's access key id (`AKIA` and 16 of A-Z, 2-7), instead of a
    /// generated one; needs --root-secret-access-key.
    #[arg(long, value_name = "KEY_ID", env = "CASTELLAN_ROOT_ACCESS_KEY_ID", requires = "root_secret_access_key")]
    root_access_key_id: Option<String>,
    /// The bootstrap root user's secret access key (40 of A-Z, a-z, 0-9, / and +); needs
    /// --root-access-key-id. Prefer the environment variable: arguments are visible to other
    /// local users.
    #[arg(
        long,
        value_name = "SECRET",
        env = "CASTELLAN_ROOT_SECRET_ACCESS_KEY",
        hide_env_values = true,
        requires = "root_access_key_id"
    )]
    root_secret_access_key: Option<String>,
    /// Bootstrap N accounts in one organization (the first is the management account); each
    /// root user's key is a profile of root-credentials: [default], [account-2], ... [default: 1]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    accounts: Option<u32>,
    /// For tests only: serve `POST /_castellan/reset` (from loopback), which returns the server
    /// to its bootstrap state, deleting everything else.
    #[arg(long)]
    test_reset: bool,
    /// For tests only: serve `POST /_castellan/clock`, which lets the bootstrap account's
    /// root user (from loopback) move the server's clock forward.
    #[arg(long)]
    allow_clock_control: bool,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Validate policy files as AWS would; a folder means every `*.json` file under it.
    Check {
        /// The kind of policy the files are.
        #[arg(long, value_enum, default_value_t = KindArg::Identity)]
        kind: KindArg,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Files or folders to check.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Rewrite policy files in the canonical layout (`-` formats standard input to standard
    /// output).
    Fmt {
        /// Change nothing; exit 1 if any file is not in the canonical layout.
        #[arg(long)]
        check: bool,
        /// Files or folders to format.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
}

/// Output formats.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Diagnostics with the offending line, for people.
    Human,
    /// One JSON object per file (or case), one per line, for tools.
    Json,
}

/// The policy kinds, as spelled on the command line.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KindArg {
    Identity,
    Resource,
    Trust,
    PermissionsBoundary,
    Session,
    Scp,
    Rcp,
}

impl From<KindArg> for castellan_policy::PolicyKind {
    fn from(kind: KindArg) -> Self {
        use castellan_policy::PolicyKind as K;
        match kind {
            KindArg::Identity => K::Identity,
            KindArg::Resource => K::Resource,
            KindArg::Trust => K::Trust,
            KindArg::PermissionsBoundary => K::PermissionsBoundary,
            KindArg::Session => K::Session,
            KindArg::Scp => K::Scp,
            KindArg::Rcp => K::Rcp,
        }
    }
}

/// How a command ended.
enum Outcome {
    /// Everything was fine.
    Clean,
    /// Some input was not (exit 1).
    Findings,
    /// The command could not do its job (exit 2); the message is already printed.
    Usage,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Policy(PolicyCommand::Check { kind, format, paths }) => {
            policy_cmd::check(&paths, kind.into(), format == Format::Json)
        }
        Command::Policy(PolicyCommand::Fmt { check, paths }) => policy_cmd::fmt(&paths, check),
        Command::Simulate { cases, format } => simulate::simulate(&cases, format == Format::Json),
        Command::Serve(args) => serve::serve(*args),
    };
    match outcome {
        Outcome::Clean => ExitCode::SUCCESS,
        Outcome::Findings => ExitCode::from(1),
        Outcome::Usage => ExitCode::from(2),
    }
}
