// 1 GiB through a loopback TCP connection per iteration, against its floor.
//
//  * floor: two threads, blocking sockets: one write()s 64 KiB chunks, the
//    other read()s with a 64 KiB buffer until it has the whole GiB.
//  * trellis (the target): two tasks in one trellis::run, each end a
//    socket_stream: one send_all()s 64 KiB chunks, the other
//    receive_some()s into a 64 KiB buffer.
//  * for information: the same two tasks, each in its own trellis::run on
//    its own thread (the shape of the floor: both copies can proceed on
//    both cores at once).
//
// One iteration per repetition (1 GiB is large enough to time alone);
// wall-clock time. The summary compares throughputs (floor time / trellis
// time, higher is better). MiB_per_s is reported for each.

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <trellis/net.hpp>
#include <trellis/trellis.hpp>
#include <vector>

#include "bench_support.hpp"
#include "net_bench_support.hpp"

namespace {

using bench::die;

constexpr std::size_t total_bytes = std::size_t{1} << 30;
constexpr std::size_t chunk_bytes = std::size_t{64} << 10;

// Times each iteration of `transfer_one_gib` and reports MiB_per_s.
template <class Transfer>
void measure(benchmark::State& state, Transfer transfer_one_gib) {
    double seconds = 0;
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        transfer_one_gib();
        seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    state.counters["MiB_per_s"] =
        static_cast<double>(state.iterations()) * static_cast<double>(total_bytes >> 20) / seconds;
}

void floor_two_threads_blocking_1gib(benchmark::State& state) {
    auto [sender, receiver] = bench::loopback_tcp_pair();
    std::vector<char> out(chunk_bytes, 'x');
    std::vector<char> in(chunk_bytes);
    measure(state, [&, s = sender, r = receiver] {
        std::thread writer([&out, s] {
            for (std::size_t sent = 0; sent < total_bytes;) {
                const ssize_t n = ::write(s, out.data(), out.size());
                if (n <= 0) die("write");
                sent += static_cast<std::size_t>(n);
            }
        });
        for (std::size_t got = 0; got < total_bytes;) {
            const ssize_t n = ::read(r, in.data(), in.size());
            if (n <= 0) die("read");
            got += static_cast<std::size_t>(n);
        }
        writer.join();
    });
    ::close(sender);
    ::close(receiver);
}
BENCHMARK(floor_two_threads_blocking_1gib)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

trellis::task<> send_gib(trellis::socket_stream& stream) {
    const std::vector<std::byte> out(chunk_bytes, std::byte{'x'});
    for (std::size_t sent = 0; sent < total_bytes; sent += out.size()) co_await stream.send_all(out);
}

trellis::task<> receive_gib(trellis::socket_stream& stream) {
    std::vector<std::byte> in(chunk_bytes);
    for (std::size_t got = 0; got < total_bytes;) {
        const std::size_t n = co_await stream.receive_some(in);
        if (n == 0) die("receive_some: early end of file");
        got += n;
    }
}

trellis::task<> send_and_receive_gib(trellis::socket_stream& sender, trellis::socket_stream& receiver) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(send_gib, std::ref(sender));
        n.start_soon(receive_gib, std::ref(receiver));
        co_return;
    });
}

void trellis_two_tasks_one_run_1gib(benchmark::State& state) {
    auto [s, r] = bench::loopback_tcp_pair();
    trellis::socket_stream sender(trellis::net::socket::from_fd(s));
    trellis::socket_stream receiver(trellis::net::socket::from_fd(r));
    measure(state, [&] { trellis::run(send_and_receive_gib, std::ref(sender), std::ref(receiver)); });
}
BENCHMARK(trellis_two_tasks_one_run_1gib)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

void trellis_two_runs_two_threads_1gib(benchmark::State& state) {
    auto [s, r] = bench::loopback_tcp_pair();
    trellis::socket_stream sender(trellis::net::socket::from_fd(s));
    trellis::socket_stream receiver(trellis::net::socket::from_fd(r));
    measure(state, [&] {
        std::thread writer([&sender] { trellis::run(send_gib, std::ref(sender)); });
        trellis::run(receive_gib, std::ref(receiver));
        writer.join();
    });
}
BENCHMARK(trellis_two_runs_two_threads_1gib)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(
        argc, argv,
        {bench::target::speed_ratio("1 GiB over loopback TCP, two tasks", "floor_two_threads_blocking_1gib",
                                    "trellis_two_tasks_one_run_1gib", 0.9),
         bench::target::counter_comparison("1 GiB over loopback TCP, two runs on two threads",
                                           "floor_two_threads_blocking_1gib", "trellis_two_runs_two_threads_1gib",
                                           "MiB_per_s", "MiB/s")});
}
