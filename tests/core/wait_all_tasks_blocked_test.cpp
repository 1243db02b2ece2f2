// testing::wait_all_tasks_blocked: waking once everything else is stuck.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <array>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using trellis::testing::wait_all_tasks_blocked;

namespace {
using real_clock = std::chrono::steady_clock;
}

TRELLIS_TEST(WaitAllTasksBlocked, ReturnsOnlyAfterABusyTaskHasFinished) {
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            for (int i = 0; i < 10; ++i) co_await trellis::checkpoint();
            log.push_back("busy bee exhausted");
        });
        for (int i = 0; i < 2; ++i)
            n.start_soon([&]() -> trellis::task<> {
                co_await wait_all_tasks_blocked();
                log.push_back("quiet at last");
            });
        co_return;
    });
    EXPECT_EQ(log, (std::vector<std::string>{"busy bee exhausted", "quiet at last", "quiet at last"}));
}

TRELLIS_TEST(WaitAllTasksBlocked, ReturnsOnlyAfterAChainOfTasksPassingEventsHasSettled) {
    constexpr int links = 8;
    std::array<trellis::event, links> events;
    int passed = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 1; i < links; ++i)
            n.start_soon(
                [&](int me) -> trellis::task<> {
                    co_await events[static_cast<std::size_t>(me - 1)].wait();
                    co_await trellis::checkpoint();
                    ++passed;
                    events[static_cast<std::size_t>(me)].set();
                },
                i);
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(passed, 0);  // everyone is waiting for the first link
        events[0].set();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(passed, links - 1);
        EXPECT_TRUE(events[links - 1].is_set());
    });
}

TRELLIS_TEST(WaitAllTasksBlocked, ReturnsWhenNoOtherTaskExists) {
    co_await wait_all_tasks_blocked();
    co_await wait_all_tasks_blocked(1ms);
}

TRELLIS_TEST(WaitAllTasksBlocked, SmallerCushionWakesFirst) {
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            log.push_back("blink start");
            // Gaps of 3 ms: never 6 ms of idleness while blinking.
            for (int i = 0; i < 3; ++i) co_await trellis::sleep(3ms);
            log.push_back("blink end");
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await wait_all_tasks_blocked(9ms);
            log.push_back("big cushion");
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await wait_all_tasks_blocked(6ms);
            log.push_back("small cushion");
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await wait_all_tasks_blocked(9ms);
            log.push_back("big cushion");
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await wait_all_tasks_blocked();
            log.push_back("no cushion");
        });
        co_return;
    });
    EXPECT_EQ(log, (std::vector<std::string>{"blink start", "no cushion", "blink end", "small cushion",
                                              "big cushion", "big cushion"}));
}

TRELLIS_TEST(WaitAllTasksBlocked, WithACushionWaitsForThatMuchRealIdleness) {
    const auto start = real_clock::now();
    co_await wait_all_tasks_blocked(10ms);
    EXPECT_GE(real_clock::now() - start, 10ms);
}

TRELLIS_TEST(WaitAllTasksBlocked, IsACheckpoint) {
    trellis::cancel_scope scope;
    scope.cancel();
    bool reached_end = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await wait_all_tasks_blocked();
        reached_end = true;
    });
    EXPECT_FALSE(reached_end);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(WaitAllTasksBlocked, CancellationWhileWaitingThrowsCancelled) {
    bool cancelled = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            try {
                co_await wait_all_tasks_blocked();
            } catch (const trellis::cancelled&) {
                cancelled = true;
                throw;
            }
        });
        n.cancel_scope().cancel();
        co_return;
    });
    EXPECT_TRUE(cancelled);
}

// A waiter cancelled while waiting must leave the waiter list: if it stayed,
// the later wait with the same cushion would also "wake" the long-gone task.
TRELLIS_TEST(WaitAllTasksBlocked, CancellationRemovesTheWaiter) {
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([]() -> trellis::task<> { co_await wait_all_tasks_blocked(2ms); });
        });
        // Stay busy so the waiter cannot wake, then cancel it.
        for (int i = 0; i < 5; ++i) co_await trellis::checkpoint();
        scope.cancel();
        for (int i = 0; i < 5; ++i) co_await trellis::checkpoint();
        co_await wait_all_tasks_blocked(2ms);
        co_await wait_all_tasks_blocked(2ms);
    });
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(WaitAllTasksBlocked, ASleepingTaskCountsAsBlocked) {
    bool woke = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::sleep(1h);
            woke = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(woke);
        n.cancel_scope().cancel();
    });
}

TRELLIS_TEST(WaitAllTasksBlocked, CallbacksPostedFromAnotherThreadAreNotIdleness) {
    // A thread posts a callback every millisecond or so. Each one that runs
    // breaks the idleness, so the waiter wakes at least a full cushion after
    // the last callback that ran before it (however the poster is scheduled).
    real_clock::time_point last_callback{};
    auto token = trellis::current_token();
    std::thread poster([&] {
        for (int i = 0; i < 15; ++i) {
            std::this_thread::sleep_for(1ms);
            token.run_sync_soon([&] { last_callback = real_clock::now(); });
        }
    });
    co_await wait_all_tasks_blocked(20ms);
    const auto woke = real_clock::now();
    const auto last_before_waking = last_callback;
    poster.join();
    // Let the callbacks still queued run while last_callback is alive.
    trellis::event drained;
    token.run_sync_soon([&] { drained.set(); });
    co_await drained.wait();
    if (last_before_waking != real_clock::time_point{}) {
        EXPECT_GE(woke - last_before_waking, 20ms);
    }
}
