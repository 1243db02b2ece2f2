// Starting a trivial child and waiting for it, against its floor: creating,
// resuming and destroying a bare coroutine.
//
// trellis_start_soon_and_join is the target's measure: each iteration opens
// a nursery, start_soon()s one child that returns at once, and leaves the
// nursery once the child has finished (the child runs in the next
// scheduling batch; the parent wakes in the one after).
//
// trellis_start_soon_batch_of_1000 is for information: the per-child cost
// when 1,000 children share one nursery, which spreads the nursery's own
// cost.

#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace {

// noinline: if the compiler could see where the coroutine is created, it
// might allocate the frame on the caller's stack (coroutine heap elision),
// and the floor would not include the allocation every trellis task pays.
[[gnu::noinline]] bench::bare_coroutine trivial_bare() { co_return; }

void floor_create_resume_destroy_coroutine(benchmark::State& state) {
    for (auto _ : state) {
        bench::bare_coroutine c = trivial_bare();
        c.handle.resume();
        benchmark::DoNotOptimize(c.handle.done());
    }
}
BENCHMARK(floor_create_resume_destroy_coroutine);

trellis::task<> trivial_child() { co_return; }

void trellis_start_soon_and_join(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        for (auto _ : state) {
            co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
                n.start_soon(trivial_child);
                co_return;
            });
        }
    });
}
BENCHMARK(trellis_start_soon_and_join);

void trellis_start_soon_batch_of_1000(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        while (state.KeepRunningBatch(1000)) {
            co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
                for (int i = 0; i < 1000; ++i) n.start_soon(trivial_child);
                co_return;
            });
        }
    });
}
BENCHMARK(trellis_start_soon_batch_of_1000);

}  // namespace

int main(int argc, char** argv) {
    using bench::target;
    return bench::run_main(
        argc, argv,
        {target::ratio("start_soon + run + join", "floor_create_resume_destroy_coroutine",
                       "trellis_start_soon_and_join", 10, target::clock::cpu),
         target::ratio("start_soon in batches of 1000 (info)", "floor_create_resume_destroy_coroutine",
                       "trellis_start_soon_batch_of_1000", 10, target::clock::cpu)});
}
