#!/usr/bin/env bash
# Measures what docs/echo-walkthrough.md shows: echo-app started as a user
# starts it, `nc` connecting, typing, leaving, a second `nc`, Ctrl-C on the
# server, then the last client leaving.
#
#   scripts/echo-walkthrough.sh [OUT_DIR]      (default: target/echo-walkthrough)
#
# Two passes, each in terminals of a private tmux server (so fds 0-2 are a
# terminal, as for a user):
#   fd.txt        pass 1: `cargo run --release -p echo-app`; at each step
#                 the threads, /proc/PID/fd, the epoll sets (/proc/PID/fdinfo)
#                 and `ss` for port 8080
#   strace.txt    pass 2: the same steps under `strace -f -tt`, with the
#   log.txt       loop's phase and callback trace on (--log ...=trace); the
#                 log lines show up in strace.txt as write(2, ...), which puts
#                 every system call in its phase
# Needs: tmux, nc (netcat-openbsd), strace, ss (iproute2); port 8080 free.
# Not part of CI: it types into terminals and takes about 20 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/echo-walkthrough}
mkdir -p "$out"
out=$(cd "$out" && pwd)
for tool in tmux nc strace ss; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (apt-get install tmux netcat-openbsd strace iproute2)" >&2; exit 1; }
done
if ss -ltn | grep -q ':8080 '; then
  echo "error: port 8080 is in use" >&2
  exit 1
fi
cargo build --release --quiet -p echo-app

tm() { tmux -L echo-walkthrough "$@"; }
server_pid() { pgrep -x echo-app | head -1; }

snap() { # LABEL: threads, fds, epoll sets and sockets of the server now
  local pid; pid=$(server_pid)
  echo "===== $1 (pid $pid)"
  for t in /proc/"$pid"/task/*; do echo "thread $(basename "$t") $(cat "$t"/comm)"; done
  ls -l /proc/"$pid"/fd | awk 'NR>1{print $9, $10, $11}' | sort -n
  for f in /proc/"$pid"/fd/*; do
    if [ "$(readlink "$f")" = "anon_inode:[eventpoll]" ]; then
      echo "-- epoll set of fd $(basename "$f")"
      grep tfd /proc/"$pid"/fdinfo/"$(basename "$f")" | awk '{print "tfd", $2, "events", $4, "data", $6}' | sort -n -k2
    fi
  done
  echo "-- ss (port 8080)"
  ss -tanep | grep ':8080' | awk '{print $1, $4, $5, ($0 ~ /echo-app/ ? "(echo-app)" : "(peer)")}' | sort
}

pass() { # LOG_FILE SERVER_COMMAND
  local log=$1 cmd=$2
  : >"$log"
  tm kill-server 2>/dev/null || true
  tm new-session -d -s srv -x 200 -y 50
  tm new-session -d -s c1 -x 200 -y 20
  tm new-session -d -s c2 -x 200 -y 20
  tm send-keys -t srv "cd $PWD && $cmd" Enter
  for _ in $(seq 150); do
    tm capture-pane -p -t srv | grep -q 'listening on' && break
    sleep 0.2
  done
  sleep 0.5
  snap "1 listening" >>"$log"
  tm send-keys -t c1 "nc localhost 8080" Enter; sleep 1
  snap "2 nc connected" >>"$log"
  tm send-keys -t c1 "hello" Enter; sleep 0.5
  snap "3 hello echoed" >>"$log"
  tm send-keys -t c1 C-c; sleep 0.5
  snap "4 nc left (Ctrl-C)" >>"$log"
  tm send-keys -t c2 "nc localhost 8080" Enter; sleep 1
  snap "5 second nc connected" >>"$log"
  tm send-keys -t srv C-c; sleep 0.7
  snap "6 Ctrl-C on the server" >>"$log"
  { nc -z -w1 localhost 8080 && echo "new connect: accepted" || echo "new connect: refused"; } >>"$log" 2>&1
  tm send-keys -t c2 "still here" Enter; sleep 0.5
  tm send-keys -t c2 C-c; sleep 1
  { echo "===== first client's terminal"; tm capture-pane -p -t c1 | grep -v '^$'
    echo "===== second client's terminal"; tm capture-pane -p -t c2 | grep -v '^$'
    echo "===== server's terminal"; tm capture-pane -p -t srv | grep -v '^$'; } >>"$log"
  if pgrep -x echo-app >/dev/null; then
    echo "error: echo-app still running; stopping it" | tee -a "$log" >&2
    pkill -x echo-app || true
  fi
  tm kill-server
}

pass "$out/fd.txt" "cargo run --release -p echo-app"
pass "$out/fd-strace.txt" "NO_COLOR=1 strace -f -tt -s 120 -o $out/strace.txt ${CARGO_TARGET_DIR:-target}/release/echo-app --log loop_core=trace,loop_net=trace,echo_app=trace 2>$out/log.txt"
echo "wrote $out/fd.txt, $out/strace.txt, $out/log.txt"
