use clap::Parser;

use alicloud_inventory::{cli::Args, diag, exit_codes, run, settings::Env};

fn main() {
    // One line, never a backtrace: Ansible shows stderr to the user.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        eprintln!("alicloud_inventory: error: internal error: {msg} (please report this)");
    }));
    let args = Args::parse();
    diag::set_verbosity(args.verbose);
    let code = match std::panic::catch_unwind(|| run::run(&args, &Env::from_process())) {
        Ok(Ok(run::Outcome::Printed)) => exit_codes::SUCCESS,
        // The reader has all it wanted (`| head`): nothing to report.
        Ok(Ok(run::Outcome::StdoutClosed)) => exit_codes::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("alicloud_inventory: error: {e}");
            e.exit_code()
        }
        Err(_) => exit_codes::RUNTIME,
    };
    std::process::exit(code);
}
