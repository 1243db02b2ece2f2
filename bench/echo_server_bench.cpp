// An echo server under load from a separate generator process, against its
// floor: a hand-written single-threaded epoll echo server under the same
// generator (see echo_workload.hpp for the workload: 1,000 connections,
// 64-byte messages, each waiting for its echo before sending the next).
//
//  * floor: one thread, one epoll set (level-triggered) holding the
//    listener, every connection and the generator's output pipe; a readable
//    connection is read into one shared 512-byte buffer and written back.
//  * trellis: serve_tcp under trellis::run, one task per connection
//    (echo_handler: receive_some, send_all).
//  * Trio 0.22's serve_tcp (trio_echo_server.py, run by Python in its own
//    process) under the same generator, for comparison; not a target.
//
// The figure is requests per second as the generator counts them; each
// repetition is one 2-second session (the iteration time reported is the
// measured window). The generator and the server share the machine's
// cores, which is the same for every server measured.

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "echo_workload.hpp"

#ifndef TRELLIS_PYTHON
#error "TRELLIS_PYTHON and TRELLIS_TRIO_ECHO_SERVER must be defined by the build"
#endif

namespace {

using bench::die;

// Sends all of data on a non-blocking socket, waiting with poll() if its
// buffer is full (never, with this workload's small messages). False if the
// peer has gone.
bool send_all_blocking(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            size -= static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EAGAIN) {
            pollfd p{fd, POLLOUT, 0};
            ::poll(&p, 1, -1);
        } else if (n < 0 && errno != EINTR) {
            return false;
        }
    }
    return true;
}

bench::load_result floor_epoll_session() {
    std::uint16_t port = 0;
    const int listener = bench::listen_loopback(port);
    bench::set_nonblocking(listener);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    const auto watch = [ep](int fd) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    };
    watch(listener);
    bench::child_process generator = bench::spawn(bench::echo_load_command(port));
    watch(generator.out);

    std::vector<int> connections;  // every fd accepted, -1 once closed
    std::vector<epoll_event> events(256);
    char buffer[512];
    std::string text;
    bool generator_done = false;
    while (!generator_done) {
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int k = 0; k < n; ++k) {
            const int fd = events[static_cast<std::size_t>(k)].data.fd;
            if (fd == listener) {
                for (;;) {
                    const int conn = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (conn < 0) break;
                    bench::set_nodelay(conn);
                    watch(conn);
                    if (connections.size() <= static_cast<std::size_t>(conn))
                        connections.resize(static_cast<std::size_t>(conn) + 1, -1);
                    connections[static_cast<std::size_t>(conn)] = conn;
                }
            } else if (fd == generator.out) {
                if (!bench::read_available(generator.out, text)) generator_done = true;
            } else {
                const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (got <= 0 || !send_all_blocking(fd, buffer, static_cast<std::size_t>(got))) {
                    ::close(fd);  // also leaves the epoll set
                    connections[static_cast<std::size_t>(fd)] = -1;
                }
            }
        }
    }
    const bool exited_ok = bench::reap(generator);
    for (int fd : connections)
        if (fd >= 0) ::close(fd);
    ::close(listener);
    ::close(ep);
    return bench::parse_load_output(text, exited_ok);
}

void floor_epoll_echo_server(benchmark::State& state) {
    for (auto _ : state) bench::record(state, floor_epoll_session());
}
BENCHMARK(floor_epoll_echo_server)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void trellis_echo_server(benchmark::State& state) {
    for (auto _ : state) bench::record(state, trellis::run(bench::trellis_echo_session));
}
BENCHMARK(trellis_echo_server)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

// Reads from a non-blocking fd, waiting with poll(), until `done` says the
// text is complete or end of file; false at end of file.
template <class Done>
bool read_until(int fd, std::string& text, Done done) {
    while (!done(text)) {
        if (!bench::read_available(fd, text)) return done(text);
        if (done(text)) break;
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, -1);
    }
    return true;
}

bench::load_result trio_session() {
    bench::child_process server = bench::spawn({TRELLIS_PYTHON, TRELLIS_TRIO_ECHO_SERVER});
    std::string banner;
    unsigned port = 0;
    const bool started =
        read_until(server.out, banner, [](const std::string& t) { return t.find('\n') != std::string::npos; }) &&
        std::sscanf(banner.c_str(), "listening on 127.0.0.1:%u", &port) == 1;
    bench::load_result result;
    if (started) {
        bench::child_process generator = bench::spawn(bench::echo_load_command(static_cast<std::uint16_t>(port)));
        std::string text;
        read_until(generator.out, text, [](const std::string&) { return false; });
        const bool exited_ok = bench::reap(generator);
        result = bench::parse_load_output(text, exited_ok);
    } else {
        std::fprintf(stderr, "trio_echo_server.py did not start (is python3-trio installed?)\n");
    }
    ::kill(server.pid, SIGTERM);
    bench::reap(server);
    return result;
}

void trio_echo_server(benchmark::State& state) {
    for (auto _ : state) bench::record(state, trio_session());
}
BENCHMARK(trio_echo_server)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    // The server side holds a little over 1,000 fds.
    bench::raise_fd_limit(4096);
    return bench::run_main(
        argc, argv,
        {bench::target::counter_ratio("echo server, 1,000 connections", "floor_epoll_echo_server",
                                      "trellis_echo_server", "requests_per_s", 0.8, "req/s"),
         bench::target::counter_comparison("Trio serve_tcp vs trellis, same load", "trellis_echo_server",
                                           "trio_echo_server", "requests_per_s", "req/s")},
        {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
         "--benchmark_display_aggregates_only=true"});
}
