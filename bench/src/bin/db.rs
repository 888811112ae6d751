//! Database references and probes for the benchmarks:
//! `ceiling N [BYTES]` — a plain `insert_many` of N documents (of BYTES payload) into a fresh
//! collection: the server's own write ceiling, measured in the same run;
//! `pages NAME` — database commands and latency to read page 1, page 1000 and the top 10 of
//! NAME's dependents; `disk` — storage per collection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use mongodb::bson::{Binary, doc, spec::BinarySubtype};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use nodules_store::model::DepKind;
use nodules_store::{DbArgs, Store};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let uri = std::env::var("MONGODB_URI")?;
    let db = std::env::var("NODULES_DB").unwrap_or_else(|_| "nodules".into());
    match args.first().map(String::as_str) {
        Some("ceiling") => {
            let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
            let size: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
            let store = Store::connect_and_ping(&DbArgs::new(&uri, &db)).await?;
            let coll = store.collection("bench_ceiling");
            coll.drop().await?;
            let payload = vec![7u8; size];
            let started = Instant::now();
            for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
                let docs = chunk.iter().map(|i| {
                    if size > 0 {
                        doc! { "_id": format!("doc-{i:09}"), "data": Binary { subtype: BinarySubtype::Generic, bytes: payload.clone() } }
                    } else {
                        doc! { "_id": format!("doc-{i:09}"), "n": *i as i64 }
                    }
                });
                coll.insert_many(docs).await?;
            }
            let secs = started.elapsed().as_secs_f64();
            println!("insert_many {n} docs of {size} B in {secs:.2} s: {:.0} docs/s", n as f64 / secs);
            coll.drop().await?;
        }
        Some("pages") => {
            let name = args.get(1).ok_or_else(|| anyhow::anyhow!("pages NAME"))?;
            let count = Arc::new(AtomicUsize::new(0));
            let seen = count.clone();
            let mut options = mongodb::options::ClientOptions::parse(&uri).await?;
            options.command_event_handler = Some(EventHandler::callback(move |e: CommandEvent| {
                if matches!(e, CommandEvent::Started(_)) {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
            }));
            let store = Store::from_client(mongodb::Client::with_options(options)?, &db);
            store.ping().await?;
            count.store(0, Ordering::SeqCst);
            let t = Instant::now();
            let d = store.dependents(name).await?.ok_or_else(|| anyhow::anyhow!("{name} has no dependents"))?;
            println!(
                "top 10 and counts of {name} ({} dependents): {} command(s), {:.2} ms",
                d.prod.count,
                count.swap(0, Ordering::SeqCst),
                t.elapsed().as_secs_f64() * 1e3
            );
            for page in [1, 1000] {
                let t = Instant::now();
                let p = store.dependents_page(name, DepKind::Prod, page).await?;
                println!(
                    "page {page}: {} items, {} command(s), {:.2} ms",
                    p.map_or(0, |p| p.items.len()),
                    count.swap(0, Ordering::SeqCst),
                    t.elapsed().as_secs_f64() * 1e3
                );
            }
        }
        Some("disk") => {
            let store = Store::connect_and_ping(&DbArgs::new(&uri, &db)).await?;
            let stats = store.database().run_command(doc! { "dbStats": 1, "scale": 1 }).await?;
            // the collection's own count: `count_documents({})` is an aggregate that the
            // development server answers by decoding every record (~18 GB at 1M: it was
            // OOM-killed there)
            let packages = store.packages().estimated_document_count().await?;
            let size = |k: &str| {
                stats
                    .get(k)
                    .and_then(|b| {
                        b.as_f64().or_else(|| b.as_i64().map(|i| i as f64)).or_else(|| b.as_i32().map(f64::from))
                    })
                    .unwrap_or(0.0)
            };
            let total = size("storageSize") + size("indexSize");
            println!(
                "{packages} packages: data {:.1} MB, storage {:.1} MB, indexes {:.1} MB; {:.1} MB per 1,000 packages",
                size("dataSize") / 1e6,
                size("storageSize") / 1e6,
                size("indexSize") / 1e6,
                total / 1e6 / (packages.max(1) as f64 / 1000.0)
            );
        }
        _ => anyhow::bail!("usage: nodules-bench-db ceiling N [BYTES] | pages NAME | disk"),
    }
    Ok(())
}
