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

TEST(Start, WithStrictExceptionGroupsAnErrorBeforeStartedComesOutOfStartInAGroup) {
    // Trio 0.22: start()'s private nursery follows the run's setting, so
    // under strict exception groups the child's lone error arrives wrapped.
    trellis::run_options options;
    options.strict_exception_groups = true;
    bool caught_in_group = false;
    trellis::run(options, [&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            try {
                co_await n.start([](trellis::task_status<> status) -> trellis::task<> {
                    co_await trellis::checkpoint();
                    throw setup_error();
                    status.started();
                });
            } catch (const trellis::exception_group& group) {
                caught_in_group = group.size() == 1 && group.contains<setup_error>();
            } catch (...) {
                ADD_FAILURE() << "start raised " << trellis::describe(std::current_exception());
            }
        });
    });
    EXPECT_TRUE(caught_in_group);
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

TRELLIS_TEST(Start, AChildCallingStartedUnderACancelledCallerDoesNotMoveAndIsCancelledUnderStart) {
    trellis::cancel_scope caller_scope;
    bool reached_after_started = false;
    bool child_cancelled = false;
    bool start_returned = false;
    co_await trellis::open_nursery([&](trellis::nursery& target) -> trellis::task<> {
        co_await caller_scope.run([&]() -> trellis::task<> {
            co_await target.start([&](trellis::task_status<int> status) -> trellis::task<> {
                caller_scope.cancel();
                status.started(7);  // too late: the caller is cancelled
                reached_after_started = true;
                try {
                    co_await trellis::sleep_forever();
                } catch (const trellis::cancelled&) {
                    child_cancelled = true;
                    throw;
                }
            });
            start_returned = true;
        });
        // Nothing escaped into the target nursery.
        EXPECT_TRUE(target.child_tasks().empty());
    });
    EXPECT_TRUE(reached_after_started);
    EXPECT_TRUE(child_cancelled);
    EXPECT_FALSE(start_returned);
    EXPECT_TRUE(caller_scope.cancelled_caught());
}

TRELLIS_TEST(Start, AChildThatFailsAfterACancelledStartedBringsItsErrorOutOfStartWithTheCancellation) {
    trellis::cancel_scope caller_scope;
    bool caught_setup_error = false;
    co_await trellis::open_nursery([&](trellis::nursery& target) -> trellis::task<> {
        try {
            co_await caller_scope.run([&]() -> trellis::task<> {
                co_await target.start([&](trellis::task_status<> status) -> trellis::task<> {
                    caller_scope.cancel();
                    status.started();
                    throw setup_error();
                });
            });
        } catch (const setup_error&) {
            // The caller's scope took its cancellation back out; the real
            // error went on alone.
            caught_setup_error = true;
        }
        EXPECT_TRUE(target.child_tasks().empty());
    });
    EXPECT_TRUE(caught_setup_error);
    EXPECT_TRUE(caller_scope.cancelled_caught());
}

TRELLIS_TEST(Start, AStartedTaskCanBeNamed) {
    std::string name;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        co_await n.start(trellis::named("listener"), [&](trellis::task_status<> status) -> trellis::task<> {
            name = trellis::lowlevel::current_task().name();
            status.started();
            co_return;
        });
    });
    EXPECT_EQ(name, "listener");
}

TRELLIS_TEST(Start, EventualParentNurseryIsTheTargetUntilStartedAndNullAfter) {
    trellis::nursery* before = nullptr;
    trellis::nursery* after = reinterpret_cast<trellis::nursery*>(1);
    trellis::nursery* of_plain_child = reinterpret_cast<trellis::nursery*>(1);
    co_await trellis::open_nursery([&](trellis::nursery& target) -> trellis::task<> {
        co_await target.start([&](trellis::task_status<> status) -> trellis::task<> {
            before = trellis::lowlevel::current_task().eventual_parent_nursery();
            status.started();
            after = trellis::lowlevel::current_task().eventual_parent_nursery();
            co_return;
        });
        target.start_soon([&]() -> trellis::task<> {
            of_plain_child = trellis::lowlevel::current_task().eventual_parent_nursery();
            co_return;
        });
        EXPECT_EQ(before, &target);
    });
    EXPECT_EQ(after, nullptr);
    EXPECT_EQ(of_plain_child, nullptr);
}
