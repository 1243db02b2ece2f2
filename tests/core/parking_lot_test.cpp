// lowlevel::parking_lot: the FIFO queue of blocked tasks under every sync
// primitive.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace lowlevel = trellis::lowlevel;
using trellis::testing::wait_all_tasks_blocked;

namespace {

// Starts `count` tasks, one at a time so their parking order is known, that
// park in `lot` and then append their number to `woke`.
trellis::task<> park_in_order(trellis::nursery& n, lowlevel::parking_lot& lot, std::vector<int>& woke,
                              int first, int count) {
    for (int i = first; i < first + count; ++i) {
        n.start_soon(
            [&lot, &woke](int id) -> trellis::task<> {
                co_await lot.park();
                woke.push_back(id);
            },
            i);
        co_await wait_all_tasks_blocked();
    }
}

}  // namespace

TRELLIS_TEST(ParkingLot, UnparkWakesTheLongestWaitingTaskFirst) {
    lowlevel::parking_lot lot;
    std::vector<int> woke;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await park_in_order(n, lot, woke, 0, 3);
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(lot.unpark(), 1u);
            co_await wait_all_tasks_blocked();
        }
    });
    EXPECT_EQ(woke, (std::vector<int>{0, 1, 2}));
}

TRELLIS_TEST(ParkingLot, UnparkWithACountWakesThatMany) {
    lowlevel::parking_lot lot;
    std::vector<int> woke;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await park_in_order(n, lot, woke, 0, 5);
        EXPECT_EQ(lot.unpark(2), 2u);
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(woke, (std::vector<int>{0, 1}));
        EXPECT_EQ(lot.size(), 3u);
        EXPECT_EQ(lot.unpark(10), 3u);  // only as many as there are
    });
    EXPECT_EQ(woke, (std::vector<int>{0, 1, 2, 3, 4}));
}

TRELLIS_TEST(ParkingLot, UnparkOnAnEmptyLotWakesNobody) {
    lowlevel::parking_lot lot;
    EXPECT_EQ(lot.unpark(), 0u);
    EXPECT_EQ(lot.unpark_all(), 0u);
    EXPECT_FALSE(lot.unpark_one());
    co_return;
}

TRELLIS_TEST(ParkingLot, UnparkOneReturnsTheWokenTask) {
    lowlevel::parking_lot lot;
    lowlevel::task_handle parked;
    lowlevel::task_handle woken;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            parked = lowlevel::current_task();
            co_await lot.park();
        });
        co_await wait_all_tasks_blocked();
        woken = lot.unpark_one();
        EXPECT_EQ(woken, parked);
    });
    EXPECT_TRUE(woken);
}

TRELLIS_TEST(ParkingLot, UnparkAllWakesEveryone) {
    lowlevel::parking_lot lot;
    std::vector<int> woke;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await park_in_order(n, lot, woke, 0, 4);
        EXPECT_EQ(lot.unpark_all(), 4u);
        EXPECT_FALSE(lot);
    });
    EXPECT_EQ(woke, (std::vector<int>{0, 1, 2, 3}));
}

TRELLIS_TEST(ParkingLot, StatisticsCountParkedTasks) {
    lowlevel::parking_lot lot;
    std::vector<int> woke;
    EXPECT_EQ(lot.statistics().tasks_waiting, 0u);
    EXPECT_FALSE(lot);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await park_in_order(n, lot, woke, 0, 3);
        EXPECT_EQ(lot.statistics().tasks_waiting, 3u);
        EXPECT_EQ(lot.size(), 3u);
        EXPECT_TRUE(lot);
        lot.unpark();
        EXPECT_EQ(lot.statistics().tasks_waiting, 2u);
        lot.unpark_all();
    });
    EXPECT_EQ(lot.statistics().tasks_waiting, 0u);
}

TRELLIS_TEST(ParkingLot, ReparkMovesWaitersWithoutWakingThem) {
    lowlevel::parking_lot a;
    lowlevel::parking_lot b;
    std::vector<int> woke;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await park_in_order(n, b, woke, 100, 1);  // already waiting in b
        co_await park_in_order(n, a, woke, 0, 3);
        EXPECT_EQ(a.repark(b, 2), 2u);
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(woke.empty());
        EXPECT_EQ(a.size(), 1u);
        EXPECT_EQ(b.size(), 3u);
        // The moved waiters queue behind b's own, in their old order.
        b.unpark_all();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(woke, (std::vector<int>{100, 0, 1}));
        a.unpark_all();
    });
    EXPECT_EQ(woke, (std::vector<int>{100, 0, 1, 2}));
}

TRELLIS_TEST(ParkingLot, ReparkAllMovesEveryWaiter) {
    lowlevel::parking_lot a;
    lowlevel::parking_lot b;
    std::vector<int> woke;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await park_in_order(n, a, woke, 0, 3);
        EXPECT_EQ(a.repark_all(b), 3u);
        EXPECT_EQ(a.size(), 0u);
        EXPECT_EQ(b.size(), 3u);
        EXPECT_EQ(a.unpark_all(), 0u);
        b.unpark_all();
    });
    EXPECT_EQ(woke, (std::vector<int>{0, 1, 2}));
}

