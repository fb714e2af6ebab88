//! The Node.js IPC channel's framing takes bytes from another process: any
//! input, cut into reads at any points (the first byte picks the cuts),
//! must give the same lines as splitting it at once, and every line must
//! parse into a message or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loop_process::framing::{parse_line, LineBuffer};

fuzz_target!(|data: &[u8]| {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let want: Vec<&[u8]> = {
        let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        parts.pop(); // the unterminated rest
        parts
    };
    let mut b = LineBuffer::new();
    let mut got: Vec<Vec<u8>> = Vec::new();
    let step = usize::from(seed % 17) + 1;
    for chunk in input.chunks(step) {
        b.push(chunk);
        while let Some(line) = b.next_line() {
            let _ = parse_line(line);
            got.push(line.to_vec());
        }
    }
    assert_eq!(got, want, "lines depend on how the reads were cut");
});
