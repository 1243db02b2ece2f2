// A tour of trellis core in one short console program.
//
// It opens a nursery with a few children, cuts a slow task short with
// move_on_after, and cancels a task that would otherwise wait forever,
// printing each step with the time since the start. It uses the real clock
// and finishes in about half a second.
#include <trellis/trellis.hpp>

#include <chrono>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

trellis::time_point start_time;

// Prints a line prefixed with the milliseconds elapsed since the start.
void say(const std::string& what) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(trellis::current_time() - start_time);
    std::printf("[%4lld ms] %s\n", static_cast<long long>(ms.count()), what.c_str());
    std::fflush(stdout);
}

// A child that works for `d`, then reports.
trellis::task<> worker(std::string name, trellis::duration d) {
    say(name + ": starting, will take " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms");
    co_await trellis::sleep(d);
    say(name + ": done");
}

// A task that would take two seconds, run under a 150 ms timeout.
trellis::task<> slow_download() {
    say("download: starting, needs 2000 ms");
    co_await trellis::sleep(2s);
    say("download: finished (never printed: the timeout cuts it short)");
}

// A task that waits for something that never comes, until it is cancelled.
// The cancellation arrives as trellis::cancelled at its checkpoint; the
// catch-and-rethrow shows it passing (code must always rethrow it).
trellis::task<> listener(trellis::event& ready) {
    say("listener: waiting for messages (forever)");
    ready.set();
    try {
        co_await trellis::sleep_forever();
    } catch (const trellis::cancelled&) {
        say("listener: cancelled at its checkpoint, cleaning up");
        throw;
    }
}

trellis::task<> main_task() {
    start_time = trellis::current_time();
    say("main: opening a nursery");

    co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
        // Three children that run concurrently: the nursery waits for all.
        n.start_soon(worker, "worker A", 100ms);
        n.start_soon(worker, "worker B", 200ms);
        n.start_soon(worker, "worker C", 50ms);

        // A timeout: move_on_after returns false when the deadline hit.
        n.start_soon([]() -> trellis::task<> {
            bool finished = co_await trellis::move_on_after(150ms, slow_download);
            say(finished ? "timeout: download finished in time"
                         : "timeout: download cut short after 150 ms, moving on");
        });

        // A task that is cancelled from outside through its own cancel scope.
        n.start_soon([]() -> trellis::task<> {
            trellis::event ready;
            trellis::cancel_scope scope;
            co_await trellis::open_nursery([&](trellis::nursery& inner) -> trellis::task<> {
                inner.start_soon([&]() -> trellis::task<> { co_await scope.run(listener, std::ref(ready)); });
                co_await ready.wait();
                co_await trellis::sleep(250ms);
                say("supervisor: cancelling the listener");
                scope.cancel();
            });
            say(std::string("supervisor: the listener's scope caught the cancellation: ") +
                (scope.cancelled_caught() ? "yes" : "no"));
        });
        co_return;
    });
    say("main: nursery closed, every child has finished");

    // fail_after turns a timeout into an error.
    try {
        co_await trellis::fail_after(50ms, []() -> trellis::task<> { co_await trellis::sleep(1s); });
    } catch (const trellis::too_slow_error& e) {
        say(std::string("main: fail_after raised: ") + e.what());
    }
    say("main: all done");
}

}  // namespace

int main() {
    try {
        trellis::run(main_task);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "demo failed: %s\n", e.what());
        return 1;
    }
    return 0;
}
