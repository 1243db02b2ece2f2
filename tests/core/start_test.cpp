// nursery::start: Trio's start handshake.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct setup_error : std::runtime_error {
    setup_error() : std::runtime_error("setup failed") {}
};

trellis::task<> report_double(int x, trellis::task_status<int> status = {}) {
    co_await trellis::checkpoint();
    status.started(2 * x);
}

}  // namespace

TRELLIS_TEST(Start, ReturnsTheValuePassedToStarted) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        int v = co_await n.start(report_double, 21);
        EXPECT_EQ(v, 42);
    });
}

TRELLIS_TEST(Start, WorksWithAVoidStatus) {
    bool started = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await n.start([&](trellis::task_status<> status) -> trellis::task<> {
            co_await trellis::checkpoint();
            started = true;
            status.started();
        });
        EXPECT_TRUE(started);
    });
}

TRELLIS_TEST(Start, TheChildKeepsRunningInTheTargetNurseryAfterStarted) {
    std::vector<std::string> log;
    trellis::event release;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await n.start([&](trellis::task_status<> status) -> trellis::task<> {
            status.started();
            EXPECT_EQ(trellis::lowlevel::current_task().parent_nursery(), &n);
            co_await release.wait();
            log.push_back("child finished");
        });
        log.push_back("start returned");
        EXPECT_EQ(n.child_tasks().size(), 1u);
        release.set();
    });
    log.push_back("nursery closed");
    EXPECT_EQ(log, (std::vector<std::string>{"start returned", "child finished", "nursery closed"}));
}

TRELLIS_TEST(Start, TheTargetNurseryCanBeAnotherTasksNursery) {
    // start() is called from a child of `outer`, into `target`, which the
    // caller did not open.
    bool child_done = false;
    co_await trellis::open_nursery([&](trellis::nursery& target) -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& other) -> trellis::task<> {
            other.start_soon([&]() -> trellis::task<> {
                int v = co_await target.start([&](trellis::task_status<int> status) -> trellis::task<> {
                    status.started(5);
                    co_await trellis::checkpoint();
                    EXPECT_EQ(trellis::lowlevel::current_task().parent_nursery(), &target);
                    child_done = true;
                });
                EXPECT_EQ(v, 5);
            });
            co_return;
        });
    });
    EXPECT_TRUE(child_done);
}

TRELLIS_TEST(Start, AnErrorBeforeStartedComesOutOfStartAndNotIntoTheTargetNursery) {
    bool caught = false;
    bool sibling_finished = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::event go;
        n.start_soon([&]() -> trellis::task<> {
            co_await go.wait();
            co_await trellis::checkpoint();  // would raise if the nursery were cancelled
            sibling_finished = true;
        });
        try {
            co_await n.start([](trellis::task_status<int> status) -> trellis::task<> {
                co_await trellis::checkpoint();
                throw setup_error();
                status.started(1);
            });
        } catch (const setup_error&) {
            caught = true;
        }
        EXPECT_FALSE(n.cancel_scope().cancel_called());
        go.set();
    });
    EXPECT_TRUE(caught);
    EXPECT_TRUE(sibling_finished);
}

TRELLIS_TEST(Start, ReturningWithoutCallingStartedRaisesRunError) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        EXPECT_THROW(co_await n.start([](trellis::task_status<int>) -> trellis::task<> {
            co_await trellis::checkpoint();
        }),
                     trellis::run_error);
        EXPECT_FALSE(n.cancel_scope().cancel_called());
    });
}

TRELLIS_TEST(Start, CallingStartedTwiceRaisesRunError) {
    bool second_call_refused = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        int v = co_await n.start([&](trellis::task_status<int> status) -> trellis::task<> {
            status.started(1);
            try {
                status.started(2);
            } catch (const trellis::run_error&) {
                second_call_refused = true;
            }
            co_return;
        });
        EXPECT_EQ(v, 1);
    });
    EXPECT_TRUE(second_call_refused);
}

