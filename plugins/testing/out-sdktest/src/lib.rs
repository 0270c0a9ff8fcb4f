//! `sdktest_out`: prints one line per record, `<tag> n=<value>`, and checks every chunk decodes.
//! `panic` = on makes flush panic; `retry` = on makes it ask for a retry; `stack_kb` = N touches N
//! KiB of stack in flush (for the host's guard page).

use flb_plugin_sdk::events::Value;
use flb_plugin_sdk::prelude::*;
use std::io::Write;

struct SdkTestOut {
    panic: bool,
    retry: bool,
    stack_kb: usize,
}

#[inline(never)]
fn touch_stack(kb: usize) -> u8 {
    // A VLA-like use of stack: a fixed 1 KiB frame per level, `kb` levels deep.
    #[inline(never)]
    fn level(n: usize) -> u8 {
        let buf = std::hint::black_box([n as u8; 1024]);
        if n == 0 {
            buf[0]
        } else {
            level(n - 1).wrapping_add(buf[1023])
        }
    }
    level(kb)
}

impl OutputPlugin for SdkTestOut {
    const NAME: &'static str = "sdktest_out";
    const DESCRIPTION: &'static str = "SDK test output";

    fn init(ctx: &mut InitContext<'_>) -> Result<Self> {
        let cfg = ctx.config();
        Ok(SdkTestOut {
            panic: cfg.bool_or("panic", false)?,
            retry: cfg.bool_or("retry", false)?,
            stack_kb: cfg.uint_or("stack_kb", 0, 1 << 20)? as usize,
        })
    }

    fn flush(&self, chunk: Chunk<'_>) -> Result<(), FlushError> {
        if self.panic {
            panic!("sdktest_out asked to panic in flush");
        }
        if self.retry {
            return Err(FlushError::Retry(Error::new("sdktest_out asked to retry")));
        }
        if self.stack_kb > 0 {
            std::hint::black_box(touch_stack(self.stack_kb));
        }
        let tag = String::from_utf8_lossy(chunk.tag());
        let mut out = Vec::with_capacity(chunk.data().len());
        for event in chunk.events() {
            let event = event?;
            let n = match event.body {
                Value::Map(m) => match m.get(b"n")? {
                    Some(Value::Int(i)) => i.to_string(),
                    Some(Value::UInt(u)) => u.to_string(),
                    _ => "?".to_string(),
                },
                _ => "?".to_string(),
            };
            let _ = writeln!(out, "{tag} n={n}");
        }
        // Not std::io::stdout(): its 1 KiB buffer is allocated once and never freed, which the host's
        // leak check would rightly report after unload.
        // SAFETY: fd 1 stays open for the process; ManuallyDrop never closes it.
        let mut stdout =
            std::mem::ManuallyDrop::new(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(1) });
        stdout.write_all(&out).map_err(|e| FlushError::Retry(e.into()))
    }
}

flb_plugin_sdk::output_plugin!(SdkTestOut);
