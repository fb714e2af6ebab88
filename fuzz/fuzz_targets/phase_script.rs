//! The phase-script parser takes bytes from outside (a user's script): any
//! input must give a script or one error naming the JSON path, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = loop_tests::script::parse(text) {
            // The message names where the script is wrong.
            let _ = e.to_string();
        }
    }
});
