use clap::Parser;

use alicloud_inventory::{cli, cli::Args, config::Env, diag, error::exit_codes, process, run};

/// Out of memory is one line and exit 1, not an abort (see `process`).
#[global_allocator]
static ALLOCATOR: process::Allocator = process::Allocator;

fn main() {
    process::limit_malloc_arenas();
    // One line, never a backtrace: Ansible shows stderr to the user.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        if msg.contains("can't spawn") {
            // The async runtime panics when the system refuses it a thread: a limit, not a bug.
            diag::error(&format_args!(
                "cannot start a thread: {msg} (raise the process limits: ulimit -u, ulimit -v)"
            ));
        } else {
            diag::error(&format_args!("internal error: {msg} (please report this)"));
        }
    }));
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => match cli::usage_error(&e) {
            Some(line) => {
                diag::error(&line);
                std::process::exit(exit_codes::CONFIG);
            }
            // --help and --version: clap prints them on stdout and exits 0.
            None => e.exit(),
        },
    };
    diag::set_verbosity(args.verbose);
    let code = match std::panic::catch_unwind(|| run::run(&args, &Env::from_process())) {
        Ok(Ok(run::Outcome::Printed)) => exit_codes::SUCCESS,
        // The reader has all it wanted (`| head`): nothing to report.
        Ok(Ok(run::Outcome::StdoutClosed)) => exit_codes::SUCCESS,
        Ok(Err(e)) => {
            diag::error(&e);
            e.exit_code()
        }
        Err(_) => exit_codes::RUNTIME,
    };
    std::process::exit(code);
}
