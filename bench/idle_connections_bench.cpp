// Memory per idle connection: serve_tcp holding 10,000 connections that
// send nothing, each handler task waiting in receive_some. No floor: the
// target is absolute (<= 4 KiB of user-space memory per connection).
//
// The client side is a separate process (echo_load --idle, started with
// posix_spawn), so none of its memory is counted here. Two figures, each
// the growth between "listening, no connection yet" and "every connection
// accepted and its handler waiting", divided by the connection count:
//
//  * rss_bytes_per_connection (the target): VmRSS from /proc/self/status,
//    all of the process's resident user-space memory (heap, malloc's
//    overhead and fragmentation, anything else touched);
//  * heap_bytes_per_connection: bytes malloc has handed out (mallinfo2:
//    in use in the arenas plus mmapped blocks).
//
// Per connection that is: the socket_stream and its handler task (the
// task's outer frame, serve_listeners' wrapper frame with its copy of the
// handler std::function, the handler's frame with its 512-byte receive
// buffer, the receive_some -> recv_into -> wait_readable frames it is
// parked in), the run's record of the fd it waits on, and the run queue's
// and epoll's growth. Kernel socket buffers are not user-space memory and
// are not counted. One iteration, in a fresh process, as in memory_bench.
//
// Needs 10,000 fds here and 10,000 in the client process: the soft
// RLIMIT_NOFILE is raised; if the hard limit is too low the benchmark says
// so and is skipped.

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <trellis/net.hpp>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"
#include "net_bench_support.hpp"

#ifndef TRELLIS_ECHO_LOAD
#error "TRELLIS_ECHO_LOAD (the path of the echo_load program) must be defined by the build"
#endif

namespace {

constexpr int connection_count = 10'000;
constexpr rlim_t fds_needed = connection_count + 64;

double heap_in_use() {
    const struct mallinfo2 info = ::mallinfo2();
    return static_cast<double>(info.uordblks + info.hblkhd);
}

struct measurement {
    double rss_before = 0, rss_after = 0;
    double heap_before = 0, heap_after = 0;
    bool ok = false;
};

// Counts accepted connections; `all_in` is set when the last arrives.
struct arrivals {
    int count = 0;
    trellis::event all_in;
};

trellis::task<> idle_session(measurement& m) {
    arrivals arrived;
    auto handler = [&arrived](trellis::socket_stream& conn) -> trellis::task<> {
        if (++arrived.count == connection_count) arrived.all_in.set();
        std::byte buffer[512];
        try {
            while (co_await conn.receive_some(buffer) != 0) {
            }
        } catch (const trellis::broken_resource_error&) {
        }
    };
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::serve_tcp_options options{.host = "127.0.0.1"};
        auto listeners = co_await n.start(trellis::serve_tcp, handler, 0, options);
        const std::uint16_t port = listeners.at(0)->socket().local_address().port();
        co_await trellis::sleep(std::chrono::milliseconds(20));
        m.rss_before = static_cast<double>(bench::proc_status_bytes("VmRSS"));
        m.heap_before = heap_in_use();

        bench::child_process clients = bench::spawn(
            {TRELLIS_ECHO_LOAD, "--idle", "--port", std::to_string(port), "--connections",
             std::to_string(connection_count)},
            /*with_stdin=*/true);
        std::string text;
        bool open = true;
        while (open && text.find('\n') == std::string::npos) {
            open = bench::read_available(clients.out, text);
            if (open && text.find('\n') == std::string::npos) co_await trellis::wait_readable(clients.out);
        }
        if (text.rfind("connected ", 0) == 0) {
            co_await arrived.all_in.wait();
            co_await trellis::sleep(std::chrono::milliseconds(50));  // every handler is parked by now
            m.rss_after = static_cast<double>(bench::proc_status_bytes("VmRSS"));
            m.heap_after = heap_in_use();
            m.ok = true;
        }
        ::close(clients.in);  // the client process closes its connections and exits
        clients.in = -1;
        while (bench::read_available(clients.out, text)) co_await trellis::wait_readable(clients.out);
        if (!bench::reap(clients)) m.ok = false;
        n.cancel_scope().cancel();
    });
}

void trellis_serve_tcp_10000_idle_connections(benchmark::State& state) {
    if (bench::raise_fd_limit(fds_needed) < fds_needed) {
        state.SkipWithError("RLIMIT_NOFILE's hard limit is below the 10,064 fds needed; skipped");
        return;
    }
    measurement m;
    for (auto _ : state) trellis::run(idle_session, std::ref(m));
    if (!m.ok) {
        state.SkipWithError("the client process failed (see its message above)");
        return;
    }
    state.counters["rss_bytes_per_connection"] = (m.rss_after - m.rss_before) / connection_count;
    state.counters["heap_bytes_per_connection"] = (m.heap_after - m.heap_before) / connection_count;
    state.counters["rss_growth_MiB"] = (m.rss_after - m.rss_before) / (1024.0 * 1024.0);
}
BENCHMARK(trellis_serve_tcp_10000_idle_connections)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv,
                           {bench::target::counter("10,000 idle connections", "trellis_serve_tcp_10000_idle_connections",
                                                   "rss_bytes_per_connection", 4096, "bytes/connection of RSS growth")},
                           {"--benchmark_repetitions=1"});
}
