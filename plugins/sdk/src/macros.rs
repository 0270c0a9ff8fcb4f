//! The two macros that turn a type implementing `InputPlugin` / `OutputPlugin` into a Fluent Bit
//! proxy plugin: they export exactly the C symbols of ABI.md that apply to the kind (the Ctx
//! variants included), each forwarding to the `boundary` module.

/// What both plugin kinds export alike: the panic-strategy check, the registry, PreRegister,
/// Register, Unregister and Init. Internal to `input_plugin!` / `output_plugin!`.
#[doc(hidden)]
#[macro_export]
macro_rules! __flb_plugin_common {
    ($ty:ty, $trait:ident, $kind:ident, $plugin_type:expr, $event_type:expr, $init:ident) => {
        #[cfg(panic = "abort")]
        compile_error!("flb-plugin-sdk needs panic = \"unwind\": a panic must become FLB_ERROR, not abort Fluent Bit");

        static REGISTRY: $crate::boundary::Registry = $crate::boundary::Registry::new();

        fn log() -> $crate::api::Logger {
            $crate::api::Logger::stderr($crate::api::InstanceKind::$kind, <$ty as $crate::api::$trait>::NAME)
        }

        #[no_mangle]
        extern "C" fn FLBPluginPreRegister(_hot_reloading: $crate::__private::c_int) -> $crate::__private::c_int {
            0
        }

        #[no_mangle]
        unsafe extern "C" fn FLBPluginRegister(
            def: *mut $crate::abi::flb_plugin_proxy_def,
        ) -> $crate::__private::c_int {
            // SAFETY: the host passes its definition; event_type is written only for non-log
            // outputs, which need a 5.0+ host anyway.
            unsafe {
                $crate::boundary::register(
                    &REGISTRY,
                    def,
                    $plugin_type,
                    <$ty as $crate::api::$trait>::NAME,
                    <$ty as $crate::api::$trait>::DESCRIPTION,
                    $event_type,
                    &log(),
                )
            }
        }

        #[no_mangle]
        unsafe extern "C" fn FLBPluginUnregister(def: *mut $crate::abi::flb_plugin_proxy_def) {
            // SAFETY: the host passes the definition Register filled.
            unsafe { $crate::boundary::unregister(&REGISTRY, def, &log()) }
        }

        #[no_mangle]
        unsafe extern "C" fn FLBPluginInit(plugin: *mut $crate::__private::c_void) -> $crate::__private::c_int {
            // SAFETY: the host passes its flbgo_input_plugin / flbgo_output_plugin.
            unsafe { $crate::boundary::$init::<$ty>(&REGISTRY, plugin) }
        }
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
            use $crate::boundary as b;

            $crate::__flb_plugin_common!(
                $ty,
                InputPlugin,
                Input,
                $crate::abi::FLB_PROXY_INPUT_PLUGIN,
                None,
                input_init
            );

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputPreRun(hot_reload: c_int) -> c_int {
                // SAFETY: called by the host's pre-run hook.
                unsafe { b::input_pre_run::<$ty>(&REGISTRY, hot_reload) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputCallback(data: *mut *mut c_void, size: *mut usize) -> c_int {
                // SAFETY: NULL context selects the calling thread's instance; data/size are checked.
                unsafe { b::input_collect::<$ty>(&REGISTRY, core::ptr::null_mut(), data, size) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputCallbackCtx(
                ctx: *mut c_void,
                data: *mut *mut c_void,
                size: *mut usize,
            ) -> c_int {
                // SAFETY: the host passes back the remote_context init stored.
                unsafe { b::input_collect::<$ty>(&REGISTRY, ctx, data, size) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputCleanupCallback(data: *mut c_void) -> c_int {
                // SAFETY: NULL context selects the calling thread's instance.
                unsafe { b::input_cleanup::<$ty>(&REGISTRY, core::ptr::null_mut(), data) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputCleanupCallbackCtx(ctx: *mut c_void, data: *mut c_void) -> c_int {
                // SAFETY: the host passes back the remote_context init stored.
                unsafe { b::input_cleanup::<$ty>(&REGISTRY, ctx, data) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputPause() {
                // SAFETY: called by the host's pause hook.
                unsafe { b::input_pause_resume::<$ty>(&REGISTRY, true) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputResume() {
                // SAFETY: called by the host's resume hook.
                unsafe { b::input_pause_resume::<$ty>(&REGISTRY, false) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInputPreExit(hot_reload: c_int) {
                // SAFETY: called by the host's pre-exit hook.
                unsafe { b::input_pre_exit::<$ty>(&REGISTRY, hot_reload) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginExit() -> c_int {
                // SAFETY: called by the host's exit hook, on the instance's thread.
                unsafe { b::input_exit::<$ty>(&REGISTRY) }
            }
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
            use $crate::boundary as b;

            $crate::__flb_plugin_common!(
                $ty,
                OutputPlugin,
                Output,
                $crate::abi::FLB_PROXY_OUTPUT_PLUGIN,
                $crate::__private::event_type_field(<$ty as $crate::api::OutputPlugin>::EVENT_TYPE),
                output_init
            );

            #[no_mangle]
            unsafe extern "C" fn FLBPluginOutputPreRun(hot_reload: c_int) -> c_int {
                // SAFETY: called by the host's pre-run hook.
                unsafe { b::output_pre_run::<$ty>(&REGISTRY, hot_reload) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginFlush(data: *const c_void, size: usize, tag: *const c_char) -> c_int {
                // SAFETY: NULL context selects the only instance; the host passes a valid chunk and tag.
                unsafe { b::output_flush::<$ty>(&REGISTRY, core::ptr::null_mut(), data, size, tag) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginFlushCtx(
                ctx: *mut c_void,
                data: *const c_void,
                size: usize,
                tag: *mut c_char,
            ) -> c_int {
                // SAFETY: the host passes back the remote_context init stored, a valid chunk and tag.
                unsafe { b::output_flush::<$ty>(&REGISTRY, ctx, data, size, tag) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginOutputPreExit(hot_reload: c_int) {
                // SAFETY: called by the host's pre-exit hook.
                unsafe { b::output_pre_exit::<$ty>(&REGISTRY, hot_reload) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginExit() -> c_int {
                // SAFETY: NULL context selects the only instance.
                unsafe { b::output_exit::<$ty>(&REGISTRY, core::ptr::null_mut()) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginExitCtx(ctx: *mut c_void) -> c_int {
                // SAFETY: the host passes back the remote_context init stored.
                unsafe { b::output_exit::<$ty>(&REGISTRY, ctx) }
            }
        };
    };
}
