#![no_main]
// The property is fuzz_checks::gstdout_formats::gstdout_formats (tools/fuzz-checks), which the workspace's tests also
// replay on fuzz/corpus/gstdout_formats/ and fuzz/regressions/gstdout_formats/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::gstdout_formats::gstdout_formats(data));
