// Cancelling a scope that holds 10,000 sleeping tasks: the time from
// cancel() until every task has exited and the nursery has returned,
// divided by the number of tasks. No floor: the target is absolute.
//
// Each iteration starts the tasks (untimed), lets them all fall asleep on a
// one-hour timer, then times cancel() through the end of open_nursery. The
// cost covers delivering the cancellation to each task (its abort callback
// disarms its timer), resuming it with `cancelled` (one C++ throw per task,
// the bulk of the cost), destroying it and collecting its error in the
// nursery.
//
// The timed figure is the thread's CPU time, so that the result holds on a
// shared machine (everything happens on this one thread; nothing waits).
// Wall-clock time is reported too, as the wall_ns_per_task counter.

#include <time.h>

#include <chrono>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace {

constexpr int task_count = 10'000;

double thread_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

trellis::task<> sleeper() { co_await trellis::sleep(std::chrono::hours(1)); }

void trellis_cancel_10000_sleepers(benchmark::State& state) {
    double total_cpu = 0, total_wall = 0;
    trellis::run([&]() -> trellis::task<> {
        for (auto _ : state) {
            double cpu_start = 0;
            std::chrono::steady_clock::time_point wall_start;
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                for (int i = 0; i < task_count; ++i) n.start_soon(sleeper);
                // The children run (and fall asleep) in the next batch, before
                // this task's own checkpoint returns.
                co_await trellis::checkpoint();
                wall_start = std::chrono::steady_clock::now();
                cpu_start = thread_cpu_seconds();
                n.cancel_scope().cancel();
            });
            const double cpu = thread_cpu_seconds() - cpu_start;
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
            state.SetIterationTime(cpu);
            total_cpu += cpu;
            total_wall += wall;
        }
    });
    const double tasks = static_cast<double>(task_count) * static_cast<double>(state.iterations());
    state.counters["ns_per_task"] = total_cpu * 1e9 / tasks;
    state.counters["wall_ns_per_task"] = total_wall * 1e9 / tasks;
}
BENCHMARK(trellis_cancel_10000_sleepers)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv,
                           {bench::target::time_per("cancel 10,000 sleeping tasks, per task (cpu time)",
                                                    "trellis_cancel_10000_sleepers", task_count, 3000)});
}
