//! The host side of lanes: Envoy's shared data as the lane table's store,
//! the listener's direction and the clock. Declared here, not taken from the
//! SDK, because the SDK panics (traps the VM) on a status it does not
//! expect; here every status is an error the caller turns into "no lane".
//! Called only when the configuration has `lanes`: a filter without them
//! makes none of these calls.

use std::ptr::null_mut;

use canary_core::{LaneStore, ListenerDirection, SetError, StoreError};

const OK: u32 = 0;
/// `WasmResult::NotFound`: a key never written.
const NOT_FOUND: u32 = 1;
/// `WasmResult::CasMismatch`.
const CAS_MISMATCH: u32 = 8;

#[allow(clashing_extern_declarations)]
#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_shared_data(
        key: *const u8,
        key_size: usize,
        value: *mut *mut u8,
        value_size: *mut usize,
        cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(
        key: *const u8,
        key_size: usize,
        value: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
    fn proxy_get_property(
        path: *const u8,
        path_size: usize,
        value: *mut *mut u8,
        value_size: *mut usize,
    ) -> u32;
    fn proxy_get_current_time_nanoseconds(time: *mut u64) -> u32;
}

/// The process-wide shared data (the VM's vm_id namespace): every worker's
/// VM sees the same keys.
pub struct SharedData;

impl LaneStore for SharedData {
    fn get(&self, key: &str) -> Result<(Option<Vec<u8>>, Option<u32>), StoreError> {
        let mut data: *mut u8 = null_mut();
        let mut size: usize = 0;
        let mut cas: u32 = 0;
        // SAFETY: the host writes a buffer it allocated through the SDK's
        // `proxy_on_memory_allocate` (a `Vec<u8>` with capacity == size),
        // which we take back ownership of exactly once.
        let status = unsafe {
            proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas)
        };
        match status {
            OK => {
                let cas = (cas != 0).then_some(cas);
                if data.is_null() {
                    return Ok((None, cas));
                }
                // SAFETY: see above.
                Ok((Some(unsafe { Vec::from_raw_parts(data, size, size) }), cas))
            }
            NOT_FOUND => Ok((None, None)),
            status => Err(StoreError(status)),
        }
    }

    fn set(&self, key: &str, value: &[u8], cas: Option<u32>) -> Result<(), SetError> {
        // SAFETY: both buffers are valid for the call; the host copies them.
        let status = unsafe {
            proxy_set_shared_data(
                key.as_ptr(),
                key.len(),
                value.as_ptr(),
                value.len(),
                cas.unwrap_or(0),
            )
        };
        match status {
            OK => Ok(()),
            CAS_MISMATCH => Err(SetError::CasMismatch),
            status => Err(SetError::Store(StoreError(status))),
        }
    }
}

/// The direction of the listener the current request came in on: Envoy's
/// `xds.listener_direction` attribute (Envoy 1.40 answers NotFound for the
/// older `listener_direction`, which older Envoys still have).
pub fn listener_direction() -> ListenerDirection {
    for path in ListenerDirection::PROPERTY_PATHS {
        let mut data: *mut u8 = null_mut();
        let mut size: usize = 0;
        // SAFETY: as for shared data, the returned buffer is ours to free once.
        let status = unsafe { proxy_get_property(path.as_ptr(), path.len(), &mut data, &mut size) };
        if status == OK && !data.is_null() {
            // SAFETY: see above.
            let bytes = unsafe { Vec::from_raw_parts(data, size, size) };
            return ListenerDirection::from_property(Some(&bytes));
        }
    }
    ListenerDirection::from_property(None)
}

/// The host's wall clock in whole seconds since the Unix epoch (the lane
/// records' time); `None` if the host will not say.
pub fn now_seconds() -> Option<u64> {
    let mut nanos: u64 = 0;
    // SAFETY: the host writes one u64 into `nanos`.
    let status = unsafe { proxy_get_current_time_nanoseconds(&mut nanos) };
    (status == OK).then_some(nanos / 1_000_000_000)
}
