// trellis::lock and trellis::strict_fifo_lock.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace lowlevel = trellis::lowlevel;
using trellis::testing::wait_all_tasks_blocked;

namespace {

struct body_error : std::runtime_error {
    body_error() : std::runtime_error("body failed") {}
};

// Waits for the lock, logs `name`, then gives the lock back.
trellis::task<> take_and_log(trellis::lock& l, std::vector<std::string>& log, std::string name) {
    co_await l.acquire();
    log.push_back(name);
    l.release();
}

}  // namespace

TRELLIS_TEST(Lock, UncontendedAcquireLetsOtherTasksRun) {
    trellis::lock l;
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await l.acquire();
        EXPECT_TRUE(other_ran);
        l.release();
    });
}

TRELLIS_TEST(Lock, UncontendedAcquireInACancelledScopeRaisesCancelledAndTakesNothing) {
    trellis::lock l;
    bool acquired = false;
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> trellis::task<> {
        co_await l.acquire();
        acquired = true;
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_FALSE(acquired);
    EXPECT_FALSE(l.locked());
}

TRELLIS_TEST(Lock, WaitersAcquireInArrivalOrder) {
    trellis::lock l;
    std::vector<std::string> log;
    co_await l.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (const char* name : {"first", "second", "third"}) {
            n.start_soon(take_and_log, std::ref(l), std::ref(log), std::string(name));
            co_await wait_all_tasks_blocked();
        }
        EXPECT_EQ(l.statistics().tasks_waiting, 3u);
        l.release();
    });
    EXPECT_EQ(log, (std::vector<std::string>{"first", "second", "third"}));
}

TRELLIS_TEST(Lock, AReleasingTaskCannotBargeBackAheadOfAWaiter) {
    trellis::lock l;
    std::vector<std::string> log;
    co_await l.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(take_and_log, std::ref(l), std::ref(log), std::string("waiter"));
        co_await wait_all_tasks_blocked();
        l.release();
        // The waiter owns the lock now, although it has not run yet.
        EXPECT_THROW(l.acquire_nowait(), trellis::would_block);
        co_await l.acquire();
        log.push_back("releaser again");
        l.release();
    });
    EXPECT_EQ(log, (std::vector<std::string>{"waiter", "releaser again"}));
}

TRELLIS_TEST(Lock, ReleaseHandsOwnershipToTheWaiterBeforeItRuns) {
    trellis::lock l;
    co_await l.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(trellis::named("waiter"), [&]() -> trellis::task<> {
            co_await l.acquire();
            l.release();
        });
        co_await wait_all_tasks_blocked();
        l.release();
        EXPECT_TRUE(l.locked());
        EXPECT_EQ(l.statistics().owner.name(), "waiter");
        EXPECT_EQ(l.statistics().tasks_waiting, 0u);
    });
}

TRELLIS_TEST(Lock, ReleaseByATaskThatDoesNotOwnItRaisesRunError) {
    trellis::lock l;
    co_await l.acquire();
    bool raised = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            try {
                l.release();
            } catch (const trellis::run_error&) {
                raised = true;
            }
            co_return;
        });
        co_return;
    });
    EXPECT_TRUE(raised);
    EXPECT_EQ(l.statistics().owner, lowlevel::current_task());
    l.release();
}

TRELLIS_TEST(Lock, ReleasingAnUnlockedLockRaisesRunError) {
    trellis::lock l;
    EXPECT_THROW(l.release(), trellis::run_error);
    co_return;
}

TRELLIS_TEST(Lock, AcquiringTwiceInTheSameTaskRaisesRunError) {
    trellis::lock l;
    co_await l.acquire();
    bool raised = false;
    try {
        co_await l.acquire();
    } catch (const trellis::run_error&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_THROW(l.acquire_nowait(), trellis::run_error);
    EXPECT_EQ(l.statistics().owner, lowlevel::current_task());
    l.release();
}

TRELLIS_TEST(Lock, CancellationWhileWaitingLeavesNoGhostWaiter) {
    trellis::lock l;
    bool cancelled_task_got_it = false;
    co_await l.acquire();
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await l.acquire();
                cancelled_task_got_it = true;
                l.release();
            });
        });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(l.statistics().tasks_waiting, 1u);
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(l.statistics().tasks_waiting, 0u);
        EXPECT_TRUE(scope.cancelled_caught());
        l.release();
        EXPECT_FALSE(l.locked());
    });
    EXPECT_FALSE(cancelled_task_got_it);
    l.acquire_nowait();
    EXPECT_EQ(l.statistics().owner, lowlevel::current_task());
    l.release();
}

