# Shared by the benchmark scripts, which source it from the repository's root: their
# progress lines, wrk and valgrind, the release build, a work directory removed on exit, and a release
# server started on a free port and stopped again.

step() { printf '\n==> %s\n' "$*" >&2; }

# Installs wrk where it is missing.
need_wrk() {
    if ! command -v wrk >/dev/null 2>&1; then
        step "installing wrk"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    fi
}

# Installs valgrind (for callgrind) where it is missing.
need_valgrind() {
    if ! command -v valgrind >/dev/null 2>&1; then
        step "installing valgrind"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
    fi
}

# Builds the release server; sets $binary.
build_release() {
    step "cargo build --release"
    cargo build --release --locked >&2
    binary="${CARGO_TARGET_DIR:-target}/release/fastcall-emulator"
}

# Makes $work, a directory of the script's own (named after $1), which goes on exit together
# with the server, if one still runs.
work_dir() {
    work=$(mktemp -d "/tmp/fastcall-$1.XXXXXX")
    server_pid=""
    trap bench_cleanup EXIT
}

bench_cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts the server $1 over the database $2 on a free port, in manual progression, and waits
# until it answers; sets $base and $server_pid. Its log is $work/server.log.
start_server() {
    local port
    port=$(free_port)
    base="http://127.0.0.1:$port"
    env -i PATH="$PATH" "$1" --database-url "$2" --addr "127.0.0.1:$port" \
        --progression manual --log warn >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        curl -fs "$base/livez" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    cat "$work/server.log" >&2
    exit 1
}

stop_server() {
    kill "$server_pid" && wait "$server_pid" || true
    server_pid=""
}

# The server's peak resident memory, in MB.
peak_rss_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }
