// Memory channels between two tasks of one run.
//
// Ping-pong: one task sends a value and waits for the answer, the other
// answers every value it receives; one iteration is a round trip. The
// floor is the same ping-pong done with two trellis::events per round trip
// (each side sets the other's event and waits on its own), which is the
// least any hand-off between two tasks costs in trellis: a channel adds the
// value, its queues and the checkpoint a send or receive that does not
// block must still make.
//
// Throughput: one task sends as fast as it can into a buffer of 100, the
// other receives; one iteration is one value.

#include <optional>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace {

void floor_event_ping_pong(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        // An event stays set once set, so each waiter replaces its own
        // event with a fresh one after waking (the setter only sets the
        // other side's event after that, so it never sets a stale one).
        std::optional<trellis::event> ping(std::in_place);
        std::optional<trellis::event> pong(std::in_place);
        bool done = false;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                for (;;) {
                    co_await ping->wait();
                    ping.emplace();
                    if (done) co_return;
                    pong->set();
                }
            });
            for (auto _ : state) {
                ping->set();
                co_await pong->wait();
                pong.emplace();
            }
            done = true;
            ping->set();
        });
    });
}
BENCHMARK(floor_event_ping_pong);

void channel_ping_pong(benchmark::State& state, std::size_t buffer) {
    trellis::run([&state, buffer]() -> trellis::task<> {
        auto there = trellis::open_memory_channel<int>(buffer);
        auto back = trellis::open_memory_channel<int>(buffer);
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                while (auto v = co_await there.receive.next()) co_await back.send.send(*v + 1);
            });
            int v = 0;
            for (auto _ : state) {
                co_await there.send.send(v);
                v = co_await back.receive.receive();
            }
            benchmark::DoNotOptimize(v);
            there.send.close();
        });
    });
}
// Two names rather than Arg(): the summary looks benchmarks up by name.
void trellis_channel_ping_pong_buffer_0(benchmark::State& state) { channel_ping_pong(state, 0); }
BENCHMARK(trellis_channel_ping_pong_buffer_0);
void trellis_channel_ping_pong_buffer_1(benchmark::State& state) { channel_ping_pong(state, 1); }
BENCHMARK(trellis_channel_ping_pong_buffer_1);

void trellis_channel_throughput(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        auto channel = trellis::open_memory_channel<int>(100);
        long long sum = 0;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                while (auto v = co_await channel.receive.next()) sum += *v;
            });
            int i = 0;
            for (auto _ : state) co_await channel.send.send(i++);
            channel.send.close();
        });
        benchmark::DoNotOptimize(sum);
    });
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(trellis_channel_throughput);

bench::target throughput_target() {
    auto t = bench::target::time_per("channel throughput, buffer 100", "trellis_channel_throughput", 1, 100);
    t.time = bench::target::clock::cpu;
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    using bench::target;
    return bench::run_main(
        argc, argv,
        {target::ratio("channel ping-pong, buffer 0", "floor_event_ping_pong", "trellis_channel_ping_pong_buffer_0", 1.5,
                       target::clock::cpu),
         target::ratio("channel ping-pong, buffer 1", "floor_event_ping_pong", "trellis_channel_ping_pong_buffer_1", 1.5,
                       target::clock::cpu),
         // 10 M values/s or more: at most 100 ns per value, in CPU time
         // like the ratios (one thread, never waiting for the kernel).
         throughput_target()});
}