TRELLIS_TEST(ParkingLot, CancelledParkersLeaveTheLot) {
    lowlevel::parking_lot lot;
    std::vector<int> woke;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await park_in_order(n, lot, woke, 0, 1);
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> { co_await lot.park(); });
        });
        co_await wait_all_tasks_blocked();
        co_await park_in_order(n, lot, woke, 2, 1);
        EXPECT_EQ(lot.size(), 3u);
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(lot.size(), 2u);
        // The remaining ones still wake in order, and unpark(2) wakes both.
        EXPECT_EQ(lot.unpark(2), 2u);
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(woke, (std::vector<int>{0, 2}));
}

TRELLIS_TEST(ParkingLot, AParkerCancelledAfterAReparkLeavesItsNewLot) {
    lowlevel::parking_lot a;
    lowlevel::parking_lot b;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> { co_await a.park(); });
        });
        co_await wait_all_tasks_blocked();
        a.repark_all(b);
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(a.size(), 0u);
        EXPECT_EQ(b.size(), 0u);
    });
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(ParkingLot, ParkInACancelledScopeThrowsAtOnceAndLeavesNoWaiter) {
    lowlevel::parking_lot lot;
    trellis::cancel_scope scope;
    scope.cancel();
    bool reached_end = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await lot.park();
        reached_end = true;
    });
    EXPECT_FALSE(reached_end);
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(lot.size(), 0u);
}

// ---- The primitive under the lot: wait_task_rescheduled + reschedule. ----

namespace {
trellis::task<> block_until_rescheduled(lowlevel::task_handle& me, int& aborts, lowlevel::abort_result answer) {
    me = lowlevel::current_task();
    co_await lowlevel::wait_task_rescheduled([&aborts, answer](const std::exception_ptr&) {
        ++aborts;
        return answer;
    });
}
}  // namespace

TRELLIS_TEST(WaitTaskRescheduled, RescheduleWakesTheBlockedTask) {
    lowlevel::task_handle blocked;
    int aborts = 0;
    bool woke = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await block_until_rescheduled(blocked, aborts, lowlevel::abort_result::succeeded);
            woke = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(woke);
        lowlevel::reschedule(blocked);
    });
    EXPECT_TRUE(woke);
    EXPECT_EQ(aborts, 0);
}

TRELLIS_TEST(WaitTaskRescheduled, RescheduleWithAnErrorMakesTheWaitThrowIt) {
    lowlevel::task_handle blocked;
    int aborts = 0;
    std::string error;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            try {
                co_await block_until_rescheduled(blocked, aborts, lowlevel::abort_result::succeeded);
            } catch (const std::runtime_error& e) {
                error = e.what();
            }
        });
        co_await wait_all_tasks_blocked();
        lowlevel::reschedule(blocked, std::make_exception_ptr(std::runtime_error("handed over")));
    });
    EXPECT_EQ(error, "handed over");
}

TRELLIS_TEST(WaitTaskRescheduled, CancellationCallsTheAbortOnceAndThrowsCancelledWhenItSucceeds) {
    lowlevel::task_handle blocked;
    int aborts = 0;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await block_until_rescheduled(blocked, aborts, lowlevel::abort_result::succeeded);
            });
        });
        co_await wait_all_tasks_blocked();
        scope.cancel();
        scope.cancel();
    });
    EXPECT_EQ(aborts, 1);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(WaitTaskRescheduled, AFailedAbortKeepsTheTaskBlockedUntilRescheduled) {
    lowlevel::task_handle blocked;
    int aborts = 0;
    bool woke_normally = false;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await block_until_rescheduled(blocked, aborts, lowlevel::abort_result::failed);
                woke_normally = true;
            });
        });
        co_await wait_all_tasks_blocked();
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(aborts, 1);
        EXPECT_FALSE(woke_normally);  // still blocked
        lowlevel::reschedule(blocked);
    });
    // The operation completed, so the wait returned normally; the scope's
    // cancellation then had no checkpoint left to land on.
    EXPECT_TRUE(woke_normally);
    EXPECT_FALSE(scope.cancelled_caught());
    EXPECT_TRUE(scope.cancel_called());
}

TRELLIS_TEST(WaitTaskRescheduled, AFailedAbortCanPassTheCancellationOnLater) {
    lowlevel::task_handle blocked;
    std::exception_ptr cancel_error;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                blocked = lowlevel::current_task();
                co_await lowlevel::wait_task_rescheduled([&](const std::exception_ptr& cancel) {
                    cancel_error = cancel;
                    return lowlevel::abort_result::failed;
                });
            });
        });
        co_await wait_all_tasks_blocked();
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(cancel_error);
        lowlevel::reschedule(blocked, cancel_error);
    });
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(WaitTaskRescheduled, AnAlreadyCancelledTaskHasItsAbortCalledAtOnce) {
    lowlevel::task_handle blocked;
    int aborts = 0;
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> trellis::task<> {
        co_await block_until_rescheduled(blocked, aborts, lowlevel::abort_result::succeeded);
    });
    EXPECT_EQ(aborts, 1);
    EXPECT_TRUE(scope.cancelled_caught());
}
