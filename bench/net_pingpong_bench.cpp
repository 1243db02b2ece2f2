// A one-byte ping-pong over a loopback TCP connection (TCP_NODELAY on both
// ends) with an echo thread on the far end, through trellis::socket_stream
// under trellis::run, against its floor: the same ping-pong on the same
// kind of connection driven by a raw epoll loop on the main thread.
//
// Per round trip the near end sends one byte, waits until the echo is
// readable and reads it. The floor's socket is non-blocking and stays
// registered (level-triggered) in an epoll set; it calls write, epoll_wait
// and read. trellis calls send_all and receive_some: each tries the system
// call first, and only the receive finds EAGAIN, arms a one-shot epoll
// interest, parks the task and runs a scheduling step. The echo thread does
// blocking reads and writes. Dominated by the two thread wake-ups, hence
// wall-clock time.

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <trellis/net.hpp>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"
#include "net_bench_support.hpp"

namespace {

using bench::die;

// A loopback TCP connection whose far end is served by a thread echoing
// every byte back with blocking calls. take_near() hands out the near end
// (blocking; the caller makes it non-blocking).
class tcp_echo {
public:
    tcp_echo() {
        auto [near, far] = bench::loopback_tcp_pair();
        near_ = near;
        far_ = far;
        echo_ = std::thread([fd = far_] {
            char byte;
            while (::read(fd, &byte, 1) == 1)
                if (::write(fd, &byte, 1) != 1) return;
        });
    }
    ~tcp_echo() {
        ::shutdown(far_, SHUT_RD);  // the echo thread's read returns 0
        echo_.join();
        ::close(far_);
        if (near_ >= 0) ::close(near_);
    }
    tcp_echo(const tcp_echo&) = delete;
    tcp_echo& operator=(const tcp_echo&) = delete;

    int near() const noexcept { return near_; }
    int take_near() noexcept { return std::exchange(near_, -1); }

private:
    int near_ = -1;
    int far_ = -1;
    std::thread echo_;
};

void floor_raw_epoll_tcp_ping_pong(benchmark::State& state) {
    tcp_echo echo;
    const int fd = echo.near();
    bench::set_nonblocking(fd);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    for (auto _ : state) {
        const char out = 'x';
        if (::write(fd, &out, 1) != 1) die("write");
        epoll_event got;
        int n;
        do {
            n = ::epoll_wait(ep, &got, 1, -1);
        } while (n < 0 && errno == EINTR);
        if (n != 1) die("epoll_wait");
        char in;
        if (::read(fd, &in, 1) != 1) die("read");
    }
    ::close(ep);
}
BENCHMARK(floor_raw_epoll_tcp_ping_pong)->UseRealTime();

trellis::task<> ping_pong(benchmark::State& state, trellis::socket_stream& stream) {
    const std::byte out[1] = {std::byte{'x'}};
    std::byte in[1];
    for (auto _ : state) {
        co_await stream.send_all(out);
        if (co_await stream.receive_some(in) != 1) die("receive_some");
    }
}

void trellis_socket_stream_ping_pong(benchmark::State& state) {
    tcp_echo echo;
    trellis::socket_stream stream(trellis::net::socket::from_fd(echo.take_near()));
    trellis::run(ping_pong, std::ref(state), std::ref(stream));
}
BENCHMARK(trellis_socket_stream_ping_pong)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv,
                           {bench::target::ratio("TCP socket_stream ping-pong", "floor_raw_epoll_tcp_ping_pong",
                                                 "trellis_socket_stream_ping_pong", 1.2)},
                           bench::latency_defaults());
}
