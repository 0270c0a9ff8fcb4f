//! The two macros that turn a type implementing `InputPlugin` / `OutputPlugin` into a Fluent Bit
//! proxy plugin: they export exactly the C symbols of docs/ABI.md that apply to the kind (the Ctx
//! variants included), each forwarding to the `boundary` module, and each pinned at compile time to
//! the `abi` function-pointer type of its symbol.

/// What both plugin kinds export alike: the panic-strategy check, the registry, PreRegister,
/// Register, Unregister and Init. Internal to `input_plugin!` / `output_plugin!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __flb_plugin_common {
    ($ty:ty, $trait:ident, $kind:ident, $registry:ty, $plugin_type:expr, $event_type:expr, $init:ident) => {
        #[cfg(panic = "abort")]
        compile_error!("flb-plugin-sdk needs panic = \"unwind\": a panic must become FLB_ERROR, not abort Fluent Bit");

        static REGISTRY: $registry = $crate::boundary::Registry::new();

        fn log() -> $crate::api::Logger {
            $crate::api::Logger::stderr($crate::api::InstanceKind::$kind, <$ty as $crate::api::$trait>::NAME)
        }

        #[no_mangle]
        extern "C" fn FLBPluginPreRegister(hot_reloading: $crate::__private::c_int) -> $crate::__private::c_int {
            $crate::boundary::pre_register(hot_reloading)
        }
        const _: $crate::abi::FLBPluginPreRegisterFn = FLBPluginPreRegister;

        #[no_mangle]
        unsafe extern "C" fn FLBPluginRegister(
            def: *mut $crate::abi::flb_plugin_proxy_def,
        ) -> $crate::__private::c_int {
            // SAFETY: every host allocates at least the five base fields; event_type is written only
            // for non-log outputs, which need a 5.0+ host (seven fields) anyway; config_map only on
            // a host register shows to have it.
            unsafe {
                $crate::boundary::register(
                    &REGISTRY,
                    def,
                    $plugin_type,
                    <$ty as $crate::api::$trait>::NAME,
                    <$ty as $crate::api::$trait>::DESCRIPTION,
                    $event_type,
                    <$ty as $crate::api::$trait>::KEYS,
                    &log(),
                )
            }
        }
        const _: $crate::abi::FLBPluginRegisterFn = FLBPluginRegister;

        #[no_mangle]
        unsafe extern "C" fn FLBPluginUnregister(def: *mut $crate::abi::flb_plugin_proxy_def) {
            // SAFETY: unregister's contract: `def` is NULL or the definition Register filled, still allocated.
            unsafe { $crate::boundary::unregister(&REGISTRY, def, &log()) }
        }
        const _: $crate::abi::FLBPluginUnregisterFn = FLBPluginUnregister;

        #[no_mangle]
        unsafe extern "C" fn FLBPluginInit(plugin: *mut $crate::__private::c_void) -> $crate::__private::c_int {
            // SAFETY: init's contract: `plugin` is NULL or a live flbgo_input_plugin / flbgo_output_plugin.
            unsafe { $crate::boundary::$init::<$ty>(&REGISTRY, plugin) }
        }
        const _: $crate::abi::FLBPluginInitFn = FLBPluginInit;
    };
}

