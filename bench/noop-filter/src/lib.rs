//! A proxy-wasm HTTP filter that does nothing: the cost of being a Rust SDK
//! filter at all, built the way the SDK's traits make one (a root context
//! that creates one stream context per request, a request-headers callback)
//! with no work in it. The shipped filter does without the per-request
//! contexts (src/lib.rs), so it makes fewer calls into its module than this.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(NoopRoot) });
}}

struct NoopRoot;

impl Context for NoopRoot {}

impl RootContext for NoopRoot {
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }

    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(NoopStream))
    }
}

struct NoopStream;

impl Context for NoopStream {}

impl HttpContext for NoopStream {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        Action::Continue
    }
}
