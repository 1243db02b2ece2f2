// Load generator for the echo-server benchmarks: a separate process, one
// thread, one epoll loop, so that the server under test (in the benchmark
// process) is measured under the same load whoever wrote it.
//
//   echo_load --port P [--connections 1000] [--size 64] [--warmup-ms 300] [--duration-ms 2000]
//     Opens the connections to 127.0.0.1:P; each one sends a message of
//     --size bytes, waits until the whole echo is back, and sends the
//     next, for warm-up plus duration. Round trips completed during the
//     duration are counted; at the end it prints one line,
//       requests 123456 seconds 2.000
//     closes every connection and exits 0. Any error is fatal (exit 1).
//
//   echo_load --idle --port P [--connections 10000]
//     Opens the connections, prints "connected N", then sends nothing and
//     waits until its standard input reaches end of file (the parent
//     closed it), and exits, closing them all.
//
// It raises its own RLIMIT_NOFILE to fit the connections.

#include <sys/epoll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "net_bench_support.hpp"

namespace {

struct options {
    long port = -1;
    long connections = 1000;
    long size = 64;
    long warmup_ms = 300;
    long duration_ms = 2000;
    bool idle = false;
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s --port P [--connections N] [--size BYTES] [--warmup-ms MS] [--duration-ms MS] "
                 "[--idle]\n",
                 argv0);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const auto value = [&]() -> long {
            if (i + 1 >= argc) usage(argv[0]);
            return std::strtol(argv[++i], nullptr, 10);
        };
        if (std::strcmp(argv[i], "--port") == 0) {
            o.port = value();
        } else if (std::strcmp(argv[i], "--connections") == 0) {
            o.connections = value();
        } else if (std::strcmp(argv[i], "--size") == 0) {
            o.size = value();
        } else if (std::strcmp(argv[i], "--warmup-ms") == 0) {
            o.warmup_ms = value();
        } else if (std::strcmp(argv[i], "--duration-ms") == 0) {
            o.duration_ms = value();
        } else if (std::strcmp(argv[i], "--idle") == 0) {
            o.idle = true;
        } else {
            usage(argv[0]);
        }
    }
    if (o.port <= 0 || o.port > 65535 || o.connections <= 0 || o.size <= 0 || o.warmup_ms < 0 ||
        o.duration_ms <= 0)
        usage(argv[0]);
    return o;
}

std::vector<int> open_connections(const options& o) {
    const auto wanted = static_cast<rlim_t>(o.connections) + 16;
    if (bench::raise_fd_limit(wanted) < wanted) {
        std::fprintf(stderr, "echo_load: RLIMIT_NOFILE too low for %ld connections\n", o.connections);
        std::exit(1);
    }
    std::vector<int> fds;
    fds.reserve(static_cast<std::size_t>(o.connections));
    for (long i = 0; i < o.connections; ++i) {
        const int fd = bench::connect_loopback(static_cast<std::uint16_t>(o.port));
        bench::set_nodelay(fd);
        fds.push_back(fd);
    }
    return fds;
}

int run_idle(const options& o) {
    std::vector<int> fds = open_connections(o);
    std::printf("connected %zu\n", fds.size());
    std::fflush(stdout);
    char byte;
    while (::read(STDIN_FILENO, &byte, 1) > 0) {
    }
    for (int fd : fds) ::close(fd);
    return 0;
}

int run_echo(const options& o) {
    using clock = std::chrono::steady_clock;
    std::vector<int> fds = open_connections(o);
    const auto size = static_cast<std::size_t>(o.size);
    const std::string message(size, 'm');
    std::vector<char> buffer(size);
    // Invariant: received[i] < size is how much of connection i's current
    // echo has arrived; a message is in flight on every connection.
    std::vector<std::size_t> received(fds.size(), 0);

    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) bench::die("epoll_create1");
    const auto send_message = [&](int fd) {
        // The socket's send buffer is empty (the previous echo is back),
        // so a small message goes out whole.
        if (::send(fd, message.data(), size, MSG_NOSIGNAL) != static_cast<ssize_t>(size)) bench::die("send");
    };
    for (std::size_t i = 0; i < fds.size(); ++i) {
        bench::set_nonblocking(fds[i]);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        if (::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0) bench::die("epoll_ctl");
        send_message(fds[i]);
    }

    const clock::time_point start = clock::now();
    const clock::time_point measure_from = start + std::chrono::milliseconds(o.warmup_ms);
    const clock::time_point stop = measure_from + std::chrono::milliseconds(o.duration_ms);
    long long requests = 0;
    std::vector<epoll_event> events(256);
    for (;;) {
        const clock::time_point now = clock::now();
        if (now >= stop) break;
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
        if (n < 0) {
            if (errno == EINTR) continue;
            bench::die("epoll_wait");
        }
        const bool counting = clock::now() >= measure_from;
        for (int k = 0; k < n; ++k) {
            const std::size_t i = events[static_cast<std::size_t>(k)].data.u64;
            const ssize_t got = ::recv(fds[i], buffer.data(), size - received[i], 0);
            if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (got <= 0) {
                std::fprintf(stderr, "echo_load: connection %zu: %s\n", i,
                             got == 0 ? "closed by the server" : std::strerror(errno));
                return 1;
            }
            received[i] += static_cast<std::size_t>(got);
            if (received[i] < size) continue;
            received[i] = 0;
            if (counting) ++requests;
            send_message(fds[i]);
        }
    }
    const double seconds = std::chrono::duration<double>(clock::now() - measure_from).count();
    std::printf("requests %lld seconds %.6f\n", requests, seconds);
    std::fflush(stdout);
    for (int fd : fds) ::close(fd);
    ::close(ep);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    return o.idle ? run_idle(o) : run_echo(o);
}
