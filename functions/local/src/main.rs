//! The local runner binary: 1. tracing, 2. configuration once, 3. clients and 4. wiring ([`local::App::build`]),
//! 5. run until Ctrl-C or SIGTERM. A start that fails prints one line (never a backtrace, whatever
//! `RUST_BACKTRACE` says) and exits with status 2 for a configuration error, 1 otherwise.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    local::init_tracing();
    let result = match local::LocalConfig::from_env() {
        Ok(config) => match local::App::build(config).await {
            Ok(app) => app.run_until(local::shutdown_signal()).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scheduled-investigations: {}", e.one_line());
            ExitCode::from(e.exit_code())
        }
    }
}
