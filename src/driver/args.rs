//! The values arguments every compiling command takes (`-f`, `--set`, `--set-string`,
//! `--fleet`), turned into the driver's `Inputs`.

use crate::load::Inputs;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct ValuesArgs {
    /// A values file; give several to merge them in order, later files win (as helm -f).
    #[arg(
        short = 'f',
        long = "values",
        value_name = "FILE",
        required_unless_present = "fleet"
    )]
    pub values: Vec<PathBuf>,
    /// A fleet file (the CSC and its CPCs, schema/fleet.schema.json) instead of values files.
    #[arg(long, value_name = "FLEET", conflicts_with_all = ["values", "set", "set_string"])]
    pub fleet: Option<PathBuf>,
    /// Override a value, Helm syntax: a.b[0].c=v (several separated by commas).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Like --set, but every value is a string.
    #[arg(long = "set-string", value_name = "PATH=VALUE")]
    pub set_string: Vec<String>,
}

impl ValuesArgs {
    pub fn inputs(&self) -> Inputs {
        Inputs {
            files: self.values.clone(),
            set: self.set.clone(),
            set_string: self.set_string.clone(),
        }
    }
}