TRELLIS_TEST(Start, CancellingTheCallerDuringStartCancelsTheChildAndTheCallersScopeCatchesIt) {
    bool child_cancelled = false;
    bool start_returned = false;
    trellis::cancel_scope caller_scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::testing::wait_all_tasks_blocked();
            caller_scope.cancel();
        });
        co_await caller_scope.run([&]() -> trellis::task<> {
            co_await n.start([&](trellis::task_status<int> status) -> trellis::task<> {
                try {
                    co_await trellis::sleep_forever();
                } catch (const trellis::cancelled&) {
                    child_cancelled = true;
                    throw;
                }
                status.started(0);
            });
            start_returned = true;
        });
        // The target nursery itself was not cancelled.
        EXPECT_FALSE(n.cancel_scope().cancel_called());
    });
    EXPECT_TRUE(child_cancelled);
    EXPECT_FALSE(start_returned);
    EXPECT_TRUE(caller_scope.cancelled_caught());
}

TRELLIS_TEST(Start, CancellingTheTargetNurseryAfterStartedCancelsTheChild) {
    bool child_cancelled = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await n.start([&](trellis::task_status<> status) -> trellis::task<> {
            status.started();
            try {
                co_await trellis::sleep_forever();
            } catch (const trellis::cancelled&) {
                child_cancelled = true;
                throw;
            }
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        n.cancel_scope().cancel();
    });
    EXPECT_TRUE(child_cancelled);
}

TRELLIS_TEST(Start, AChildThatCallsStartedInsideItsOwnScopeMovesWithThatScope) {
    bool child_cancelled = false;
    trellis::cancel_scope inner;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await n.start([&](trellis::task_status<> status) -> trellis::task<> {
            co_await inner.run([&]() -> trellis::task<> {
                status.started();
                try {
                    co_await trellis::sleep_forever();
                } catch (const trellis::cancelled&) {
                    child_cancelled = true;
                    throw;
                }
            });
            ADD_FAILURE() << "the target nursery's cancellation must pass through the inner scope";
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        n.cancel_scope().cancel();
    });
    EXPECT_TRUE(child_cancelled);
    EXPECT_FALSE(inner.cancelled_caught());
}

TRELLIS_TEST(Start, AStartedChildIsNoLongerAffectedByTheCallersScope) {
    bool child_finished = false;
    trellis::cancel_scope caller_scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await caller_scope.run([&]() -> trellis::task<> {
            co_await n.start([&](trellis::task_status<> status) -> trellis::task<> {
                status.started();
                for (int i = 0; i < 3; ++i) co_await trellis::checkpoint();
                child_finished = true;
            });
            caller_scope.cancel();
            co_await trellis::checkpoint();
        });
    });
    EXPECT_TRUE(caller_scope.cancelled_caught());
    EXPECT_TRUE(child_finished);
}

TRELLIS_TEST(Start, AStartableFunctionStartedWithStartSoonGetsAnIgnoredStatus) {
    int result = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(
            [&](int x, trellis::task_status<int> status = {}) -> trellis::task<> {
                status.started(x);  // ignored, must not throw
                status.started(x);  // an ignored status does not count calls
                co_await trellis::checkpoint();
                result = x;
            },
            3);
        co_return;
    });
    EXPECT_EQ(result, 3);
}

TRELLIS_TEST(Start, StartWithAnExplicitValueTypeAcceptsAGenericLambda) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        std::string v = co_await n.start<std::string>(
            [](std::string prefix, auto status) -> trellis::task<> {
                co_await trellis::checkpoint();
                status.started(prefix + "-ready");
            },
            std::string("server"));
        EXPECT_EQ(v, "server-ready");
    });
}

TRELLIS_TEST(Start, StartIsACheckpointThatRaisesInACancelledScope) {
    bool child_ran = false;
    trellis::cancel_scope scope;
    scope.cancel();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await scope.run([&]() -> trellis::task<> {
            co_await n.start([&](trellis::task_status<> status) -> trellis::task<> {
                co_await trellis::checkpoint();
                child_ran = true;
                status.started();
            });
        });
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_FALSE(child_ran);
}

TEST(Start, WithStrictExceptionGroupsAnErrorBeforeStartedStillComesOutOfStartAsItself) {
    // Trio unwraps the group of start()'s private nursery: the single error
    // of the child is raised as itself, whatever the run's option.
    trellis::run_options options;
    options.strict_exception_groups = true;
    bool caught_as_itself = false;
    trellis::run(options, [&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            try {
                co_await n.start([](trellis::task_status<> status) -> trellis::task<> {
                    co_await trellis::checkpoint();
                    throw setup_error();
                    status.started();
                });
            } catch (const setup_error&) {
                caught_as_itself = true;
            } catch (...) {
                ADD_FAILURE() << "start raised " << trellis::describe(std::current_exception());
            }
        });
    });
    EXPECT_TRUE(caught_as_itself);
}

