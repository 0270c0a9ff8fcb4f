#![no_main]
// The property is fuzz_checks::json_object::json_object (tools/fuzz-checks), which the workspace's
// tests also replay on fuzz/corpus/json_object/ and fuzz/regressions/json_object/.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_checks::json_object::json_object(data));
