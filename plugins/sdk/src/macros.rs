//! The two macros that turn a type implementing `InputPlugin` / `OutputPlugin` into a Fluent Bit
//! proxy plugin: they export exactly the C symbols of ABI.md that apply to the kind (the Ctx
//! variants included), each forwarding to the `boundary` module.

/// Exports the input plugin symbols for `$ty: InputPlugin`. Use once, in a `cdylib` crate.
///
/// ```ignore
/// flb_plugin_sdk::input_plugin!(MyInput);
/// ```
#[macro_export]
macro_rules! input_plugin {
    ($ty:ty) => {
        #[cfg(panic = "abort")]
        compile_error!("flb-plugin-sdk needs panic = \"unwind\": a panic must become FLB_ERROR, not abort Fluent Bit");

        const _: () = {
            use $crate::__private::{c_int, c_void};
            use $crate::abi::flb_plugin_proxy_def;
            use $crate::boundary as b;

            static REGISTRY: b::Registry = b::Registry::new();

            fn log() -> $crate::api::Logger {
                $crate::api::Logger::stderr($crate::api::InstanceKind::Input, <$ty as $crate::api::InputPlugin>::NAME)
            }

            #[no_mangle]
            extern "C" fn FLBPluginPreRegister(_hot_reloading: c_int) -> c_int {
                0
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginRegister(def: *mut flb_plugin_proxy_def) -> c_int {
                // SAFETY: the host passes its definition; inputs never write event_type.
                unsafe {
                    b::register(
                        &REGISTRY,
                        def,
                        $crate::abi::FLB_PROXY_INPUT_PLUGIN,
                        <$ty as $crate::api::InputPlugin>::NAME,
                        <$ty as $crate::api::InputPlugin>::DESCRIPTION,
                        None,
                        &log(),
                    )
                }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginUnregister(def: *mut flb_plugin_proxy_def) {
                // SAFETY: the host passes the definition Register filled.
                unsafe { b::unregister(&REGISTRY, def, &log()) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInit(plugin: *mut c_void) -> c_int {
                // SAFETY: the host passes its flbgo_input_plugin.
                unsafe { b::input_init::<$ty>(&REGISTRY, plugin) }
            }

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
        #[cfg(panic = "abort")]
        compile_error!("flb-plugin-sdk needs panic = \"unwind\": a panic must become FLB_ERROR, not abort Fluent Bit");

        const _: () = {
            use $crate::__private::{c_char, c_int, c_void};
            use $crate::abi::flb_plugin_proxy_def;
            use $crate::boundary as b;

            static REGISTRY: b::Registry = b::Registry::new();

            fn log() -> $crate::api::Logger {
                $crate::api::Logger::stderr($crate::api::InstanceKind::Output, <$ty as $crate::api::OutputPlugin>::NAME)
            }

            #[no_mangle]
            extern "C" fn FLBPluginPreRegister(_hot_reloading: c_int) -> c_int {
                0
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginRegister(def: *mut flb_plugin_proxy_def) -> c_int {
                let event_type = $crate::__private::event_type_field(<$ty as $crate::api::OutputPlugin>::EVENT_TYPE);
                // SAFETY: the host passes its definition; event_type is written only for non-log
                // plugins, which need a 5.0+ host anyway.
                unsafe {
                    b::register(
                        &REGISTRY,
                        def,
                        $crate::abi::FLB_PROXY_OUTPUT_PLUGIN,
                        <$ty as $crate::api::OutputPlugin>::NAME,
                        <$ty as $crate::api::OutputPlugin>::DESCRIPTION,
                        event_type,
                        &log(),
                    )
                }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginUnregister(def: *mut flb_plugin_proxy_def) {
                // SAFETY: the host passes the definition Register filled.
                unsafe { b::unregister(&REGISTRY, def, &log()) }
            }

            #[no_mangle]
            unsafe extern "C" fn FLBPluginInit(plugin: *mut c_void) -> c_int {
                // SAFETY: the host passes its flbgo_output_plugin.
                unsafe { b::output_init::<$ty>(&REGISTRY, plugin) }
            }

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
