// Synchronization primitives without contention, against their floor: a
// bare co_await trellis::checkpoint() in the same run.
//
// An uncontended acquire is a checkpoint (other tasks may run, a cancelled
// scope raises), so a checkpoint is the least it can cost; the target says
// the lock's own bookkeeping (the cancellation check, the owner, the hand-
// back in release) may add at most half of that. The other lines are for
// information (the capacity limiter, which records who borrows, has no
// target).

#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace {

void floor_checkpoint(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        for (auto _ : state) co_await trellis::checkpoint();
    });
}
BENCHMARK(floor_checkpoint);

void trellis_lock_acquire_release(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        trellis::lock l;
        for (auto _ : state) {
            co_await l.acquire();
            l.release();
        }
    });
}
BENCHMARK(trellis_lock_acquire_release);

void trellis_lock_hold(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        trellis::lock l;
        for (auto _ : state) auto held = co_await l.hold();
    });
}
BENCHMARK(trellis_lock_hold);

void trellis_semaphore_acquire_release(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        trellis::semaphore s(1);
        for (auto _ : state) {
            co_await s.acquire();
            s.release();
        }
    });
}
BENCHMARK(trellis_semaphore_acquire_release);

void trellis_capacity_limiter_acquire_release(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        trellis::capacity_limiter limiter(1);
        for (auto _ : state) {
            co_await limiter.acquire();
            limiter.release();
        }
    });
}
BENCHMARK(trellis_capacity_limiter_acquire_release);

}  // namespace

int main(int argc, char** argv) {
    using bench::target;
    return bench::run_main(
        argc, argv,
        {target::ratio("lock acquire + release", "floor_checkpoint", "trellis_lock_acquire_release", 1.5,
                       target::clock::cpu),
         target::ratio("lock hold() guard (info)", "floor_checkpoint", "trellis_lock_hold", 1.5, target::clock::cpu),
         target::ratio("semaphore acquire + release (info)", "floor_checkpoint", "trellis_semaphore_acquire_release",
                       1.5, target::clock::cpu)});
}
