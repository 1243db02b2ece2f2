// The echo server of echo_server_bench (serve_tcp, one task per
// connection, 1,000 connections from the echo_load generator process,
// 64-byte messages; see echo_workload.hpp) run as a guest of the Qt event
// loop (trellis::qt::run in a QCoreApplication), against the same server
// under trellis::run, in the same program.
//
// A guest run hands each blocking I/O wait to a helper thread and gets the
// result back as a posted Qt event, so a step costs two thread hops more
// than under trellis::run when nothing is ready yet; under this load there
// is usually something ready, and a guest step polls epoll on the Qt
// thread first. The figure is requests per second as the generator counts
// them; one 2-second session per repetition.

#include <QCoreApplication>

#include <trellis/qt.hpp>

#include "echo_workload.hpp"

namespace {

void trellis_run_echo_server(benchmark::State& state) {
    for (auto _ : state) bench::record(state, trellis::run(bench::trellis_echo_session));
}
BENCHMARK(trellis_run_echo_server)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

void trellis_qt_guest_echo_server(benchmark::State& state) {
    for (auto _ : state) bench::record(state, trellis::qt::run(bench::trellis_echo_session));
}
BENCHMARK(trellis_qt_guest_echo_server)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
    int qt_argc = 1;
    QCoreApplication app(qt_argc, argv);
    bench::raise_fd_limit(4096);  // a little over 1,000 fds on the server side
    return bench::run_main(
        argc, argv,
        {bench::target::counter_ratio("qt guest echo server, 1,000 connections", "trellis_run_echo_server",
                                      "trellis_qt_guest_echo_server", "requests_per_s", 0.7, "req/s")},
        {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
         "--benchmark_display_aggregates_only=true"});
}
