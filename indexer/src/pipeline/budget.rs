//! A byte budget for documents between a reader and the writer: a reader waits when the
//! pipeline holds too many bytes, so memory stays flat whatever the input's size.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::incoming::Item;

/// An item with its share of the budget (released when dropped).
pub struct Budgeted {
    pub item: Item,
    pub permit: Option<OwnedSemaphorePermit>,
}

#[derive(Clone)]
pub struct Budget {
    sem: Arc<Semaphore>,
    capacity: u32,
}

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        let capacity = u32::try_from(bytes).unwrap_or(u32::MAX).max(1);
        Budget { sem: Arc::new(Semaphore::new(capacity as usize)), capacity }
    }

    fn permits(&self, item: &Item) -> u32 {
        // a document larger than the whole budget takes all of it, alone
        u32::try_from(item.size()).unwrap_or(u32::MAX).clamp(1, self.capacity)
    }

    /// Waits for room for `item` (async readers: registry fetches).
    pub async fn admit(&self, item: Item) -> Budgeted {
        let permit = self.sem.clone().acquire_many_owned(self.permits(&item)).await.ok();
        Budgeted { item, permit }
    }

    /// Waits for room for `item` from a plain thread (dump readers).
    pub fn admit_blocking(&self, item: Item) -> Budgeted {
        futures::executor::block_on(self.admit(item))
    }
}
