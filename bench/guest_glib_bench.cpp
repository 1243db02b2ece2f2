// trellis as a guest of a GLib main context, against floors measured in the
// same run:
//
//  * I/O wake cycle: an outside thread writes a byte; a task waiting for it
//    to be readable wakes, reads it and writes one back; the outside thread
//    reads that and starts the next cycle. The floor is the same cycle built
//    by hand on GLib: a thread blocked in epoll_wait posts to the context
//    (g_main_context_invoke from a non-owner thread queues an idle source),
//    and the callback reads, writes back and re-arms the one-shot epoll
//    interest. Both involve the same two thread hops.
//  * socketpair ping-pong with an echo thread, the task on the GLib loop,
//    against a raw epoll ping-pong on the main thread.
//  * 100,000 checkpoints in a guest run on GLib, against the same under
//    trellis::run. CPU-bound, so compared in CPU time of the whole process
//    (the guest run's worker thread included), which time spent waiting for
//    a core on a shared machine does not skew.
//
// Each benchmark runs on a private context pushed as the thread-default one.
//
// Each trellis benchmark runs twice: with the worker-thread I/O wait (the
// default; the plain name) and with host-native waiting
// (run_options::guest_io = host_native; suffix _native), where the host
// loop watches the run's epoll fd itself. Native ping-pong has its own
// target against the raw epoll floor (<= 1.3x); native against worker is
// shown for each benchmark as an INFO line.

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <trellis/glib.hpp>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"
#include "guest_bench_support.hpp"

namespace {

using bench::mode_options;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::abort();
}

void send_byte(int fd) {
    const char byte = 'x';
    if (::write(fd, &byte, 1) != 1) die("write");
}

void receive_byte(int fd) {
    char byte;
    if (::read(fd, &byte, 1) != 1) die("read");
}

// A private context, the thread-default one while it lives.
class private_context {
public:
    private_context() : context_(g_main_context_new()) { g_main_context_push_thread_default(context_); }
    ~private_context() {
        g_main_context_pop_thread_default(context_);
        g_main_context_unref(context_);
    }
    private_context(const private_context&) = delete;
    private_context& operator=(const private_context&) = delete;
    GMainContext* get() const noexcept { return context_; }

private:
    GMainContext* context_;
};

// ---- I/O wake cycle. ----

// Two socketpairs: the outside thread writes `to_loop` and reads
// `from_loop`, cycle after cycle, until shut down. loop_in() / loop_out()
// are the loop's (non-blocking) ends.
class wake_cycle {
public:
    wake_cycle() {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, to_loop_) < 0) die("socketpair");
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, from_loop_) < 0) die("socketpair");
        if (::fcntl(to_loop_[0], F_SETFL, O_NONBLOCK) < 0) die("fcntl");
        outside_ = std::thread([this] {
            char byte = 'x';
            do {
                if (::write(to_loop_[1], &byte, 1) != 1) return;
            } while (::read(from_loop_[1], &byte, 1) == 1);
        });
    }
    ~wake_cycle() {
        ::shutdown(from_loop_[0], SHUT_RDWR);  // the outside thread's read returns 0
        outside_.join();
        for (int fd : {to_loop_[0], to_loop_[1], from_loop_[0], from_loop_[1]}) ::close(fd);
    }
    wake_cycle(const wake_cycle&) = delete;
    wake_cycle& operator=(const wake_cycle&) = delete;
    int loop_in() const noexcept { return to_loop_[0]; }
    int loop_out() const noexcept { return from_loop_[0]; }

private:
    int to_loop_[2];
    int from_loop_[2];
    std::thread outside_;
};

void floor_glib_io_wake_cycle(benchmark::State& state) {
    private_context context;
    wake_cycle cycle;
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    const int stop = ::eventfd(0, EFD_CLOEXEC);
    if (ep < 0 || stop < 0) die("epoll_create1/eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.fd = cycle.loop_in();
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, cycle.loop_in(), &ev) < 0) die("epoll_ctl");
    epoll_event stop_ev{};
    stop_ev.events = EPOLLIN;
    stop_ev.data.fd = stop;
    if (::epoll_ctl(ep, EPOLL_CTL_ADD, stop, &stop_ev) < 0) die("epoll_ctl");

    struct shared {
        int ep;
        epoll_event rearm;
        int in, out;
        bool cycle_done = false;
    } s{ep, ev, cycle.loop_in(), cycle.loop_out()};
    std::thread poller([&] {
        for (;;) {
            epoll_event got;
            if (::epoll_wait(ep, &got, 1, -1) != 1) continue;
            if (got.data.fd == stop) return;
            g_main_context_invoke(context.get(), [](gpointer data) -> gboolean {
                auto* s = static_cast<shared*>(data);
                receive_byte(s->in);
                send_byte(s->out);
                if (::epoll_ctl(s->ep, EPOLL_CTL_MOD, s->in, &s->rearm) < 0) die("epoll_ctl");
                s->cycle_done = true;
                return G_SOURCE_REMOVE;
            }, &s);
        }
    });
    for (auto _ : state) {
        while (!s.cycle_done) g_main_context_iteration(context.get(), TRUE);
        s.cycle_done = false;
    }
    const std::uint64_t one = 1;
    if (::write(stop, &one, sizeof one) != sizeof one) die("write");
    poller.join();
    while (g_main_context_iteration(context.get(), FALSE)) {}  // a last queued callback, if any
    ::close(ep);
    ::close(stop);
}
BENCHMARK(floor_glib_io_wake_cycle)->UseRealTime();

