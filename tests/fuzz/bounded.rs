//! Running a check under a time limit, with a panic turned into a failure.

use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `f` on a thread of its own; a panic, or no result within `limit`, is an `Err` (a thread
/// that hangs is left behind: the test has failed by then).
pub fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("fuzz case".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    let began = Instant::now();
    match rx.recv_timeout(limit) {
        Ok(result) => {
            let _ = worker.join();
            result
        }
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!("hang: no result after {:?}", began.elapsed())),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = worker.join().err();
            let text = payload.as_ref().and_then(|p| {
                p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            });
            Err(format!("panic: {}", text.unwrap_or_default()))
        }
    }
}
