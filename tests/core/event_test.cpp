// trellis::event: a one-shot flag tasks can wait for.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <string>
#include <thread>
#include <vector>

using trellis::testing::wait_all_tasks_blocked;

TEST(Event, StartsUnset) {
    trellis::event ev;
    EXPECT_FALSE(ev.is_set());
    EXPECT_EQ(ev.statistics().tasks_waiting, 0u);
}

TEST(Event, SetMakesItSetForGood) {
    trellis::event ev;
    ev.set();
    EXPECT_TRUE(ev.is_set());
    ev.set();  // idempotent
    EXPECT_TRUE(ev.is_set());
}

TRELLIS_TEST(Event, SetWakesEveryWaiter) {
    trellis::event ev;
    int woken = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 5; ++i)
            n.start_soon([&]() -> trellis::task<> {
                co_await ev.wait();
                ++woken;
            });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(woken, 0);
        ev.set();
    });
    EXPECT_EQ(woken, 5);
}

TRELLIS_TEST(Event, WaitersWakeInTheOrderTheyStartedWaiting) {
    trellis::event ev;
    std::vector<int> order;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 5; ++i) {
            n.start_soon(
                [&](int id) -> trellis::task<> {
                    co_await ev.wait();
                    order.push_back(id);
                },
                i);
            co_await wait_all_tasks_blocked();
        }
        ev.set();
    });
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TRELLIS_TEST(Event, WaitOnASetEventReturnsButLetsOthersRunFirst) {
    trellis::event ev;
    ev.set();
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await ev.wait();
        EXPECT_TRUE(other_ran);
    });
}

TRELLIS_TEST(Event, WaitOnASetEventInACancelledScopeThrowsCancelled) {
    trellis::event ev;
    ev.set();
    trellis::cancel_scope scope;
    scope.cancel();
    bool reached_end = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await ev.wait();
        reached_end = true;
    });
    EXPECT_FALSE(reached_end);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(Event, StatisticsCountTheWaitingTasks) {
    trellis::event ev;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 3; ++i) n.start_soon([&]() -> trellis::task<> { co_await ev.wait(); });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(ev.statistics().tasks_waiting, 3u);
        ev.set();
        EXPECT_EQ(ev.statistics().tasks_waiting, 0u);
    });
}

TRELLIS_TEST(Event, CancellationWhileWaitingLeavesNoGhostWaiter) {
    trellis::event ev;
    trellis::cancel_scope scope;
    int woken = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> { co_await ev.wait(); });
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await ev.wait();
            ++woken;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(ev.statistics().tasks_waiting, 2u);
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(ev.statistics().tasks_waiting, 1u);
        ev.set();
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(ev.statistics().tasks_waiting, 0u);
}

TRELLIS_TEST(Event, CancellingTheOnlyWaiterBringsStatisticsBackToZero) {
    trellis::event ev;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> { co_await ev.wait(); });
        });
        co_await wait_all_tasks_blocked();
        scope.cancel();
    });
    EXPECT_EQ(ev.statistics().tasks_waiting, 0u);
    ev.set();  // nobody left to wake
    EXPECT_TRUE(ev.is_set());
}

TRELLIS_TEST(Event, SetFromATokenCallbackWakesWaiters) {
    trellis::event ev;
    auto token = trellis::current_token();
    std::thread other([&] { token.run_sync_soon([&] { ev.set(); }); });
    co_await ev.wait();
    other.join();
    EXPECT_TRUE(ev.is_set());
}

TRELLIS_TEST(Event, SetWithoutWaitersIsNotACheckpoint) {
    // set() never blocks or yields: the other task cannot run in between.
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        trellis::event ev;
        ev.set();
        EXPECT_FALSE(other_ran);
        co_return;
    });
}