void trellis_glib_io_wake_cycle_in(benchmark::State& state, trellis::guest_io_mode mode) {
    private_context context;
    wake_cycle cycle;
    trellis::glib::run(mode_options(mode), [&]() -> trellis::task<> {
        for (auto _ : state) {
            co_await trellis::wait_readable(cycle.loop_in());
            receive_byte(cycle.loop_in());
            send_byte(cycle.loop_out());
        }
    });
}
void trellis_glib_io_wake_cycle(benchmark::State& state) {
    trellis_glib_io_wake_cycle_in(state, trellis::guest_io_mode::worker_thread);
}
BENCHMARK(trellis_glib_io_wake_cycle)->UseRealTime();
void trellis_glib_io_wake_cycle_native(benchmark::State& state) {
    trellis_glib_io_wake_cycle_in(state, trellis::guest_io_mode::host_native);
}
BENCHMARK(trellis_glib_io_wake_cycle_native)->UseRealTime();

// ---- socketpair ping-pong. ----

// A connected socketpair whose far end is served by a thread that echoes
// every byte back; the near end, fd(), is non-blocking.
class echo_pair {
public:
    echo_pair() {
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) < 0) die("socketpair");
        if (::fcntl(fds_[0], F_SETFL, O_NONBLOCK) < 0) die("fcntl");
        echo_ = std::thread([fd = fds_[1]] {
            char byte;
            while (::read(fd, &byte, 1) == 1)
                if (::write(fd, &byte, 1) != 1) return;
        });
    }
    ~echo_pair() {
        ::shutdown(fds_[0], SHUT_RDWR);
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
        while (::epoll_wait(ep, &got, 1, -1) != 1) {}
        receive_byte(pair.fd());
    }
    ::close(ep);
}
BENCHMARK(floor_raw_epoll_ping_pong)->UseRealTime();

void trellis_glib_ping_pong_in(benchmark::State& state, trellis::guest_io_mode mode) {
    private_context context;
    echo_pair pair;
    trellis::glib::run(mode_options(mode), [&state, fd = pair.fd()]() -> trellis::task<> {
        for (auto _ : state) {
            send_byte(fd);
            co_await trellis::wait_readable(fd);
            receive_byte(fd);
        }
    });
}
void trellis_glib_ping_pong(benchmark::State& state) {
    trellis_glib_ping_pong_in(state, trellis::guest_io_mode::worker_thread);
}
BENCHMARK(trellis_glib_ping_pong)->UseRealTime();
void trellis_glib_ping_pong_native(benchmark::State& state) {
    trellis_glib_ping_pong_in(state, trellis::guest_io_mode::host_native);
}
BENCHMARK(trellis_glib_ping_pong_native)->UseRealTime();

// ---- 100,000 checkpoints. ----

constexpr int checkpoints_per_run = 100'000;

trellis::task<> many_checkpoints() {
    for (int i = 0; i < checkpoints_per_run; ++i) co_await trellis::checkpoint();
}

void floor_run_100k_checkpoints(benchmark::State& state) {
    for (auto _ : state) trellis::run(many_checkpoints);
}
BENCHMARK(floor_run_100k_checkpoints)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);

void trellis_glib_100k_checkpoints_in(benchmark::State& state, trellis::guest_io_mode mode) {
    private_context context;
    for (auto _ : state) trellis::glib::run(mode_options(mode), many_checkpoints);
}
void trellis_glib_100k_checkpoints(benchmark::State& state) {
    trellis_glib_100k_checkpoints_in(state, trellis::guest_io_mode::worker_thread);
}
BENCHMARK(trellis_glib_100k_checkpoints)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);
void trellis_glib_100k_checkpoints_native(benchmark::State& state) {
    trellis_glib_100k_checkpoints_in(state, trellis::guest_io_mode::host_native);
}
BENCHMARK(trellis_glib_100k_checkpoints_native)->MeasureProcessCPUTime()->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv, bench::guest_targets("glib"));
}
