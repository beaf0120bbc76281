//! The request a task serves, known beyond the log: the live events a
//! write commits name it (`Event::request`). The HTTP layer opens the scope
//! (`http::request_id`); storage reads it, also on the blocking threads the
//! SQLite backend writes on, so storage never reaches up into `http`.

use std::cell::RefCell;

tokio::task_local! {
    static REQUEST_ID: String;
}

thread_local! {
    /// The request a blocking storage call works for (out of reach of the
    /// task-local).
    static ON_BEHALF_OF: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f` as the serving of request `id`.
pub async fn serve<F: Future>(id: String, f: F) -> F::Output {
    REQUEST_ID.scope(id, f).await
}

/// The id of the request under way, if any.
pub fn current() -> Option<String> {
    REQUEST_ID
        .try_with(Clone::clone)
        .ok()
        .or_else(|| ON_BEHALF_OF.with(|r| r.borrow().clone()))
}

/// Runs `f` (on a blocking thread) on behalf of `request`.
pub fn on_behalf_of<T>(request: Option<String>, f: impl FnOnce() -> T) -> T {
    let before = ON_BEHALF_OF.with(|r| r.replace(request));
    let out = f();
    ON_BEHALF_OF.with(|r| *r.borrow_mut() = before);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_is_known_in_its_task_and_on_a_blocking_thread() {
        assert_eq!(current(), None);
        let inside = serve("r-1".into(), async { current() }).await;
        assert_eq!(inside.as_deref(), Some("r-1"));
        let blocking = on_behalf_of(Some("r-9".into()), current);
        assert_eq!(blocking.as_deref(), Some("r-9"));
        assert_eq!(current(), None);
    }
}
