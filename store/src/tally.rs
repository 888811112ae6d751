//! Where database time goes, by command and collection, from the driver's own command
//! events: on when `NODULES_DB_TALLY` is set (the benchmarks set it; off, nothing is
//! recorded), logged by [`log`] at the end of a run as `database time` lines.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;

/// (command, collection) → (commands, statements, time until the answer)
type Tally = BTreeMap<(String, String), (u64, u64, Duration)>;

static TALLY: Mutex<Tally> = Mutex::new(BTreeMap::new());
/// Commands sent and not answered yet: request id → (command, collection, statements).
type InFlight = HashMap<i32, (String, String, u64)>;
static IN_FLIGHT: Mutex<Option<InFlight>> = Mutex::new(None);

/// The event handler that feeds the tally, when `NODULES_DB_TALLY` is set.
pub fn handler() -> Option<EventHandler<CommandEvent>> {
    std::env::var_os("NODULES_DB_TALLY")?;
    Some(EventHandler::callback(|e: CommandEvent| match e {
        CommandEvent::Started(s) => {
            let collection = s.command.get_str(&s.command_name).unwrap_or("-").to_string();
            let statements = ["documents", "updates", "deletes"]
                .iter()
                .find_map(|k| s.command.get_array(k).ok())
                .map_or(1, |a| a.len() as u64);
            if let Ok(mut m) = IN_FLIGHT.lock() {
                m.get_or_insert_with(HashMap::new).insert(s.request_id, (s.command_name, collection, statements));
            }
        }
        CommandEvent::Succeeded(s) => done(s.request_id, s.duration),
        CommandEvent::Failed(f) => done(f.request_id, f.duration),
        _ => {}
    }))
}

fn done(request_id: i32, took: Duration) {
    let Some((command, collection, statements)) =
        IN_FLIGHT.lock().ok().and_then(|mut m| m.as_mut().and_then(|m| m.remove(&request_id)))
    else {
        return;
    };
    if let Ok(mut t) = TALLY.lock() {
        let e = t.entry((command, collection)).or_default();
        e.0 += 1;
        e.1 += statements;
        e.2 += took;
    }
}

/// Logs one line per command and collection, the most expensive first (nothing when off).
pub fn log() {
    let Ok(t) = TALLY.lock() else { return };
    let mut rows: Vec<_> = t.iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.2));
    for ((command, collection), (commands, statements, took)) in rows {
        tracing::info!(
            command = %command,
            collection = %collection,
            commands,
            statements,
            secs = format!("{:.2}", took.as_secs_f64()),
            ms_per_statement = format!("{:.3}", took.as_secs_f64() * 1000.0 / (*statements).max(1) as f64),
            "database time"
        );
    }
}
