// trellis::condition.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <string>
#include <vector>

namespace lowlevel = trellis::lowlevel;
using trellis::testing::wait_all_tasks_blocked;

namespace {

// Takes the lock, waits for a notify, logs `name`, gives the lock back.
trellis::task<> wait_and_log(trellis::condition& c, std::vector<std::string>& log, std::string name) {
    co_await c.acquire();
    co_await c.wait();
    EXPECT_EQ(c.statistics().lock_statistics.owner, lowlevel::current_task());
    log.push_back(name);
    c.release();
}

}  // namespace

TRELLIS_TEST(Condition, WaitReleasesTheLockAndHoldsItAgainWhenItReturns) {
    trellis::condition c;
    bool other_took_lock = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await c.acquire();
            co_await c.wait();
            // notify() alone is not enough: the lock must come back first.
            EXPECT_TRUE(other_took_lock);
            EXPECT_EQ(c.statistics().lock_statistics.owner, lowlevel::current_task());
            c.release();
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(c.locked());
        EXPECT_EQ(c.statistics().tasks_waiting, 1u);
        co_await c.acquire();
        c.notify();
        EXPECT_EQ(c.statistics().tasks_waiting, 0u);
        co_await wait_all_tasks_blocked();
        // The woken waiter queues for the lock, which we still hold.
        EXPECT_EQ(c.statistics().lock_statistics.tasks_waiting, 1u);
        other_took_lock = true;
        c.release();
    });
    EXPECT_FALSE(c.locked());
}

TRELLIS_TEST(Condition, NotifyWakesOneWaiterInArrivalOrder) {
    trellis::condition c;
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (const char* name : {"first", "second", "third"}) {
            n.start_soon(wait_and_log, std::ref(c), std::ref(log), std::string(name));
            co_await wait_all_tasks_blocked();
        }
        for (std::size_t woken = 1; woken <= 3; ++woken) {
            co_await c.acquire();
            c.notify();
            c.release();
            co_await wait_all_tasks_blocked();
            EXPECT_EQ(log.size(), woken);
            EXPECT_EQ(c.statistics().tasks_waiting, 3 - woken);
        }
    });
    EXPECT_EQ(log, (std::vector<std::string>{"first", "second", "third"}));
}

TRELLIS_TEST(Condition, NotifyWithACountWakesThatMany) {
    trellis::condition c;
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (const char* name : {"first", "second", "third"}) {
            n.start_soon(wait_and_log, std::ref(c), std::ref(log), std::string(name));
            co_await wait_all_tasks_blocked();
        }
        co_await c.acquire();
        c.notify(2);
        c.release();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(log, (std::vector<std::string>{"first", "second"}));
        co_await c.acquire();
        c.notify_all();
        c.release();
    });
    EXPECT_EQ(log.size(), 3u);
}

TRELLIS_TEST(Condition, NotifyAllWakesEveryWaiter) {
    trellis::condition c;
    std::vector<std::string> log;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (const char* name : {"first", "second", "third"}) {
            n.start_soon(wait_and_log, std::ref(c), std::ref(log), std::string(name));
            co_await wait_all_tasks_blocked();
        }
        co_await c.acquire();
        c.notify_all();
        EXPECT_EQ(c.statistics().tasks_waiting, 0u);
        c.release();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(log, (std::vector<std::string>{"first", "second", "third"}));
    });
}

TRELLIS_TEST(Condition, WaitWithoutHoldingTheLockRaisesRunError) {
    trellis::condition c;
    bool raised = false;
    try {
        co_await c.wait();
    } catch (const trellis::run_error&) {
        raised = true;
    }
    EXPECT_TRUE(raised);
    EXPECT_FALSE(c.locked());
}

TRELLIS_TEST(Condition, WaitWhileAnotherTaskHoldsTheLockRaisesRunError) {
    trellis::condition c;
    co_await c.acquire();
    bool raised = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            try {
                co_await c.wait();
            } catch (const trellis::run_error&) {
                raised = true;
            }
        });
        co_return;
    });
    EXPECT_TRUE(raised);
    EXPECT_EQ(c.statistics().lock_statistics.owner, lowlevel::current_task());
    c.release();
}

TRELLIS_TEST(Condition, NotifyWithoutHoldingTheLockRaisesRunError) {
    trellis::condition c;
    EXPECT_THROW(c.notify(), trellis::run_error);
    EXPECT_THROW(c.notify_all(), trellis::run_error);
    co_return;
}

TRELLIS_TEST(Condition, ACancelledWaitReturnsHoldingTheLockAndRaisesCancelled) {
    trellis::condition c;
    lowlevel::task_handle waiter;
    lowlevel::task_handle owner_when_cancelled;
    bool caught = false;
    bool scope_done = false;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            waiter = lowlevel::current_task();
            co_await scope.run([&]() -> trellis::task<> {
                co_await c.acquire();
                try {
                    co_await c.wait();
                } catch (const trellis::cancelled&) {
                    caught = true;
                    owner_when_cancelled = c.statistics().lock_statistics.owner;
                    throw;
                }
            });
            scope_done = true;
            EXPECT_TRUE(scope.cancelled_caught());
            // Still ours after the scope caught the cancellation.
            EXPECT_EQ(c.statistics().lock_statistics.owner, lowlevel::current_task());
            c.release();
        });
        co_await wait_all_tasks_blocked();
        // Hold the lock while cancelling: the waiter must wait for it.
        co_await c.acquire();
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(scope_done);
        EXPECT_EQ(c.statistics().tasks_waiting, 0u);
        EXPECT_EQ(c.statistics().lock_statistics.tasks_waiting, 1u);
        c.release();
    });
    EXPECT_TRUE(caught);
    EXPECT_TRUE(scope_done);
    EXPECT_EQ(owner_when_cancelled, waiter);
    EXPECT_FALSE(c.locked());
}

TRELLIS_TEST(Condition, ACancelledWaitAfterNotifyStillHoldsTheLock) {
    trellis::condition c;
    bool scope_done = false;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await c.acquire();
                co_await c.wait();
            });
            scope_done = true;
            EXPECT_EQ(c.statistics().lock_statistics.owner, lowlevel::current_task());
            c.release();
        });
        co_await wait_all_tasks_blocked();
        co_await c.acquire();
        c.notify();  // the waiter now queues for the lock...
        scope.cancel();  // ...and is cancelled there
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(scope_done);
        c.release();
    });
    EXPECT_TRUE(scope_done);
    EXPECT_FALSE(c.locked());
}

TRELLIS_TEST(Condition, WorksOnAnExternalLock) {
    trellis::lock l;
    trellis::condition c(l);
    bool woken = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await l.acquire();
            EXPECT_TRUE(c.locked());
            co_await c.wait();
            woken = true;
            EXPECT_EQ(l.statistics().owner, lowlevel::current_task());
            l.release();
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(l.locked());
        auto held = co_await c.hold();
        EXPECT_EQ(l.statistics().owner, lowlevel::current_task());
        c.notify_all();
    });
    EXPECT_TRUE(woken);
    EXPECT_FALSE(l.locked());
}
