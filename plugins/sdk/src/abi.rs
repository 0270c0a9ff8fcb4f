//! Raw mirrors of Fluent Bit's proxy plugin ABI (see `docs/ABI.md`): the structs the host hands to a
//! plugin, the constants, and the callback signatures. Nothing here is safe to use directly; the
//! `boundary` layer is the only user. Field order and types are the ABI: `tests/layout.rs` compiles
//! the same definitions in C and checks sizes and offsets.
#![allow(non_camel_case_types, missing_docs)]

use core::ffi::{c_char, c_int, c_void};

/// Return code: the callback failed; for flush, the chunk is dropped.
pub const FLB_ERROR: c_int = 0;
/// Return code: success.
pub const FLB_OK: c_int = 1;
/// Return code (flush only): the engine retries the chunk later.
pub const FLB_RETRY: c_int = 2;

/// `def->type` for an input plugin.
pub const FLB_PROXY_INPUT_PLUGIN: c_int = 1;
/// `def->type` for an output plugin.
pub const FLB_PROXY_OUTPUT_PLUGIN: c_int = 2;
/// `def->type` for a custom plugin.
pub const FLB_PROXY_CUSTOM_PLUGIN: c_int = 3;
/// `def->proxy`: the only proxy kind Fluent Bit knows (it was written for Go).
pub const FLB_PROXY_GOLANG: c_int = 11;

/// `def->event_type` (outputs, Fluent Bit 5.0+): logs. `0` also means logs.
pub const FLB_OUTPUT_LOGS: c_int = 1;
/// `def->event_type`: metrics.
pub const FLB_OUTPUT_METRICS: c_int = 2;
/// `def->event_type`: traces.
pub const FLB_OUTPUT_TRACES: c_int = 4;

/// Log level: off.
pub const FLB_LOG_OFF: c_int = 0;
/// Log level: error.
pub const FLB_LOG_ERROR: c_int = 1;
/// Log level: warn.
pub const FLB_LOG_WARN: c_int = 2;
/// Log level: info.
pub const FLB_LOG_INFO: c_int = 3;
/// Log level: debug.
pub const FLB_LOG_DEBUG: c_int = 4;
/// Log level: trace.
pub const FLB_LOG_TRACE: c_int = 5;

/// The definition a plugin fills in `FLBPluginRegister`. Allocated by the host. Only the first five
/// fields exist on every host: `event_type` appeared in 5.0.0 and `config_map` in 5.1.1, so writing
/// them on an older host writes out of bounds.
/// cbindgen:field-names=[type, proxy, flags, name, description, event_type, config_map]
#[repr(C)]
pub struct flb_plugin_proxy_def {
    pub type_: c_int,
    pub proxy: c_int,
    pub flags: c_int,
    pub name: *mut c_char,
    pub description: *mut c_char,
    /// Fluent Bit 5.0+ only.
    pub event_type: c_int,
    /// Fluent Bit 5.1.1+ only; NULL keeps the old behaviour (no key validation). Points to an
    /// array of [`flb_config_map`] ended by an entry whose `name` is NULL.
    pub config_map: *mut flb_config_map,
}

/// `flb_config_map.type`: a string.
pub const FLB_CONFIG_MAP_STR: c_int = 0;
/// A string key matched by prefix (`name` is the prefix).
pub const FLB_CONFIG_MAP_STR_PREFIX: c_int = 1;
/// An integer.
pub const FLB_CONFIG_MAP_INT: c_int = 2;
/// A boolean (`flb_utils_bool`).
pub const FLB_CONFIG_MAP_BOOL: c_int = 3;
/// A double.
pub const FLB_CONFIG_MAP_DOUBLE: c_int = 4;
/// A size (`flb_utils_size_to_bytes`).
pub const FLB_CONFIG_MAP_SIZE: c_int = 5;
/// A time in seconds (`flb_utils_time_to_seconds`).
pub const FLB_CONFIG_MAP_TIME: c_int = 6;
/// A deprecated key: accepted with a warning.
pub const FLB_CONFIG_MAP_DEPRECATED: c_int = 7;
/// A comma-separated list of strings.
pub const FLB_CONFIG_MAP_CLIST: c_int = 30;
/// A space-separated list of strings.
pub const FLB_CONFIG_MAP_SLIST: c_int = 40;
/// `flb_config_map.flags`: the key may be set more than once.
pub const FLB_CONFIG_MAP_MULT: c_int = 1;

/// `struct mk_list`: a node of Fluent Bit's intrusive doubly linked lists.
#[repr(C)]
pub struct mk_list {
    pub prev: *mut mk_list,
    pub next: *mut mk_list,
}

/// `struct flb_config_map_val` as of Fluent Bit 5.0.3 (when `raw` was added): the parsed value,
/// filled by the host in its own copy of the map; a plugin leaves it zeroed.
#[repr(C)]
pub struct flb_config_map_val {
    /// A union of int / double / size_t / pointers in C; 8 bytes on 64-bit hosts.
    pub val: u64,
    pub raw: *mut c_char,
    pub mult: *mut mk_list,
    pub _head: mk_list,
}

/// `struct flb_config_map` as of Fluent Bit 5.0.3: one key a plugin takes. In the array a plugin
/// hands over, `name`, `def_value` and `desc` are plain NUL-terminated strings (the host copies
/// `name` and `def_value`, and keeps the `desc` pointer), `set_property` and `offset` are 0, and
/// `value` / `_head` are zeroed.
/// cbindgen:field-names=[type, name, def_value, flags, set_property, offset, desc, value, _head]
#[repr(C)]
pub struct flb_config_map {
    pub type_: c_int,
    pub name: *const c_char,
    pub def_value: *const c_char,
    pub flags: c_int,
    pub set_property: c_int,
    pub offset: usize,
    pub desc: *const c_char,
    pub value: flb_config_map_val,
    pub _head: mk_list,
}

