// Memory per sleeping task: the growth of the resident set while 1,000,000
// tasks sleep at once, divided by the number of tasks. No floor: the
// target is absolute.
//
// The figure covers everything a sleeping task holds: its outermost frame
// (which carries the scheduler's task record), the frame of its function
// with the sleep's timer, its slot in the deadline heap, the run queue's
// capacity it once needed, and malloc's overhead on all of it. RSS is read
// from /proc/self/status (VmRSS) just before the tasks are started and
// again while all of them sleep. One iteration, in a fresh process: memory
// that earlier work freed would otherwise be reused and hide the growth.

#include <trellis/trellis.hpp>

#include <chrono>

#include "bench_support.hpp"

namespace {

constexpr int task_count = 1'000'000;

trellis::task<> sleeper() { co_await trellis::sleep(std::chrono::hours(1)); }

void trellis_1000000_sleeping_tasks(benchmark::State& state) {
    long before = 0, during = 0;
    trellis::run([&]() -> trellis::task<> {
        for (auto _ : state) {
            before = bench::proc_status_bytes("VmRSS");
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                for (int i = 0; i < task_count; ++i) n.start_soon(sleeper);
                co_await trellis::checkpoint();  // now every task sleeps
                during = bench::proc_status_bytes("VmRSS");
                n.cancel_scope().cancel();
            });
        }
    });
    state.counters["bytes_per_task"] = static_cast<double>(during - before) / task_count;
    state.counters["rss_growth_MiB"] = static_cast<double>(during - before) / (1024.0 * 1024.0);
}
BENCHMARK(trellis_1000000_sleeping_tasks)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv,
                           {bench::target::counter("1,000,000 sleeping tasks", "trellis_1000000_sleeping_tasks",
                                                   "bytes_per_task", 512, "bytes/task of RSS growth")},
                           {"--benchmark_repetitions=1"});
}