/// Exports the input plugin symbols for `$ty: InputPlugin`. Use once, in a `cdylib` crate.
///
/// ```ignore
/// flb_plugin_sdk::input_plugin!(MyInput);
/// ```
#[macro_export]
macro_rules! input_plugin {
    ($ty:ty) => {
        const _: () = {
            use $crate::__private::{c_int, c_void};
            use $crate::abi as a;
            use $crate::boundary as b;

            $crate::__flb_plugin_common!(
                $ty,
                InputPlugin,
                Input,
                b::InputRegistry<$ty>,
                a::FLB_PROXY_INPUT_PLUGIN,
                None,
                input_init
            );

            #[no_mangle]
            extern "C" fn FLBPluginInputPreRun(hot_reload: c_int) -> c_int {
                b::input_pre_run::<$ty>(&REGISTRY, hot_reload)
            }
            const _: a::FLBPluginPreRunFn = FLBPluginInputPreRun;

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputCallback(data: *mut *mut c_void, size: *mut usize) -> c_int {
                // SAFETY: input_collect's contract: data/size are NULL (refused) or valid for writes for the call.
                unsafe { b::input_collect::<$ty>(&REGISTRY, core::ptr::null_mut(), data, size) }
            }
            const _: a::FLBPluginInputCallbackFn = FLBPluginInputCallback;

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputCallbackCtx(
                ctx: *mut c_void,
                data: *mut *mut c_void,
                size: *mut usize,
            ) -> c_int {
                // SAFETY: as above; ctx is only compared with the registry's keys.
                unsafe { b::input_collect::<$ty>(&REGISTRY, ctx, data, size) }
            }
            const _: a::FLBPluginInputCallbackCtxFn = FLBPluginInputCallbackCtx;

            #[no_mangle]
            extern "C" fn FLBPluginInputCleanupCallback(data: *mut c_void) -> c_int {
                b::input_cleanup::<$ty>(&REGISTRY, core::ptr::null_mut(), data)
            }
            const _: a::FLBPluginInputCleanupCallbackFn = FLBPluginInputCleanupCallback;

            #[no_mangle]
            extern "C" fn FLBPluginInputCleanupCallbackCtx(ctx: *mut c_void, data: *mut c_void) -> c_int {
                b::input_cleanup::<$ty>(&REGISTRY, ctx, data)
            }
            const _: a::FLBPluginInputCleanupCallbackCtxFn = FLBPluginInputCleanupCallbackCtx;

            #[no_mangle]
            extern "C" fn FLBPluginInputPause() {
                b::input_pause_resume::<$ty>(&REGISTRY, true)
            }
            const _: a::FLBPluginInputPauseFn = FLBPluginInputPause;

            #[no_mangle]
            extern "C" fn FLBPluginInputResume() {
                b::input_pause_resume::<$ty>(&REGISTRY, false)
            }
            const _: a::FLBPluginInputPauseFn = FLBPluginInputResume;

            #[no_mangle]
            extern "C" fn FLBPluginInputPreExit(hot_reload: c_int) {
                b::input_pre_exit::<$ty>(&REGISTRY, hot_reload)
            }
            const _: a::FLBPluginPreExitFn = FLBPluginInputPreExit;

            #[no_mangle]
            extern "C" fn FLBPluginExit() -> c_int {
                b::input_exit::<$ty>(&REGISTRY)
            }
            const _: a::FLBPluginExitFn = FLBPluginExit;
        };
    };
}

/// Exports the output plugin symbols for `$ty: OutputPlugin`. Use once, in a `cdylib` crate.
///
/// ```ignore
/// flb_plugin_sdk::output_plugin!(MyOutput);
/// ```
#[macro_export]
macro_rules! output_plugin {
    ($ty:ty) => {
        const _: () = {
            use $crate::__private::{c_char, c_int, c_void};
            use $crate::abi as a;
            use $crate::boundary as b;

            $crate::__flb_plugin_common!(
                $ty,
                OutputPlugin,
                Output,
                b::OutputRegistry<$ty>,
                a::FLB_PROXY_OUTPUT_PLUGIN,
                $crate::__private::event_type_field(<$ty as $crate::api::OutputPlugin>::EVENT_TYPE),
                output_init
            );

            #[no_mangle]
            extern "C" fn FLBPluginOutputPreRun(hot_reload: c_int) -> c_int {
                b::output_pre_run::<$ty>(&REGISTRY, hot_reload)
            }
            const _: a::FLBPluginPreRunFn = FLBPluginOutputPreRun;

            #[no_mangle]
            unsafe extern "C" fn FLBPluginFlush(data: *const c_void, size: usize, tag: *const c_char) -> c_int {
                // SAFETY: the ABI's flush contract: `data` is valid for `size` bytes and `tag` is NULL or
                // NUL-terminated, both for the call; NULL context selects the only instance.
                unsafe { b::output_flush::<$ty>(&REGISTRY, core::ptr::null_mut(), data, size, tag) }
            }
            const _: a::FLBPluginFlushFn = FLBPluginFlush;

            #[no_mangle]
            unsafe extern "C" fn FLBPluginFlushCtx(
                ctx: *mut c_void,
                data: *const c_void,
                size: usize,
                tag: *mut c_char,
            ) -> c_int {
                // SAFETY: as above; ctx is only compared with the registry's keys.
                unsafe { b::output_flush::<$ty>(&REGISTRY, ctx, data, size, tag) }
            }
            const _: a::FLBPluginFlushCtxFn = FLBPluginFlushCtx;

            #[no_mangle]
            extern "C" fn FLBPluginOutputPreExit(hot_reload: c_int) {
                b::output_pre_exit::<$ty>(&REGISTRY, hot_reload)
            }
            const _: a::FLBPluginPreExitFn = FLBPluginOutputPreExit;

            #[no_mangle]
            extern "C" fn FLBPluginExit() -> c_int {
                b::output_exit::<$ty>(&REGISTRY, core::ptr::null_mut())
            }
            const _: a::FLBPluginExitFn = FLBPluginExit;

            #[no_mangle]
            extern "C" fn FLBPluginExitCtx(ctx: *mut c_void) -> c_int {
                b::output_exit::<$ty>(&REGISTRY, ctx)
            }
            const _: a::FLBPluginExitCtxFn = FLBPluginExitCtx;
        };
    };
}
