//! The page, embedded in the binary: plain HTML, CSS and JavaScript from
//! `console-assets/`, no build step and nothing fetched from elsewhere.

use axum::http::header;
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../console-assets/index.html");
const SCRIPT: &str = include_str!("../../console-assets/app.js");
const ANALYSIS: &str = include_str!("../../console-assets/analysis.js");
const I18N: &str = include_str!("../../console-assets/i18n.js");
const CHART: &str = include_str!("../../console-assets/chart.js");
const STYLE: &str = include_str!("../../console-assets/style.css");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

pub async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn i18n() -> Response {
    asset("text/javascript; charset=utf-8", I18N)
}

pub async fn chart() -> Response {
    asset("text/javascript; charset=utf-8", CHART)
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

pub async fn analysis() -> Response {
    asset("text/javascript; charset=utf-8", ANALYSIS)
}