TRELLIS_TEST_MOCK_CLOCK(Start, APendingStartKeepsTheTargetNurseryOpenAfterItsBodyReturned, clock) {
    bool child_finished = false;
    co_await trellis::open_nursery([&](trellis::nursery& outer) -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& target) -> trellis::task<> {
            outer.start_soon([&]() -> trellis::task<> {
                co_await target.start([&](trellis::task_status<> status) -> trellis::task<> {
                    co_await trellis::sleep(1s);
                    status.started();
                    co_await trellis::sleep(1s);
                    child_finished = true;
                });
            });
            // Let the start() call begin, then return while it is pending.
            co_await trellis::testing::wait_all_tasks_blocked();
        });
        EXPECT_TRUE(child_finished);
        EXPECT_EQ(clock.current_time(), trellis::time_point{} + 2s);
    });
}

TRELLIS_TEST(Start, TasksTheChildStartedBeforeStartedMoveWithIt) {
    // The started task opened its own nursery before calling started();
    // that nursery's children are now under the target's cancel scope too.
    int cancelled_grandchildren = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await n.start([&](trellis::task_status<> status) -> trellis::task<> {
            co_await trellis::open_nursery([&](trellis::nursery& own) -> trellis::task<> {
                for (int i = 0; i < 2; ++i)
                    own.start_soon([&]() -> trellis::task<> {
                        try {
                            co_await trellis::sleep_forever();
                        } catch (const trellis::cancelled&) {
                            ++cancelled_grandchildren;
                            throw;
                        }
                    });
                co_await trellis::checkpoint();
                status.started();
            });
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_EQ(cancelled_grandchildren, 0);
        n.cancel_scope().cancel();
    });
    EXPECT_EQ(cancelled_grandchildren, 2);
}

namespace {

// Opens a nursery, hands it out through started(), and keeps it open.
trellis::task<> provide_nursery(trellis::task_status<trellis::nursery*> status = {}) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        status.started(&n);
        co_await trellis::sleep_forever();
    });
}

// Opens a nursery with two sleeping children, runs `before_started`, then
// reports started: the sleepers move along with this task.
trellis::task<> start_with_sleeping_children(std::function<void()> before_started, int& cancelled,
                                             trellis::task_status<> status = {}) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 2; ++i)
            n.start_soon([&]() -> trellis::task<> {
                try {
                    co_await trellis::sleep_forever();
                } catch (const trellis::cancelled&) {
                    ++cancelled;
                    throw;
                }
            });
        co_await trellis::testing::wait_all_tasks_blocked();
        before_started();
        status.started();
    });
}

}  // namespace

TRELLIS_TEST(Start, SleepingTasksMovedIntoAnAlreadyCancelledNurseryAreCancelled) {
    int cancelled = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::nursery* target = co_await n.start(provide_nursery);
        co_await target->start(start_with_sleeping_children,
                               std::function<void()>([target] { target->cancel_scope().cancel(); }),
                               std::ref(cancelled));
    });
    EXPECT_EQ(cancelled, 2);
}

TRELLIS_TEST(Start, SleepingTasksMovedIntoANurseryCancelledLaterAreCancelled) {
    int cancelled = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::nursery* target = co_await n.start(provide_nursery);
        co_await target->start(start_with_sleeping_children, std::function<void()>([] {}), std::ref(cancelled));
        EXPECT_EQ(cancelled, 0);
        target->cancel_scope().cancel();
    });
    EXPECT_EQ(cancelled, 2);
}

TRELLIS_TEST(Start, CallingStartedAgainAfterStartReturnedRaisesRunError) {
    // By then start()'s own state is gone; the status must not touch it.
    bool second_call_refused = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await n.start([&](trellis::task_status<int> status) -> trellis::task<> {
            status.started(1);
            for (int i = 0; i < 3; ++i) co_await trellis::checkpoint();
            try {
                status.started(2);
            } catch (const trellis::run_error&) {
                second_call_refused = true;
            }
        });
    });
    EXPECT_TRUE(second_call_refused);
}
