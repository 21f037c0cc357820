//! The quickstart's story with every key on a PKCS#11 token: a throw-away
//! SoftHSM2 token made for this run (private token directory), found by
//! label, keys generated on it (sensitive, non-extractable).
//!
//! ```text
//! cargo run --example softhsm [-- --out DIR] [--tsa URL [--tsa-ca FILE]]
//! ```

#[path = "support/certificate.rs"]
mod certificate;
#[path = "quickstart/flow.rs"]
mod flow;
#[path = "support/exit.rs"]
mod support;

use std::sync::Arc;

use ssa::scdev::pkcs11::Pkcs11Scdev;

fn main() -> std::process::ExitCode {
    let args = flow::parse_args("softhsm", "softhsm-out");
    support::exit("softhsm", run(&args))
}

fn run(args: &flow::Args) -> Result<(), Box<dyn std::error::Error>> {
    let token = ssa_testkit::softhsm().create_token("quickstart", false);
    let scdev = Arc::new(Pkcs11Scdev::open(&token.config())?);
    println!(
        "SoftHSM2 token {:?} in {}",
        token.label,
        ssa_testkit::softhsm().dir().display()
    );
    flow::run(scdev, args)
}