TRELLIS_TEST(Lock, HoldGuardReleasesAtTheEndOfItsScope) {
    trellis::lock l;
    {
        auto held = co_await l.hold();
        EXPECT_TRUE(held);
        EXPECT_EQ(l.statistics().owner, lowlevel::current_task());
    }
    EXPECT_FALSE(l.locked());
}

TRELLIS_TEST(Lock, HoldGuardReleasesWhenAnExceptionUnwinds) {
    trellis::lock l;
    bool caught = false;
    try {
        auto held = co_await l.hold();
        throw body_error();
    } catch (const body_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_FALSE(l.locked());
}

TRELLIS_TEST(Lock, HoldGuardResetReleasesEarly) {
    trellis::lock l;
    auto held = co_await l.hold();
    held.reset();
    EXPECT_FALSE(held);
    EXPECT_FALSE(l.locked());
}

TRELLIS_TEST(Lock, AcquireNowaitTakesAFreeLockWithoutACheckpoint) {
    trellis::lock l;
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> trellis::task<> {
        l.acquire_nowait();  // not a checkpoint: no cancelled here
        EXPECT_TRUE(l.locked());
        l.release();
        co_return;
    });
    EXPECT_FALSE(scope.cancelled_caught());
}

TRELLIS_TEST(Lock, AcquireNowaitRaisesWouldBlockWhenHeld) {
    trellis::lock l;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::event release;
        n.start_soon([&]() -> trellis::task<> {
            auto held = co_await l.hold();
            co_await release.wait();
        });
        co_await wait_all_tasks_blocked();
        EXPECT_THROW(l.acquire_nowait(), trellis::would_block);
        release.set();
    });
    l.acquire_nowait();
    l.release();
}

TRELLIS_TEST(Lock, StatisticsReportTheOwnerAndWhetherItIsLocked) {
    trellis::lock l;
    auto before = l.statistics();
    EXPECT_FALSE(before.locked);
    EXPECT_FALSE(before.owner);
    EXPECT_EQ(before.tasks_waiting, 0u);
    co_await l.acquire();
    auto during = l.statistics();
    EXPECT_TRUE(during.locked);
    EXPECT_EQ(during.owner, lowlevel::current_task());
    l.release();
    EXPECT_FALSE(l.statistics().locked);
    EXPECT_FALSE(l.statistics().owner);
}

TRELLIS_TEST(StrictFifoLock, HoldsAndServesWaitersInArrivalOrder) {
    trellis::strict_fifo_lock l;
    std::vector<std::string> log;
    {
        auto held = co_await l.hold();
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            for (const char* name : {"first", "second"}) {
                n.start_soon(
                    [&](std::string me) -> trellis::task<> {
                        auto mine = co_await l.hold();
                        log.push_back(me);
                    },
                    std::string(name));
                co_await wait_all_tasks_blocked();
            }
            EXPECT_EQ(l.statistics().tasks_waiting, 2u);
            held.reset();
        });
    }
    EXPECT_EQ(log, (std::vector<std::string>{"first", "second"}));
    EXPECT_FALSE(l.locked());
}

TRELLIS_TEST(Lock, AdoptedWaitersWakeAsOwnersInTurnAfterTheLocksOwnWaiters) {
    trellis::lock l;
    lowlevel::parking_lot side;
    std::vector<std::string> log;
    co_await l.acquire();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(take_and_log, std::ref(l), std::ref(log), std::string("queued"));
        co_await wait_all_tasks_blocked();
        for (const char* name : {"adopted 1", "adopted 2", "left behind"})
            n.start_soon(
                [&](std::string label) -> trellis::task<> {
                    co_await side.park();
                    // Woken by a release: this task owns the lock now.
                    EXPECT_EQ(l.statistics().owner, lowlevel::current_task());
                    log.push_back(label);
                    l.release();
                },
                std::string(name));
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(l.adopt_waiters(side, 2), 2u);
        EXPECT_EQ(side.size(), 1u);
        EXPECT_EQ(l.statistics().tasks_waiting, 3u);
        l.release();
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(l.locked());
        co_await l.acquire();
        EXPECT_EQ(l.adopt_waiters(side, 5), 1u);
        l.release();
    });
    EXPECT_EQ(log, (std::vector<std::string>{"queued", "adopted 1", "adopted 2", "left behind"}));
}

TRELLIS_TEST(Lock, AdoptingWaitersIntoAnUnheldLockRaisesRunError) {
    trellis::lock l;
    lowlevel::parking_lot side;
    EXPECT_THROW(l.adopt_waiters(side, 1), trellis::run_error);
    co_return;
}
