//! The `server` command: serves the portal, and runs the operations a deployment needs.

// As in lib.rs: a release build computes the layout of the app's deeply nested view types.
#![recursion_limit = "256"]

/// mimalloc, not glibc's malloc: a page is hundreds of small allocations made and freed across
/// threads, and glibc's arenas made a quarter of Test Results' CPU (malloc, free, consolidation;
/// perf, issue 16). Release server on the demo clinic, 64 connections, runs taken in turn with
/// glibc's: Test Results 527–618 → 796–870 req/s (3.0–3.4 → 2.2–2.4 ms of CPU), /messages
/// 2,135–3,065 → 3,078–3,189.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use app::account::server::{create_account, NewAccount};
use app::audit::{self, ChainReport};
use app::types::{AccountKind, StaffRole};
use clap::{Parser, Subcommand};
use leptos::config::get_configuration;
use server::{bench_data, config::Config, demo, startup, telemetry};
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "server", about = "The patient portal's server and its operations.", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the portal (the default). Applies database migrations first.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load the demo clinic (demo staff and patients); accounts that exist are left alone.
    /// Only into the demo's own database, never in production.
    Demo {
        /// Without the clinic in use (Alice's questionnaire and lesson, open conversations in
        /// Dr. Lee's and the nurse line's inboxes): the end-to-end tests start from a quiet
        /// clinic and make their own.
        #[arg(long)]
        without_activity: bool,
    },
    /// Load the benchmark's data set (after `demo`): patients of Dr. Lee and the demo pools,
    /// each with a year of messages, billing statements and lab results in the embedded
    /// record; for `scripts/bench`, not for a real deployment.
    BenchData {
        /// How many patients to create (BENCH000001 …, user IDs bench000001 …).
        #[arg(long, default_value_t = 1000)]
        patients: u32,
        /// Messages per patient, in threads of five (patient and staff in turn).
        #[arg(long, default_value_t = 50)]
        messages_per_patient: u32,
        /// Monthly statements per patient, over the last three years.
        #[arg(long, default_value_t = 10)]
        statements_per_patient: u32,
        /// Lab results per patient in the embedded medical record, in panels.
        #[arg(long, default_value_t = 20)]
        results_per_patient: u32,
        /// Dr. Lee's open patient messages after loading (the demo's count), however many
        /// patients.
        #[arg(long, default_value_t = 300)]
        open_for_clinician: u32,
        /// The nurse line's open patient messages after loading (the demo's count).
        #[arg(long, default_value_t = 2000)]
        open_for_pool: u32,
        /// Paper statements waiting in the print queue after loading (the demo's count).
        #[arg(long, default_value_t = 300)]
        print_queue: u32,
    },
    /// Measurements for `scripts/bench`, inside this binary so that the benchmark builds one.
    #[command(hide = true)]
    BenchProbe {
        #[command(subcommand)]
        probe: BenchProbe,
    },
    /// Manage staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Check the audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The medical record of the embedded source (PORTAL_RECORD_SOURCE=embedded).
    Record {
        #[command(subcommand)]
        command: RecordCommand,
    },
    /// Copy the SQLite database to FILE while the portal runs (a consistent snapshot, made
    /// with VACUUM INTO). On PostgreSQL use pg_dump instead (see docs/operations.md).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account. The password is read from standard input (one line).
    Add {
        /// The user ID the person signs in with.
        #[arg(long)]
        user_id: String,
        /// Their name as colleagues and patients see it.
        #[arg(long)]
        name: String,
        /// front-desk, clinician, billing, administrator or auditor.
        #[arg(long, value_parser = parse_role)]
        role: StaffRole,
        /// Their work e-mail address, for security notices.
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum RecordCommand {
    /// Import FHIR R4 resources from FILE: a Bundle (any type), one resource, or NDJSON (one
    /// resource a line). Checked whole; all or nothing; the same type and id replace what was
    /// imported before. Types the portal does not show are skipped and counted.
    Import {
        /// The file to import.
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain of the audit trail and report the first broken link.
    Verify,
}

fn parse_role(s: &str) -> Result<StaffRole, String> {
    StaffRole::parse(s).ok_or_else(|| {
        let all: Vec<_> = StaffRole::ALL.iter().map(|r| r.as_str()).collect();
        format!("role must be one of: {}", all.join(", "))
    })
}

/// Site options of the deployed binary come from `Leptos.toml`; a `LEPTOS_*` variable already
/// in the environment (cargo-leptos sets them in development) wins over the file.
fn load_site_options() -> Result<(), String> {
    // The WASM and JS file names were fixed when this binary was built (cargo-leptos passes
    // them at compile time); say so at run time too, so Leptos does not warn that they are unset.
    if let (None, Some(name)) = (std::env::var_os("LEPTOS_OUTPUT_NAME"), option_env!("LEPTOS_OUTPUT_NAME")) {
        std::env::set_var("LEPTOS_OUTPUT_NAME", name);
    }
    let path = std::env::var("PORTAL_SITE_CONFIG").unwrap_or_else(|_| "Leptos.toml".into());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => return Ok(()),
    };
    let table: toml::Table = text.parse().map_err(|e| format!("{path}: {e}"))?;
    for (key, value) in table {
        let name = format!("LEPTOS_{}", key.to_uppercase().replace('-', "_"));
        if std::env::var_os(&name).is_none() {
            let value = match value {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            std::env::set_var(name, value);
        }
    }
    Ok(())
}

#[derive(Subcommand)]
enum BenchProbe {
    /// argon2id verifications per second with every core busy (one line of JSON).
    Argon2Rate {
        #[arg(default_value_t = 5.0)]
        seconds: f64,
        threads: Option<usize>,
    },
    /// Size and time of statement PDFs made in memory (one line of JSON).
    StatementPdf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The probes need no settings, database or runtime.
    if let Some(Command::BenchProbe { probe }) = &cli.command {
        println!(
            "{}",
            match probe {
                BenchProbe::Argon2Rate { seconds, threads } => server::bench_probes::argon2_rate(*seconds, *threads),
                BenchProbe::StatementPdf => server::bench_probes::statement_pdf(),
            }
        );
        return ExitCode::SUCCESS;
    }
    // Before any thread starts: the environment is only written here.
    if let Err(e) = load_site_options() {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(run(cli.command.unwrap_or(Command::Serve)))
}

async fn run(command: Command) -> ExitCode {
    let leptos_options = match get_configuration(None) {
        Ok(c) => c.leptos_options,
        Err(e) => {
            eprintln!("site options: {e}");
            return ExitCode::FAILURE;
        }
    };
    let config = match Config::from_env(leptos_options.site_addr) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_json);
    let addr = leptos_options.site_addr;
    let state = match startup::state(&config, leptos_options).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match command {
        Command::Serve => {
            let listener = match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("cannot listen on {addr}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let running = match startup::spawn(&config, state, listener, shutdown_signal()).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            tracing::info!("the portal is at {}", config.portal.public_url);
            running.stop_when_done().await;
            ExitCode::SUCCESS
        }
        Command::BenchProbe { .. } => unreachable!("the probes run before the runtime starts"),
        Command::Migrate => {
            println!("database is up to date");
            ExitCode::SUCCESS
        }
        Command::Demo { without_activity } => match demo::load(&state).await {
            Ok(n) => {
                if !without_activity {
                    match demo::activity(&state, state.clock.now_ms()).await {
                        Ok(true) => println!("demo activity added: Alice's questionnaire and lesson, conversations waiting for Dr. Lee and the nurse line"),
                        Ok(false) => {}
                        Err(e) => {
                            eprintln!("could not add the demo clinic's activity: {e}");
                            return ExitCode::FAILURE;
                        }
                    }
                }
                println!("demo clinic loaded ({n} accounts created). Every demo account's password is {}", demo::DEMO_PASSWORD);
                for a in demo::ACCOUNTS {
                    let who = match a.kind {
                        AccountKind::Patient => "patient".to_string(),
                        AccountKind::Staff(r) => format!("staff, {}", r.label().to_lowercase()),
                    };
                    println!("  {:<10} {} ({who})", a.login, a.name);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("could not load the demo clinic: {e}");
                ExitCode::FAILURE
            }
        },
        Command::BenchData { patients, messages_per_patient, statements_per_patient, results_per_patient, open_for_clinician, open_for_pool, print_queue } => {
            let options = bench_data::Options {
                patients,
                messages_per_patient,
                statements_per_patient,
                results_per_patient,
                open_for_clinician,
                open_for_pool,
                print_queue,
            };
            match bench_data::load(&state, &options, |part| println!("{part}")).await {
                Ok(l) => {
                    // scripts/bench reads this line as it is (anchored at both ends); what the
                    // later parts loaded is on the lines before it.
                    println!(
                        "benchmark data loaded in {:.2} s: {} patients, {} threads, {} messages; open: {} for drlee, {} for the nurse line",
                        l.elapsed.as_secs_f64(),
                        l.patients,
                        l.threads,
                        l.messages,
                        l.open_for_drlee,
                        l.open_for_pools
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("could not load the benchmark data: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Staff { command: StaffCommand::Add { user_id, name, role, email } } => {
            eprintln!("Password for {user_id} (one line on standard input):");
            let mut password = String::new();
            if std::io::stdin().lock().read_line(&mut password).is_err() {
                eprintln!("could not read the password");
                return ExitCode::FAILURE;
            }
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let new = NewAccount { login: user_id.clone(), display_name: name, kind: AccountKind::Staff(role), email, patient_id: None, password };
            match create_account(&state.db, &state.passwords, new, None, state.clock.now_ms()).await {
                Ok(_) => {
                    println!("created staff account {user_id} ({})", role.label());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("could not create the account: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Backup { to } => match server::backup::sqlite_snapshot(&state.db, &to).await {
            Ok(bytes) => {
                println!("backed up the database to {} ({bytes} bytes)", to.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("backup failed: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Record { command: RecordCommand::Import { file } } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("cannot read {}: {e}", file.display());
                    return ExitCode::FAILURE;
                }
            };
            match app::record::embedded::import(&state.db, &text, state.clock.now_ms()).await {
                Ok(report) => {
                    let counts: Vec<String> = report.imported.iter().map(|(t, n)| format!("{n} {t}")).collect();
                    println!("imported {} resources: {}", report.total(), counts.join(", "));
                    if !report.skipped.is_empty() {
                        let skipped: Vec<String> = report.skipped.iter().map(|(t, n)| format!("{n} {t}")).collect();
                        println!("skipped (types the portal does not show): {}", skipped.join(", "));
                    }
                    if state.record.is_remote() {
                        println!("note: PORTAL_RECORD_SOURCE is remote; the portal reads the EHR, not these resources");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Audit { command: AuditCommand::Verify } => match audit::verify(&state.db, &audit::ChainKey::from_secrets(&state.sealing)).await {
            Ok(ChainReport::Intact { entries, keyed_from: Some(from) }) => {
                println!("audit trail intact: {entries} entries; keyed under this server's key from entry {from} on");
                ExitCode::SUCCESS
            }
            Ok(ChainReport::Intact { entries, keyed_from: None }) => {
                println!("audit trail links hold ({entries} entries) but the chain is NOT keyed: a rewrite by someone with database access would not show");
                ExitCode::from(2)
            }
            Ok(ChainReport::Broken { seq, problem }) => {
                println!("audit trail BROKEN at entry {seq}: {problem}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("could not read the audit trail: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
