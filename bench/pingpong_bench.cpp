// A one-byte ping-pong over a socketpair with an echo thread, under
// trellis::run, against its floor: the same ping-pong driven by a raw epoll
// loop on the main thread, with the same echo thread.
//
// Per round trip, both sides write one byte, wait until the socket is
// readable and read the echo back. The floor keeps its fd registered
// (level-triggered) and calls only epoll_wait; trellis arms a one-shot
// interest per wait (epoll_ctl), blocks the task, runs a scheduling step,
// waits in epoll_wait and resumes the task. Round trips are dominated by
// the two thread wake-ups, hence wall-clock time.

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::abort();
}

// A connected socketpair whose far end is served by a thread that echoes
// every byte back with blocking reads and writes. The near end, fd(), is
// non-blocking.
class echo_pair {
public:
    echo_pair() {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) < 0) die("socketpair");
        if (::fcntl(fds_[0], F_SETFL, ::fcntl(fds_[0], F_GETFL) | O_NONBLOCK) < 0) die("fcntl");
        echo_ = std::thread([fd = fds_[1]] {
            char byte;
            while (::read(fd, &byte, 1) == 1)
                if (::write(fd, &byte, 1) != 1) return;
        });
    }
    ~echo_pair() {
        ::shutdown(fds_[0], SHUT_RDWR);  // the echo thread's read returns 0
        echo_.join();
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    echo_pair(const echo_pair&) = delete;
    echo_pair& operator=(const echo_pair&) = delete;

    int fd() const noexcept { return fds_[0]; }

private:
    int fds_[2];
    std::thread echo_;
};

void send_byte(int fd) {
    const char byte = 'x';
    if (::write(fd, &byte, 1) != 1) die("write");
}

void receive_byte(int fd) {
    char byte;
    if (::read(fd, &byte, 1) != 1) die("read");
}

void floor_raw_epoll_ping_pong(benchmark::State& state) {
    echo_pair pair;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = pair.fd();
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, pair.fd(), &ev) < 0) die("epoll_ctl");
    for (auto _ : state) {
        send_byte(pair.fd());
        epoll_event got;
        int n;
        do {
            n = ::epoll_wait(ep, &got, 1, -1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) die("epoll_wait");
        receive_byte(pair.fd());
    }
    ::close(ep);
}
BENCHMARK(floor_raw_epoll_ping_pong);

void trellis_ping_pong(benchmark::State& state) {
    echo_pair pair;
    trellis::run([&state, fd = pair.fd()]() -> trellis::task<> {
        for (auto _ : state) {
            send_byte(fd);
            co_await trellis::wait_readable(fd);
            receive_byte(fd);
        }
    });
}
BENCHMARK(trellis_ping_pong);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv,
                           {bench::target::ratio("socketpair ping-pong", "floor_raw_epoll_ping_pong",
                                                 "trellis_ping_pong", 1.25)},
                           bench::latency_defaults());
}
