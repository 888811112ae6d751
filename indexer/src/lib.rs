//! Turns npm registry documents into Nodules package records.
pub mod normalize; // registry document -> Package, pure
