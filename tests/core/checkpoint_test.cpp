// Checkpoints: every blocking operation yields and raises when cancelled,
// even when it does not need to block.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

using operation = std::function<trellis::task<>()>;

// Runs `op` in one task and a recorder in a second task spawned after it.
// The first task runs first; if `op` lets other tasks run, the recorder's
// entry comes before the first task's.
trellis::task<std::vector<std::string>> order_around(operation op) {
    std::vector<std::string> order;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await op();
            order.push_back("after operation");
        });
        n.start_soon([&]() -> trellis::task<> {
            order.push_back("other task");
            co_return;
        });
        co_return;
    });
    co_return order;
}

const std::vector<std::string> yielded{"other task", "after operation"};
const std::vector<std::string> did_not_yield{"after operation", "other task"};

// Runs `op` inside a scope cancelled beforehand; true if `op` raised
// cancelled (and the scope caught it).
trellis::task<bool> raises_when_cancelled(operation op) {
    trellis::cancel_scope scope;
    scope.cancel();
    bool completed = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await op();
        completed = true;
    });
    co_return scope.cancelled_caught() && !completed;
}

// A pipe with one byte waiting in it.
struct readable_pipe {
    int fds[2] = {-1, -1};
    readable_pipe() {
        if (::pipe(fds) == 0) (void)!::write(fds[1], "x", 1);
    }
    ~readable_pipe() {
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
};

}  // namespace

TRELLIS_TEST(Checkpoint, CheckpointLetsAnotherTaskRun) {
    EXPECT_EQ(co_await order_around([]() -> trellis::task<> { co_await trellis::checkpoint(); }), yielded);
}

TRELLIS_TEST(Checkpoint, TheOrderingProbeSeesATaskThatDoesNotYield) {
    // The probe itself: an operation that never yields is told apart.
    EXPECT_EQ(co_await order_around([]() -> trellis::task<> { co_return; }), did_not_yield);
}

TRELLIS_TEST(Checkpoint, CheckpointRaisesCancelledInACancelledScope) {
    EXPECT_TRUE(co_await raises_when_cancelled([]() -> trellis::task<> { co_await trellis::checkpoint(); }));
}

TRELLIS_TEST(Checkpoint, CheckpointIfCancelledDoesNotYieldWhenNotCancelled) {
    EXPECT_EQ(co_await order_around([]() -> trellis::task<> { co_await trellis::checkpoint_if_cancelled(); }),
              did_not_yield);
}

TRELLIS_TEST(Checkpoint, CheckpointIfCancelledRaisesWhenCancelled) {
    EXPECT_TRUE(co_await raises_when_cancelled(
        []() -> trellis::task<> { co_await trellis::checkpoint_if_cancelled(); }));
}

TRELLIS_TEST(Checkpoint, CancelShieldedCheckpointYields) {
    EXPECT_EQ(co_await order_around(
                  []() -> trellis::task<> { co_await trellis::lowlevel::cancel_shielded_checkpoint(); }),
              yielded);
}

TRELLIS_TEST(Checkpoint, CancelShieldedCheckpointNeverRaises) {
    trellis::cancel_scope scope;
    scope.cancel();
    int passed = 0;
    co_await scope.run([&]() -> trellis::task<> {
        for (int i = 0; i < 3; ++i) {
            co_await trellis::lowlevel::cancel_shielded_checkpoint();
            ++passed;
        }
    });
    EXPECT_EQ(passed, 3);
    EXPECT_FALSE(scope.cancelled_caught());
}

// ---- Every blocking operation is a checkpoint, even when it does not block. ----

TRELLIS_TEST(Checkpoint, SleepZeroYields) {
    EXPECT_EQ(co_await order_around([]() -> trellis::task<> { co_await trellis::sleep(0s); }), yielded);
}

TRELLIS_TEST(Checkpoint, SleepZeroRaisesWhenCancelled) {
    EXPECT_TRUE(co_await raises_when_cancelled([]() -> trellis::task<> { co_await trellis::sleep(0s); }));
}

TRELLIS_TEST(Checkpoint, SleepUntilAPastTimeYields) {
    EXPECT_EQ(co_await order_around(
                  []() -> trellis::task<> { co_await trellis::sleep_until(trellis::current_time() - 1s); }),
              yielded);
}

TRELLIS_TEST(Checkpoint, SleepUntilAPastTimeRaisesWhenCancelled) {
    EXPECT_TRUE(co_await raises_when_cancelled(
        []() -> trellis::task<> { co_await trellis::sleep_until(trellis::current_time() - 1s); }));
}

TRELLIS_TEST(Checkpoint, WaitingForASetEventYields) {
    trellis::event e;
    e.set();
    EXPECT_EQ(co_await order_around([&]() -> trellis::task<> { co_await e.wait(); }), yielded);
}

