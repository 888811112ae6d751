//! `nodules-gen`: writes a deterministic synthetic npm registry for benchmarks.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use nodules_bench::registry::{Options, write_registry};

/// Writes a synthetic npm registry: an `_all_docs?include_docs=true` dump, the same
/// packages as a `_changes` feed, an update feed continuing it, and a manifest of what
/// benchmarks should find. The same seed and count give byte-identical files.
#[derive(Debug, Parser)]
#[command(name = "nodules-gen", version)]
struct Config {
    /// Number of packages.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    packages: u64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory to write into (created if missing; files in it are overwritten).
    #[arg(long)]
    out: PathBuf,
    /// Write `.gz` files (gzip level 1).
    #[arg(long)]
    gzip: bool,
    /// Exponent of the Zipf law over dependency targets: higher concentrates more edges
    /// on the top packages (1.15 gives the top one ~25 % of all packages as dependents).
    #[arg(long, default_value_t = 1.15)]
    zipf_exponent: f64,
}

fn main() -> anyhow::Result<()> {
    let cfg = Config::parse();
    let opts = Options {
        packages: cfg.packages,
        seed: cfg.seed,
        out: cfg.out,
        gzip: cfg.gzip,
        zipf_exponent: cfg.zipf_exponent,
    };
    let start = Instant::now();
    let mut last = Instant::now();
    let mut progress = |done: u64, bytes: u64, disk: u64| {
        if last.elapsed().as_secs_f64() < 3.0 && done < opts.packages {
            return;
        }
        last = Instant::now();
        let secs = start.elapsed().as_secs_f64().max(1e-9);
        eprintln!(
            "nodules-gen: {done}/{} packages ({:.1} %), {:.0} packages/s, {:.0} MB generated, {:.0} MB written",
            opts.packages,
            done as f64 * 100.0 / opts.packages as f64,
            done as f64 / secs,
            bytes as f64 / 1e6,
            disk as f64 / 1e6,
        );
    };
    let manifest = write_registry(&opts, &mut progress)
        .with_context(|| format!("generating {} packages into {}", opts.packages, opts.out.display()))?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "nodules-gen: {} packages, {} versions in {secs:.1} s ({:.0} packages/s); manifest in {}",
        opts.packages,
        manifest["versions"],
        opts.packages as f64 / secs.max(1e-9),
        opts.out.join("manifest.json").display(),
    );
    Ok(())
}
