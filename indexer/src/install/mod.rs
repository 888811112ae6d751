//! Install trees: resolving a version's production dependencies as npm does
//! (`nodules_npm::resolve`) from the stored packages, and what installing them costs.

mod cost; // a resolved tree's packages, size, scripts, licenses, deepest chain
mod load; // the resolver's data, read in batches and kept for the run

pub use cost::Costing;
pub use load::Loader;
