#![no_main]
// The property is fuzz_checks::config_getters::config_getters (tools/fuzz-checks), which the workspace's tests also
// replay on fuzz/corpus/config_getters/ and fuzz/regressions/config_getters/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::config_getters::config_getters(data));