/// Returns an instance's property, or NULL when unset.
pub type flb_get_property_fn = Option<unsafe extern "C" fn(key: *const c_char, ins: *mut c_void) -> *const c_char>;
/// Returns an instance's cmetrics context (`struct cmt *`).
pub type flb_get_cmt_fn = Option<unsafe extern "C" fn(ins: *mut c_void) -> *mut c_void>;
/// printf-like logger: always pass the message to a `"%s"` format.
pub type flb_log_print_fn =
    Option<unsafe extern "C" fn(level: c_int, file: *const c_char, line: c_int, fmt: *const c_char, ...)>;
/// Returns non-zero when `level` is enabled for the instance.
pub type flb_log_check_fn = Option<unsafe extern "C" fn(ins: *mut c_void, level: c_int) -> c_int>;

/// The function table the host hands to every plugin instance.
#[repr(C)]
pub struct flb_api {
    pub output_get_property: flb_get_property_fn,
    pub input_get_property: flb_get_property_fn,
    pub output_get_cmt_instance: flb_get_cmt_fn,
    pub input_get_cmt_instance: flb_get_cmt_fn,
    pub log_print: flb_log_print_fn,
    pub input_log_check: flb_log_check_fn,
    pub output_log_check: flb_log_check_fn,
    pub custom_get_property: flb_get_property_fn,
    pub custom_log_check: flb_log_check_fn,
}

/// Per-instance context of outputs and customs: the plugin writes `remote_context` during init.
#[repr(C)]
pub struct flb_plugin_proxy_context {
    pub remote_context: *mut c_void,
    pub proxy: *mut c_void,
}

/// Per-instance context of inputs: note `coll_fd` first, so `remote_context` is at offset 8.
#[repr(C)]
pub struct flb_plugin_input_proxy_context {
    pub coll_fd: c_int,
    pub remote_context: *mut c_void,
    pub proxy: *mut c_void,
}

/// What `FLBPluginInit` receives for an output (the host's own fields after these are not ours).
#[repr(C)]
pub struct flbgo_output_plugin {
    pub name: *mut c_char,
    pub api: *mut flb_api,
    pub o_ins: *mut c_void,
    pub context: *mut flb_plugin_proxy_context,
}

/// What `FLBPluginInit` receives for an input.
#[repr(C)]
pub struct flbgo_input_plugin {
    pub name: *mut c_char,
    pub api: *mut flb_api,
    pub i_ins: *mut c_void,
    pub context: *mut flb_plugin_input_proxy_context,
}

/// `FLBPluginPreRegister` (2.2+): returning -1 aborts loading.
pub type FLBPluginPreRegisterFn = unsafe extern "C" fn(hot_reloading: c_int) -> c_int;
/// `FLBPluginRegister`: fill the definition; return 0, or -1 to abort.
pub type FLBPluginRegisterFn = unsafe extern "C" fn(def: *mut flb_plugin_proxy_def) -> c_int;
/// `FLBPluginInit`: once per instance; must return `FLB_OK`.
pub type FLBPluginInitFn = unsafe extern "C" fn(plugin: *mut c_void) -> c_int;
/// `FLBPluginInputPreRun` / `FLBPluginOutputPreRun` (2.2+).
pub type FLBPluginPreRunFn = unsafe extern "C" fn(enable_hot_reload: c_int) -> c_int;
/// `FLBPluginInputCallback`: collect.
pub type FLBPluginInputCallbackFn = unsafe extern "C" fn(data: *mut *mut c_void, size: *mut usize) -> c_int;
/// `FLBPluginInputCallbackCtx` (4.1+).
pub type FLBPluginInputCallbackCtxFn =
    unsafe extern "C" fn(remote_ctx: *mut c_void, data: *mut *mut c_void, size: *mut usize) -> c_int;
/// `FLBPluginInputCleanupCallback` (2.0+).
pub type FLBPluginInputCleanupCallbackFn = unsafe extern "C" fn(data: *mut c_void) -> c_int;
/// `FLBPluginInputCleanupCallbackCtx` (4.1+).
pub type FLBPluginInputCleanupCallbackCtxFn = unsafe extern "C" fn(remote_ctx: *mut c_void, data: *mut c_void) -> c_int;
/// `FLBPluginInputPause` / `FLBPluginInputResume` (2.2+).
pub type FLBPluginInputPauseFn = unsafe extern "C" fn();
/// `FLBPluginFlush`.
pub type FLBPluginFlushFn = unsafe extern "C" fn(data: *const c_void, size: usize, tag: *const c_char) -> c_int;
/// `FLBPluginFlushCtx`.
pub type FLBPluginFlushCtxFn =
    unsafe extern "C" fn(remote_ctx: *mut c_void, data: *const c_void, size: usize, tag: *mut c_char) -> c_int;
/// `FLBPluginInputPreExit` / `FLBPluginOutputPreExit` (2.2+).
pub type FLBPluginPreExitFn = unsafe extern "C" fn(shutdown_by_hot_reloading: c_int);
/// `FLBPluginExit`.
pub type FLBPluginExitFn = unsafe extern "C" fn() -> c_int;
/// `FLBPluginExitCtx` (outputs).
pub type FLBPluginExitCtxFn = unsafe extern "C" fn(remote_ctx: *mut c_void) -> c_int;
/// `FLBPluginUnregister`: free what Register allocated.
pub type FLBPluginUnregisterFn = unsafe extern "C" fn(def: *mut flb_plugin_proxy_def);
