//! heraldctl: Herald's command line. Parses arguments, runs one command and
//! exits with a code scripts can rely on (see `EXIT_CODES`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod accounts;
mod actions;
mod alerts;
mod client;
mod dead;
mod deliveries;
mod import;
mod output;
mod routes;
mod types;
mod up;

pub use client::{Exit, Failure};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  error talking to Herald (unreachable, refused token, internal error, timed out waiting)
  2  bad usage or bad input (a message names the field)
  3  not found (account, action, dead letter)
  4  the action failed (with --wait, status --wait, accounts test)";

const EXAMPLES: &str = "\
Examples:
  heraldctl up --demo                                  # the whole system here, with a first alert
  export HERALD_TOKEN=...            # printed by `up`, also in herald-data/tokens.env
  heraldctl accounts put ops-slack.yaml                # one account or a list, YAML or JSON
  heraldctl accounts list --type slack
  heraldctl accounts test ops-slack
  heraldctl routes put -f route.yaml                   # or: routes put ops --name Ops --account ops-slack
  heraldctl send --account ops-slack --params '{\"message\": \"Disk full on {{context.host}}\"}' \\
      --context '{\"host\": \"db-1\"}' --wait
  heraldctl status 0f1c... --wait --timeout 1m
  heraldctl dead list --type webhook
  heraldctl dead replay --type webhook
  heraldctl import signals accounts/*.json --dry-run
  heraldctl import kibana kibana.yml
  heraldctl --output json types";

#[derive(Parser)]
#[command(
    name = "heraldctl",
    version,
    about = "Herald's command line: accounts, routes, events, action status, dead letters, imports, and `up`",
    after_help = format!("{EXAMPLES}\n\n{EXIT_CODES}"),
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub struct Global {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// The registry's gRPC address.
    #[arg(
        long,
        global = true,
        env = "HERALD_REGISTRY_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub registry_url: String,
    /// Ingest's gRPC address.
    #[arg(
        long,
        global = true,
        env = "HERALD_INGEST_URL",
        default_value = "http://127.0.0.1:50052"
    )]
    pub ingest_url: String,
    /// NATS, for dead letters (and for `up`).
    #[arg(
        long,
        global = true,
        env = "HERALD_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
    /// Bearer token (admin for account changes, admin or producer otherwise).
    /// Without one, the admin token in ./herald-data/tokens.env (written by
    /// `heraldctl up`) is used when that file exists.
    #[arg(long, global = true, env = "HERALD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM certificates to trust for https:// URLs, besides the system's
    /// roots (the CA that signed Herald's server certificates).
    #[arg(long, global = true, env = "HERALD_TLS_CA_FILE", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate (PEM) for servers that require one (with --client-key).
    #[arg(
        long,
        global = true,
        env = "HERALD_TLS_CLIENT_CERT_FILE",
        value_name = "PEM"
    )]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, without a passphrase).
    #[arg(
        long,
        global = true,
        env = "HERALD_TLS_CLIENT_KEY_FILE",
        value_name = "PEM"
    )]
    pub client_key: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Register, read, list, delete and test accounts.
    #[command(subcommand)]
    Accounts(accounts::Command),
    /// Create, read, list and delete routes (which accounts an alert goes to).
    #[command(subcommand)]
    Routes(routes::Command),
    /// Connector types with their fields; secret fields are marked.
    Types,
    /// Submit an event: one action per --account/--params pair, or a file.
    Send(actions::SendArgs),
    /// An action's status; --wait waits until it is delivered or failed.
    Status(actions::StatusArgs),
    /// Alerts and their lifecycle: list, get, acknowledge.
    #[command(subcommand)]
    Alerts(alerts::Command),
    /// The delivery history: every attempt, what the vendor answered, counts.
    #[command(subcommand)]
    Deliveries(deliveries::Command),
    /// Actions that failed for good: list them, replay them after a fix.
    #[command(subcommand)]
    Dead(dead::Command),
    /// Turn Search Guard Signals or Kibana accounts into Herald accounts.
    #[command(subcommand)]
    Import(import::Command),
    /// Run the whole system in this process (registry, ingest, workers).
    Up(up::UpArgs),
}

fn main() {
    // Die quietly when the reader goes away (`heraldctl types | head`), as
    // command-line tools do, instead of panicking on a failed print.
    // SAFETY: called before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let result = runtime.block_on(run(cli));
    let code = match result {
        Ok(()) => Exit::Ok,
        Err(failure) => {
            eprintln!("heraldctl: {}", failure.message);
            failure.exit
        }
    };
    // Do not wait for background tasks (gRPC connections) to wind down.
    runtime.shutdown_background();
    std::process::exit(code as i32);
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let g = cli.global;
    match cli.command {
        Command::Accounts(command) => accounts::run(&g, command).await,
        Command::Routes(command) => routes::run(&g, command).await,
        Command::Types => types::run(&g).await,
        Command::Send(args) => actions::send(&g, args).await,
        Command::Status(args) => actions::status(&g, args).await,
        Command::Alerts(command) => alerts::run(&g, command).await,
        Command::Deliveries(command) => deliveries::run(&g, command).await,
        Command::Dead(command) => dead::run(&g, command).await,
        Command::Import(command) => import::run(&g, command).await,
        Command::Up(args) => up::run(&g, args).await,
    }
}
