//! `make headers`: rewrites include/flb_plugin.h when the SDK's ABI or exported symbols changed.

use std::process::ExitCode;

fn main() -> ExitCode {
    let fresh = match gen_header::generate() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("gen-header: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = gen_header::header_path();
    let shown = "include/flb_plugin.h";
    if std::fs::read(&path).is_ok_and(|current| current == fresh) {
        println!("{shown} is up to date");
        return ExitCode::SUCCESS;
    }
    if let Err(e) = std::fs::write(&path, &fresh) {
        eprintln!("gen-header: cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("rewrote {shown}: commit it");
    ExitCode::SUCCESS
}
