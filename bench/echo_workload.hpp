// The echo-server workload shared by echo_server_bench and
// guest_qt_echo_bench: the load generator (echo_load, a separate process)
// opens 1,000 connections to a server in the benchmark process; each
// connection sends 64 bytes, waits for the echo, and repeats, for a 300 ms
// warm-up then 2 s of measurement. The figure is the generator's count of
// round trips during the measurement, per second.
//
// trellis's server is serve_tcp with one task per connection running
// echo_handler (receive_some into a 512-byte buffer on its frame, then
// send_all). The session runs it, starts the generator, reads the
// generator's report from a pipe (wait_readable), then cancels the server.
// Which run drives the session (trellis::run, a guest run) is up to the
// caller.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <trellis/net.hpp>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"
#include "net_bench_support.hpp"

#ifndef TRELLIS_ECHO_LOAD
#error "TRELLIS_ECHO_LOAD (the path of the echo_load program) must be defined by the build"
#endif

namespace bench {

constexpr int echo_connections = 1000;
constexpr int echo_message_bytes = 64;

// The generator's command line against 127.0.0.1:port.
inline std::vector<std::string> echo_load_command(std::uint16_t port) {
    return {TRELLIS_ECHO_LOAD,   "--port",           std::to_string(port), "--connections",
            std::to_string(echo_connections), "--size", std::to_string(echo_message_bytes),
            "--warmup-ms",       "300",              "--duration-ms",      "2000"};
}

struct load_result {
    double requests = 0;
    double seconds = 0;
    bool ok = false;
};

// Parses "requests N seconds S" (the generator's one line).
inline load_result parse_load_output(const std::string& text, bool exited_ok) {
    load_result r;
    long long requests = 0;
    double seconds = 0;
    if (exited_ok && std::sscanf(text.c_str(), "requests %lld seconds %lf", &requests, &seconds) == 2 &&
        seconds > 0) {
        r.requests = static_cast<double>(requests);
        r.seconds = seconds;
        r.ok = true;
    }
    return r;
}

// Records one session in the benchmark's state: the iteration's time is the
// measured window, the counter the rate. Marks the run failed if the
// generator failed.
inline void record(benchmark::State& state, const load_result& r) {
    if (!r.ok) {
        state.SkipWithError("the load generator failed (see its message above)");
        return;
    }
    state.SetIterationTime(r.seconds);
    state.counters["requests_per_s"] = r.requests / r.seconds;
}

// One connection of trellis's echo server. The generator closes its
// connections with echoes still unread, so the kernel resets them: a reset
// ends the connection quietly (an error from a handler would cancel the
// whole server).
inline trellis::task<> echo_handler(trellis::socket_stream& conn) {
    std::byte buffer[512];
    try {
        for (;;) {
            const std::size_t n = co_await conn.receive_some(buffer);
            if (n == 0) co_return;
            co_await conn.send_all(std::span<const std::byte>(buffer, n));
        }
    } catch (const trellis::broken_resource_error&) {
    }
}

// serve_tcp on 127.0.0.1, the generator against it; returns once the
// generator has reported (the server is then cancelled).
inline trellis::task<load_result> trellis_echo_session() {
    load_result result;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::serve_tcp_options options{.host = "127.0.0.1"};
        auto listeners = co_await n.start(trellis::serve_tcp, echo_handler, 0, options);
        const std::uint16_t port = listeners.at(0)->socket().local_address().port();
        child_process generator = spawn(echo_load_command(port));
        std::string text;
        while (read_available(generator.out, text)) co_await trellis::wait_readable(generator.out);
        const bool exited_ok = reap(generator);
        result = parse_load_output(text, exited_ok);
        n.cancel_scope().cancel();
    });
    co_return result;
}

}  // namespace bench
