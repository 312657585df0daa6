//! The routes and the server loop: axum on a current-thread tokio runtime
//! (blocking work goes to its blocking pool), until Ctrl-C or SIGTERM.

use std::net::TcpListener;
use std::sync::Arc;

use axum::middleware;
use axum::routing::{get, post, put};
use axum::Router;

use crate::console::state::Console;
use crate::console::{analysis, api, assets, guard};

pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/i18n.js", get(assets::i18n))
        .route("/analysis.js", get(assets::analysis))
        .route("/chart.js", get(assets::chart))
        .route("/style.css", get(assets::style))
        .route("/api/releases", get(api::releases))
        .route("/api/releases/{name}", get(api::release))
        .route("/api/releases/{name}/metrics", get(api::metrics))
        .route("/api/releases/{name}/weight", put(api::weight))
        .route("/api/releases/{name}/rule", put(api::rule))
        .route("/api/releases/{name}/complete", post(api::complete))
        .route("/api/releases/{name}/rollback", post(api::rollback))
        .route("/api/releases/{name}/analysis", get(analysis::analysis))
        .route("/api/releases/{name}/promote", post(analysis::promote))
        .route("/api/releases/{name}/abort", post(analysis::abort))
        .route("/api/history", get(api::history))
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            console.clone(),
            guard::guard,
        ))
        .with_state(console)
}

async fn stopped() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Serves `console` on `listener` until a stop signal.
pub fn serve(console: Console, listener: TcpListener) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the console's runtime: {e}"))?;
    runtime.block_on(async move {
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("cannot listen: {e}"))?;
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| format!("cannot listen: {e}"))?;
        axum::serve(listener, router(Arc::new(console)))
            .with_graceful_shutdown(stopped())
            .await
            .map_err(|e| format!("the console's server stopped: {e}"))
    })
}
