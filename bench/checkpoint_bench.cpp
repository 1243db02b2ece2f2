// co_await trellis::checkpoint() with nothing else runnable, against its
// floor: a bare coroutine that yields through a hand-made run queue.
//
// Both loops do one suspension, one trip through a run queue and one resume
// per iteration. trellis additionally checks for cancellation and goes
// through a full scheduling step (deadlines, I/O poll decision, next wait)
// between batches, since a lone task forms a batch by itself.

#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace {

bench::bare_coroutine yield_loop(benchmark::State& state, bench::bare_run_queue& queue) {
    for (auto _ : state) co_await queue.yield();
}

void floor_yield_through_run_queue(benchmark::State& state) {
    bench::bare_run_queue queue;
    auto spinner = yield_loop(state, queue);
    queue.push(spinner.handle);
    queue.run();
}
BENCHMARK(floor_yield_through_run_queue);

void trellis_checkpoint(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        for (auto _ : state) co_await trellis::checkpoint();
    });
}
BENCHMARK(trellis_checkpoint);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv,
                           {bench::target::ratio("checkpoint", "floor_yield_through_run_queue",
                                                 "trellis_checkpoint", 2.5,
                                                 bench::target::clock::cpu)});
}
