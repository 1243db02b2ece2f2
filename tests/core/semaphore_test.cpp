// trellis::semaphore.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using trellis::testing::wait_all_tasks_blocked;

namespace {

struct body_error : std::runtime_error {
    body_error() : std::runtime_error("body failed") {}
};

}  // namespace

TEST(Semaphore, StartsWithItsInitialValueAndMaximum) {
    trellis::semaphore s(3, 5);
    EXPECT_EQ(s.value(), 3u);
    EXPECT_EQ(s.max_value(), 5u);
    trellis::semaphore unlimited(2);
    EXPECT_FALSE(unlimited.max_value());
    auto stats = s.statistics();
    EXPECT_EQ(stats.value, 3u);
    EXPECT_EQ(stats.max_value, 5u);
    EXPECT_EQ(stats.tasks_waiting, 0u);
}

TEST(Semaphore, AnInitialValueAboveTheMaximumThrows) {
    EXPECT_THROW(trellis::semaphore(3, 2), std::invalid_argument);
}

TRELLIS_TEST(Semaphore, AcquireTakesAPermitAndReleaseGivesItBack) {
    trellis::semaphore s(2);
    co_await s.acquire();
    EXPECT_EQ(s.value(), 1u);
    co_await s.acquire();
    EXPECT_EQ(s.value(), 0u);
    s.release();
    s.release();
    EXPECT_EQ(s.value(), 2u);
}

TRELLIS_TEST(Semaphore, AcquireWithAPermitFreeIsACheckpoint) {
    trellis::semaphore s(1);
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await s.acquire();
        EXPECT_TRUE(other_ran);
    });
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> trellis::task<> { co_await s.acquire(); });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(s.value(), 0u);
}

TRELLIS_TEST(Semaphore, AcquireWaitsWhileNoPermitIsFree) {
    trellis::semaphore s(0);
    bool acquired = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await s.acquire();
            acquired = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(acquired);
        EXPECT_EQ(s.statistics().tasks_waiting, 1u);
        s.release();
        // The permit went straight to the waiter.
        EXPECT_EQ(s.value(), 0u);
    });
    EXPECT_TRUE(acquired);
    EXPECT_EQ(s.value(), 0u);
}

TRELLIS_TEST(Semaphore, ReleaseHandsPermitsToWaitersInArrivalOrder) {
    trellis::semaphore s(0);
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (const char* name : {"first", "second", "third"}) {
            n.start_soon(
                [&](std::string me) -> trellis::task<> {
                    co_await s.acquire();
                    log.push_back(me);
                },
                std::string(name));
            co_await wait_all_tasks_blocked();
        }
        for (int i = 0; i < 3; ++i) {
            s.release();
            co_await wait_all_tasks_blocked();
            EXPECT_EQ(log.size(), static_cast<std::size_t>(i + 1));
        }
    });
    EXPECT_EQ(log, (std::vector<std::string>{"first", "second", "third"}));
}

TRELLIS_TEST(Semaphore, AnyTaskMayRelease) {
    trellis::semaphore s(1);
    co_await s.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            s.release();
            co_return;
        });
        co_return;
    });
    EXPECT_EQ(s.value(), 1u);
}

TRELLIS_TEST(Semaphore, ReleasingPastTheMaximumRaisesRunError) {
    trellis::semaphore s(1, 2);
    s.release();
    EXPECT_EQ(s.value(), 2u);
    EXPECT_THROW(s.release(), trellis::run_error);
    EXPECT_EQ(s.value(), 2u);
    co_return;
}

TRELLIS_TEST(Semaphore, AcquireNowaitRaisesWouldBlockWithNoPermit) {
    trellis::semaphore s(1);
    s.acquire_nowait();
    EXPECT_EQ(s.value(), 0u);
    EXPECT_THROW(s.acquire_nowait(), trellis::would_block);
    EXPECT_EQ(s.value(), 0u);
    co_return;
}

TRELLIS_TEST(Semaphore, CancellationWhileWaitingLeavesNoGhostWaiter) {
    trellis::semaphore s(0);
    bool cancelled_task_got_it = false;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await s.acquire();
                cancelled_task_got_it = true;
            });
        });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(s.statistics().tasks_waiting, 1u);
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(s.statistics().tasks_waiting, 0u);
        EXPECT_TRUE(scope.cancelled_caught());
        s.release();
    });
    EXPECT_FALSE(cancelled_task_got_it);
    EXPECT_EQ(s.value(), 1u);
}

TRELLIS_TEST(Semaphore, HoldGuardGivesThePermitBackAtTheEndOfItsScope) {
    trellis::semaphore s(1);
    {
        auto held = co_await s.hold();
        EXPECT_EQ(s.value(), 0u);
    }
    EXPECT_EQ(s.value(), 1u);
    try {
        auto held = co_await s.hold();
        throw body_error();
    } catch (const body_error&) {
    }
    EXPECT_EQ(s.value(), 1u);
}
