//! The host calls the lean prototype needs beyond `src/host.rs`: reading the
//! plugin configuration and logging.

use std::ptr::null_mut;

/// `BufferType::PluginConfiguration` in the proxy-wasm ABI.
const PLUGIN_CONFIGURATION: u32 = 7;
const OK: u32 = 0;

/// proxy-wasm log levels, in the ABI's numbering.
#[derive(Debug, Clone, Copy)]
pub enum LogLevel {
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_buffer_bytes(
        kind: u32,
        start: usize,
        max_size: usize,
        data: *mut *mut u8,
        size: *mut usize,
    ) -> u32;
    fn proxy_log(level: u32, message: *const u8, size: usize) -> u32;
    fn proxy_get_log_level(level: *mut u32) -> u32;
}

/// The plugin configuration's bytes (empty when there is none).
pub fn plugin_configuration(size: usize) -> Result<Vec<u8>, u32> {
    let mut data: *mut u8 = null_mut();
    let mut len: usize = 0;
    // SAFETY: the host writes a buffer it allocated through
    // `proxy_on_memory_allocate` (a `Vec<u8>` with capacity == len), which we
    // take back ownership of exactly once.
    unsafe {
        let status = proxy_get_buffer_bytes(PLUGIN_CONFIGURATION, 0, size, &mut data, &mut len);
        if status != OK {
            return Err(status);
        }
        if data.is_null() {
            return Ok(Vec::new());
        }
        Ok(Vec::from_raw_parts(data, len, len))
    }
}

pub fn log(level: LogLevel, message: &str) {
    // SAFETY: pointer and length describe a live borrowed slice.
    let _ = unsafe { proxy_log(level as u32, message.as_ptr(), message.len()) };
}

/// Envoy's current log level for wasm, if it answers.
pub fn log_level() -> Option<u32> {
    let mut level = 0;
    // SAFETY: `level` outlives the call.
    let status = unsafe { proxy_get_log_level(&mut level) };
    (status == OK).then_some(level)
}