TRELLIS_TEST(Checkpoint, WaitingForASetEventRaisesWhenCancelled) {
    trellis::event e;
    e.set();
    EXPECT_TRUE(co_await raises_when_cancelled([&]() -> trellis::task<> { co_await e.wait(); }));
}

TRELLIS_TEST(Checkpoint, OpeningANurseryWithNoChildrenYields) {
    EXPECT_EQ(co_await order_around([]() -> trellis::task<> {
                  co_await trellis::open_nursery([](trellis::nursery&) -> trellis::task<> { co_return; });
              }),
              yielded);
}

TRELLIS_TEST(Checkpoint, OpeningANurseryWithNoChildrenRaisesWhenCancelled) {
    EXPECT_TRUE(co_await raises_when_cancelled([]() -> trellis::task<> {
        co_await trellis::open_nursery([](trellis::nursery&) -> trellis::task<> { co_return; });
    }));
}

TRELLIS_TEST(Checkpoint, WaitReadableOnAReadablePipeYields) {
    readable_pipe p;
    EXPECT_GE(p.fds[0], 0);
    EXPECT_EQ(co_await order_around([&]() -> trellis::task<> { co_await trellis::wait_readable(p.fds[0]); }),
              yielded);
}

TRELLIS_TEST(Checkpoint, WaitReadableOnAReadablePipeRaisesWhenCancelled) {
    readable_pipe p;
    EXPECT_GE(p.fds[0], 0);
    EXPECT_TRUE(co_await raises_when_cancelled(
        [&]() -> trellis::task<> { co_await trellis::wait_readable(p.fds[0]); }));
}

TRELLIS_TEST(Checkpoint, WaitWritableOnAWritablePipeYields) {
    readable_pipe p;
    EXPECT_EQ(co_await order_around([&]() -> trellis::task<> { co_await trellis::wait_writable(p.fds[1]); }),
              yielded);
}

TRELLIS_TEST(Checkpoint, WaitWritableOnAWritablePipeRaisesWhenCancelled) {
    readable_pipe p;
    EXPECT_TRUE(co_await raises_when_cancelled(
        [&]() -> trellis::task<> { co_await trellis::wait_writable(p.fds[1]); }));
}

TRELLIS_TEST(Checkpoint, ParkingAndBeingUnparkedYields) {
    trellis::lowlevel::parking_lot lot;
    std::vector<std::string> order;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await lot.park();
            order.push_back("parked task resumed");
        });
        n.start_soon([&]() -> trellis::task<> {
            order.push_back("other task");
            EXPECT_EQ(lot.unpark(), 1u);
            order.push_back("unparked");
            co_return;
        });
        co_return;
    });
    EXPECT_EQ(order, (std::vector<std::string>{"other task", "unparked", "parked task resumed"}));
}

TRELLIS_TEST(Checkpoint, ParkingRaisesWhenCancelledAndLeavesNoWaiter) {
    trellis::lowlevel::parking_lot lot;
    EXPECT_TRUE(co_await raises_when_cancelled([&]() -> trellis::task<> { co_await lot.park(); }));
    EXPECT_EQ(lot.size(), 0u);
}

TRELLIS_TEST(Checkpoint, WaitTaskRescheduledRaisesAtOnceWhenAlreadyCancelled) {
    int aborts = 0;
    EXPECT_TRUE(co_await raises_when_cancelled([&]() -> trellis::task<> {
        co_await trellis::lowlevel::wait_task_rescheduled([&](const std::exception_ptr&) {
            ++aborts;
            return trellis::lowlevel::abort_result::succeeded;
        });
    }));
    EXPECT_EQ(aborts, 1);
}

TRELLIS_TEST(Checkpoint, StartIsACheckpointEvenWhenTheChildStartsAtOnce) {
    // The caller waits for the child to run, so start() always yields.
    std::vector<std::string> order;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            order.push_back("other task");
            co_return;
        });
        co_await n.start([](trellis::task_status<> status) -> trellis::task<> {
            status.started();
            co_return;
        });
        order.push_back("start returned");
    });
    EXPECT_EQ(order, (std::vector<std::string>{"other task", "start returned"}));
}

TRELLIS_TEST_MOCK_CLOCK(Checkpoint, MoveOnAfterWithAnInstantBodyIsNotACheckpoint, clock) {
    // Whether a timeout is a checkpoint depends on its body: a body with no
    // checkpoint lets no other task run.
    EXPECT_EQ(co_await order_around([]() -> trellis::task<> {
                  co_await trellis::move_on_after(1s, []() -> trellis::task<> { co_return; });
              }),
              did_not_yield);
    (void)clock;
}
