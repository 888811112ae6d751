//! The live stream of publishes, updates and removals (`/api/v1/stream`, Server-Sent
//! Events): one reader of the change counter per process ([`hub`]), the events and their
//! ids ([`event`]), and the clients ([`route`]).

pub mod event; // an event, its id (what resuming promises) and filters
pub mod hub; // the reader and the broadcast to clients
pub mod route; // GET /api/v1/stream

pub use hub::Hub;
