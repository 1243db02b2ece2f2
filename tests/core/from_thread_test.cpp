// trellis::from_thread: calling into a run from worker threads and from
// threads trellis knows nothing about.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "../guest/queue_host.hpp"

using namespace std::chrono_literals;
namespace to_thread = trellis::to_thread;
namespace from_thread = trellis::from_thread;
using trellis::task;

TRELLIS_TEST(FromThread, RunSyncFromAWorkerNeedsNoToken) {
    const auto run_thread = std::this_thread::get_id();
    const auto ran_on = co_await to_thread::run_sync(
        [] { return from_thread::run_sync([] { return std::this_thread::get_id(); }); });
    EXPECT_EQ(ran_on, run_thread);
}

TRELLIS_TEST(FromThread, RunSyncPassesArgumentsAndReturnsTheValue) {
    const int value = co_await to_thread::run_sync([] { return from_thread::run_sync([](int a) { return a + 1; }, 41); });
    EXPECT_EQ(value, 42);
}

TRELLIS_TEST(FromThread, RunSyncRethrowsTheFunctionsErrorInTheThread) {
    const std::string message = co_await to_thread::run_sync([] {
        try {
            from_thread::run_sync([] { throw std::runtime_error("boom on the run's thread"); });
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    });
    EXPECT_EQ(message, "boom on the run's thread");
}

TRELLIS_TEST(FromThread, RunSyncFromAWorkerRunsInTheWaitingTask) {
    const auto me = trellis::lowlevel::current_task();
    const auto ran_in = co_await to_thread::run_sync([] {
        return from_thread::run_sync([] { return trellis::lowlevel::current_task(); });
    });
    EXPECT_EQ(ran_in, me);
}

TRELLIS_TEST(FromThread, RunFromAWorkerNeedsNoToken) {
    const int value = co_await to_thread::run_sync([] {
        return from_thread::run(
            [](int a) -> task<int> {
                co_await trellis::sleep(1ms);
                co_return a * 2;
            },
            21);
    });
    EXPECT_EQ(value, 42);
}

TRELLIS_TEST(FromThread, RunRethrowsTheAsyncFunctionsErrorInTheThread) {
    const std::string message = co_await to_thread::run_sync([] {
        try {
            from_thread::run([]() -> task<> {
                co_await trellis::checkpoint();
                throw std::runtime_error("async boom");
            });
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    });
    EXPECT_EQ(message, "async boom");
}

TRELLIS_TEST(FromThread, RunFromAnAbandoningWorkerRunsAsASystemTask) {
    const auto me = trellis::lowlevel::current_task();
    const auto root = trellis::lowlevel::current_root_task();
    const auto [ran_in, parent] = co_await to_thread::run_sync({.abandon_on_cancel = true}, [] {
        return from_thread::run([]() -> task<std::pair<trellis::lowlevel::task_handle, trellis::lowlevel::task_handle>> {
            auto self = trellis::lowlevel::current_task();
            co_return std::pair(self, self.parent_nursery()->parent_task());
        });
    });
    EXPECT_NE(ran_in, me);
    EXPECT_EQ(parent, root);
}

TRELLIS_TEST(FromThread, CancelledCallersRunCancelsTheAsyncFunctionInTheWorker) {
    std::atomic<bool> function_started{false};
    std::atomic<bool> function_finished{false};
    trellis::cancel_scope scope;
    co_await scope.run([&]() -> task<> {
        co_await to_thread::run_sync([&] {
            from_thread::run_sync([&] { scope.cancel(); });
            // The waiting task is cancelled now; the async function runs in
            // it, so its first checkpoint raises cancelled, which comes out
            // here and (uncaught) back out of run_sync, to the scope.
            from_thread::run([&]() -> task<> {
                function_started = true;
                co_await trellis::sleep_forever();
                function_finished = true;
            });
        });
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_TRUE(function_started.load());
    EXPECT_FALSE(function_finished.load());
}

TRELLIS_TEST(FromThread, RunSyncWithATokenWorksFromAPlainThread) {
    const auto run_thread = std::this_thread::get_id();
    auto tok = trellis::current_token();
    trellis::event done;
    std::thread::id ran_on;
    int value = 0;
    std::thread other([&] {
        value = from_thread::run_sync(tok, [&] {
            ran_on = std::this_thread::get_id();
            done.set();
            return 5;
        });
    });
    co_await done.wait();
    co_await to_thread::run_sync([&] { other.join(); });
    EXPECT_EQ(ran_on, run_thread);
    EXPECT_EQ(value, 5);
}

TRELLIS_TEST(FromThread, RunWithATokenWorksFromAPlainThread) {
    auto tok = trellis::current_token();
    int value = 0;
    std::thread other([&] {
        value = from_thread::run(tok, []() -> task<int> {
            co_await trellis::sleep(1ms);
            co_return 9;
        });
    });
    co_await to_thread::run_sync([&] { other.join(); });
    EXPECT_EQ(value, 9);
}

TRELLIS_TEST(FromThread, RunSyncOnTheRunsThreadRaisesRunError) {
    EXPECT_THROW(from_thread::run_sync(trellis::current_token(), [] { return 1; }), trellis::run_error);
    co_return;
}

TRELLIS_TEST(FromThread, RunOnTheRunsThreadRaisesRunError) {
    EXPECT_THROW(from_thread::run(trellis::current_token(), []() -> task<> { co_return; }), trellis::run_error);
    co_return;
}

TEST(FromThread, WithoutATokenOutsideAWorkerRaisesRunError) {
    bool raised = false;
    std::thread other([&] {
        try {
            from_thread::run_sync([] {});
        } catch (const trellis::run_error&) {
            raised = true;
        }
    });
    other.join();
    EXPECT_TRUE(raised);
}

TEST(FromThread, RunSyncAfterTheRunHasFinishedRaisesRunError) {
    std::optional<trellis::token> tok;
    trellis::run([&]() -> task<> {
        tok = trellis::current_token();
        co_return;
    });
    bool ran = false;
    EXPECT_THROW(from_thread::run_sync(*tok, [&] { ran = true; }), trellis::run_error);
    EXPECT_FALSE(ran);
}

TEST(FromThread, RunAfterTheRunHasFinishedRaisesRunError) {
    std::optional<trellis::token> tok;
    trellis::run([&]() -> task<> {
        tok = trellis::current_token();
        co_return;
    });
    EXPECT_THROW(from_thread::run(*tok, []() -> task<> { co_return; }), trellis::run_error);
}

TEST(FromThread, RunEndingWhileRunWaitsGivesTheThreadRunFinishedError) {
    std::string error;
    std::thread other;
    trellis::run([&]() -> task<> {
        trellis::event started;
        auto tok = trellis::current_token();
        other = std::thread([&error, &started, tok] {
            try {
                from_thread::run(tok, [&started]() -> task<> {
                    started.set();
                    co_await trellis::sleep_forever();
                });
                error = "no error";
            } catch (const trellis::run_finished_error& e) {
                error = e.what();
            }
        });
        co_await started.wait();
        // The main task returns with the async function still running as a
        // system task: the run cancels it, and the thread must hear of it.
    });
    other.join();
    EXPECT_NE(error.find("shutting down"), std::string::npos) << error;
}

TEST(FromThread, RunInFlightWhenAGuestRunIsAbandonedGetsRunFinishedError) {
    trellis::testing::queue_host loop;
    std::atomic<bool> started{false};
    std::string error;
    std::thread caller;
    auto run = trellis::start_guest_run(loop.host(), [](trellis::outcome<void>) {}, [&]() -> task<> {
        auto tok = trellis::current_token();
        caller = std::thread([&started, &error, tok] {
            try {
                from_thread::run(tok, [&started]() -> task<> {
                    started = true;
                    co_await trellis::sleep_forever();
                });
                error = "no error";
            } catch (const trellis::run_finished_error& e) {
                error = e.what();
            }
        });
        co_await trellis::sleep_forever();
    });
    EXPECT_TRUE(loop.run_until([&] { return started.load(); }, 5s));
    // The host loop goes away with the async function still running: its
    // task is destroyed unfinished, and the caller must not wait forever.
    ::testing::internal::CaptureStderr();  // the abandonment warning
    loop.destroy();
    run.host_gone();
    (void)::testing::internal::GetCapturedStderr();
    caller.join();
    EXPECT_NE(error.find("ended before"), std::string::npos) << error;
}
