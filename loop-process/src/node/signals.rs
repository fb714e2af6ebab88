//! Signal names as Node.js gives them (`'SIGTERM'`), from signal-hook's
//! table: `exit`'s and `close`'s signal, and `kill` by name.
//!
//! Invariant: a name is the system's own (`SIGTERM`, never `TERM`), and
//! every signal has one (a real-time one is `SIGRTMIN+n`, as in libuv).

/// The name of signal `sig` (`"SIGTERM"`); `SIGRTMIN+n` for a real-time
/// signal, `"SIGUNKNOWN"` for a number that is none.
pub fn signal_name(sig: i32) -> &'static str {
    if let Some(name) = signal_hook::low_level::signal_name(sig) {
        return name;
    }
    const RT: [&str; 33] = [
        "SIGRTMIN",
        "SIGRTMIN+1",
        "SIGRTMIN+2",
        "SIGRTMIN+3",
        "SIGRTMIN+4",
        "SIGRTMIN+5",
        "SIGRTMIN+6",
        "SIGRTMIN+7",
        "SIGRTMIN+8",
        "SIGRTMIN+9",
        "SIGRTMIN+10",
        "SIGRTMIN+11",
        "SIGRTMIN+12",
        "SIGRTMIN+13",
        "SIGRTMIN+14",
        "SIGRTMIN+15",
        "SIGRTMIN+16",
        "SIGRTMIN+17",
        "SIGRTMIN+18",
        "SIGRTMIN+19",
        "SIGRTMIN+20",
        "SIGRTMIN+21",
        "SIGRTMIN+22",
        "SIGRTMIN+23",
        "SIGRTMIN+24",
        "SIGRTMIN+25",
        "SIGRTMIN+26",
        "SIGRTMIN+27",
        "SIGRTMIN+28",
        "SIGRTMIN+29",
        "SIGRTMIN+30",
        "SIGRTMIN+31",
        "SIGRTMIN+32",
    ];
    let min = libc::SIGRTMIN();
    if (min..=libc::SIGRTMAX()).contains(&sig) {
        if let Some(name) = RT.get((sig - min) as usize) {
            return name;
        }
    }
    "SIGUNKNOWN"
}

/// The number of the signal named `name` (`"SIGTERM"`), as Node's
/// `child.kill('SIGTERM')` takes it; `None` for a name that is none.
pub fn signal_number(name: &str) -> Option<i32> {
    (1..libc::SIGRTMIN()).find(|&n| signal_hook::low_level::signal_name(n) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(signal_name(libc::SIGTERM), "SIGTERM");
        assert_eq!(signal_name(libc::SIGKILL), "SIGKILL");
        assert_eq!(signal_name(libc::SIGRTMIN() + 2), "SIGRTMIN+2");
        assert_eq!(signal_name(1000), "SIGUNKNOWN");
        assert_eq!(signal_number("SIGINT"), Some(libc::SIGINT));
        assert_eq!(signal_number("SIGNOPE"), None);
    }
}
