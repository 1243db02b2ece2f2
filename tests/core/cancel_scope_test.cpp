// cancel_scope: cancellation, nesting, shields, deadlines.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <algorithm>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

namespace {

constexpr trellis::time_point t0{};

static_assert(!std::is_base_of_v<std::exception, trellis::cancelled>,
              "cancelled must not be caught by catch (const std::exception&)");
static_assert(!std::is_default_constructible_v<trellis::cancelled>,
              "only the scheduler creates cancelled");

// Sleeps forever; records whether it was cancelled.
trellis::task<> sleep_and_record(bool& cancelled) {
    try {
        co_await trellis::sleep_forever();
    } catch (const trellis::cancelled&) {
        cancelled = true;
        throw;
    }
}

}  // namespace

TRELLIS_TEST(CancelScope, CancelledBeforeEntryRaisesAtTheFirstCheckpointAndCatchesIt) {
    bool before = false;
    bool after = false;
    trellis::cancel_scope scope;
    scope.cancel();
    EXPECT_TRUE(scope.cancel_called());
    co_await scope.run([&]() -> trellis::task<> {
        before = true;  // entering does not raise: only checkpoints do
        co_await trellis::checkpoint();
        after = true;
    });
    EXPECT_TRUE(before);
    EXPECT_FALSE(after);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, ACancelledScopeLeftWithoutACheckpointCatchesNothing) {
    trellis::cancel_scope scope;
    co_await scope.run([&]() -> trellis::task<> {
        scope.cancel();
        co_return;
    });
    EXPECT_TRUE(scope.cancel_called());
    EXPECT_FALSE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, AnUncancelledScopeReportsNothing) {
    trellis::cancel_scope scope;
    co_await scope.run([]() -> trellis::task<> { co_await trellis::checkpoint(); });
    EXPECT_FALSE(scope.cancel_called());
    EXPECT_FALSE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, RunReturnsTheBodysValueOrNulloptWhenCancelled) {
    trellis::cancel_scope finished;
    std::optional<int> v = co_await finished.run([]() -> trellis::task<int> {
        co_await trellis::checkpoint();
        co_return 7;
    });
    EXPECT_EQ(v, std::optional<int>(7));

    trellis::cancel_scope cut_short;
    cut_short.cancel();
    std::optional<int> w = co_await cut_short.run([]() -> trellis::task<int> {
        co_await trellis::checkpoint();
        co_return 7;
    });
    EXPECT_FALSE(w.has_value());
}

TRELLIS_TEST(CancelScope, CancellingTheOuterScopeIsCaughtByTheOuterNotTheInner) {
    trellis::cancel_scope outer;
    trellis::cancel_scope inner;
    bool after_inner = false;
    co_await outer.run([&]() -> trellis::task<> {
        co_await inner.run([&]() -> trellis::task<> {
            outer.cancel();
            co_await trellis::checkpoint();
        });
        after_inner = true;
    });
    EXPECT_FALSE(after_inner);
    EXPECT_FALSE(inner.cancelled_caught());
    EXPECT_FALSE(inner.cancel_called());
    EXPECT_TRUE(outer.cancelled_caught());
}

TRELLIS_TEST(CancelScope, CancellingOnlyTheInnerScopeIsCaughtByTheInner) {
    trellis::cancel_scope outer;
    trellis::cancel_scope inner;
    bool after_inner = false;
    co_await outer.run([&]() -> trellis::task<> {
        co_await inner.run([&]() -> trellis::task<> {
            inner.cancel();
            co_await trellis::checkpoint();
        });
        after_inner = true;
        co_await trellis::checkpoint();  // the outer scope is not cancelled
    });
    EXPECT_TRUE(after_inner);
    EXPECT_TRUE(inner.cancelled_caught());
    EXPECT_FALSE(outer.cancelled_caught());
}

TRELLIS_TEST(CancelScope, WhenBothScopesAreCancelledTheOutermostCatches) {
    // Trio: the scope that catches is the outermost cancelled one; an inner
    // scope lets the cancellation through while its parent is cancelled too.
    trellis::cancel_scope outer;
    trellis::cancel_scope inner;
    bool after_inner = false;
    co_await outer.run([&]() -> trellis::task<> {
        co_await inner.run([&]() -> trellis::task<> {
            inner.cancel();
            outer.cancel();
            co_await trellis::checkpoint();
        });
        after_inner = true;
    });
    EXPECT_FALSE(after_inner);
    EXPECT_FALSE(inner.cancelled_caught());
    EXPECT_TRUE(outer.cancelled_caught());
}

TRELLIS_TEST(CancelScope, AShieldHidesAnOuterCancellation) {
    trellis::cancel_scope outer;
    trellis::cancel_scope shielded;
    shielded.set_shield(true);
    EXPECT_TRUE(shielded.shield());
    int checkpoints_passed = 0;
    co_await outer.run([&]() -> trellis::task<> {
        outer.cancel();
        co_await shielded.run([&]() -> trellis::task<> {
            for (int i = 0; i < 3; ++i) {
                co_await trellis::checkpoint();
                ++checkpoints_passed;
            }
        });
        co_await trellis::checkpoint();  // outside the shield: raises
        ADD_FAILURE() << "the checkpoint after the shield should have raised";
    });
    EXPECT_EQ(checkpoints_passed, 3);
    EXPECT_FALSE(shielded.cancelled_caught());
    EXPECT_TRUE(outer.cancelled_caught());
}

TRELLIS_TEST(CancelScope, AShieldDoesNotHideItsOwnCancellation) {
    trellis::cancel_scope shielded(trellis::inf, true);
    shielded.cancel();
    co_await shielded.run([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
    EXPECT_TRUE(shielded.cancelled_caught());
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, RemovingTheShieldDeliversAPendingCancellationToABlockedTask, clock) {
    trellis::cancel_scope outer;
    trellis::cancel_scope shielded(trellis::inf, true);
    bool sleeper_cancelled = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await outer.run([&]() -> trellis::task<> {
                co_await shielded.run([&]() -> trellis::task<> {
                    try {
                        co_await trellis::sleep(1h);  // a bounded "forever": a bug cannot hang the test
                    } catch (const trellis::cancelled&) {
                        sleeper_cancelled = true;
                        throw;
                    }
                });
            });
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        outer.cancel();
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_FALSE(sleeper_cancelled);  // still protected by the shield
        shielded.set_shield(false);
    });
    EXPECT_TRUE(sleeper_cancelled);
    EXPECT_EQ(clock.current_time(), t0);  // woken at once, not by the end of the sleep
    EXPECT_FALSE(shielded.cancelled_caught());  // the outer scope's cancellation, not the shield's
    EXPECT_TRUE(outer.cancelled_caught());
}

TRELLIS_TEST(CancelScope, ShieldingATaskThatIsAboutToBeCancelledProtectsIt) {
    // Setting the shield from another task while the sleeper is blocked:
    // the sleeper is not woken by a cancellation that arrives afterwards.
    trellis::cancel_scope inner;
    bool sleeper_cancelled = false;
    bool sleeper_finished = false;
    trellis::event wake;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await inner.run([&]() -> trellis::task<> {
                try {
                    co_await wake.wait();
                } catch (const trellis::cancelled&) {
                    sleeper_cancelled = true;
                    throw;
                }
            });
            sleeper_finished = true;
        });
        co_await trellis::testing::wait_all_tasks_blocked();
        inner.set_shield(true);
        n.cancel_scope().cancel();
        wake.set();
    });
    EXPECT_FALSE(sleeper_cancelled);
    EXPECT_TRUE(sleeper_finished);
}

TRELLIS_TEST(CancelScope, CancellationIsLevelTriggered) {
    trellis::cancel_scope scope;
    int raised = 0;
    co_await scope.run([&]() -> trellis::task<> {
        scope.cancel();
        for (int i = 0; i < 3; ++i) {
            try {
                co_await trellis::checkpoint();
            } catch (const trellis::cancelled&) {
                ++raised;  // swallowed, but the scope is still cancelled
            }
        }
        co_await trellis::sleep_forever();
    });
    EXPECT_EQ(raised, 3);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, EnteringAScopeTwiceRaisesRunError) {
    trellis::cancel_scope scope;
    co_await scope.run([]() -> trellis::task<> { co_return; });
    bool refused = false;
    try {
        co_await scope.run([]() -> trellis::task<> { co_return; });
    } catch (const trellis::run_error&) {
        refused = true;
    }
    EXPECT_TRUE(refused);
}

TRELLIS_TEST(CancelScope, EnteringAScopeThatIsStillEnteredRaisesRunError) {
    trellis::cancel_scope scope;
    bool refused = false;
    co_await scope.run([&]() -> trellis::task<> {
        try {
            co_await scope.run([]() -> trellis::task<> { co_return; });
        } catch (const trellis::run_error&) {
            refused = true;
        }
    });
    EXPECT_TRUE(refused);
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, AnEarlierDeadlineSetWhileATaskSleepsCancelsAtTheNewTime, clock) {
    trellis::cancel_scope scope(t0 + 10s);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::sleep(1s);
            scope.set_deadline(t0 + 5s);
        });
        co_await scope.run([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
        EXPECT_EQ(trellis::current_time(), t0 + 5s);
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(scope.deadline(), t0 + 5s);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, ALaterDeadlineSetWhileATaskSleepsPostponesTheCancellation, clock) {
    trellis::cancel_scope scope(t0 + 10s);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::sleep(1s);
            scope.set_deadline(t0 + 20s);
        });
        co_await scope.run([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
        EXPECT_EQ(trellis::current_time(), t0 + 20s);
    });
    EXPECT_TRUE(scope.cancelled_caught());
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, SettingTheDeadlineToInfRemovesIt, clock) {
    trellis::cancel_scope scope(t0 + 10s);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::sleep(1s);
            scope.set_deadline(trellis::inf);
        });
        co_await scope.run([]() -> trellis::task<> { co_await trellis::sleep(30s); });
        EXPECT_EQ(trellis::current_time(), t0 + 30s);
    });
    EXPECT_FALSE(scope.cancel_called());
    EXPECT_FALSE(scope.cancelled_caught());
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, ADeadlineMovedIntoThePastCancelsAtOnce, clock) {
    trellis::cancel_scope scope(t0 + 10s);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::sleep(2s);
            scope.set_deadline(t0 + 1s);
        });
        co_await scope.run([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
        EXPECT_EQ(trellis::current_time(), t0 + 2s);
    });
    EXPECT_TRUE(scope.cancelled_caught());
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, ADeadlineThatPassedBeforeEntryCancelsAtTheFirstCheckpoint, clock) {
    co_await trellis::sleep(10s);
    trellis::cancel_scope scope(t0 + 5s);
    bool after = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::checkpoint();
        after = true;
    });
    EXPECT_FALSE(after);
    EXPECT_TRUE(scope.cancel_called());
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(clock.current_time(), t0 + 10s);
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, AnExpiredDeadlineSetsCancelCalled, clock) {
    trellis::cancel_scope scope(t0 + 3s);
    co_await scope.run([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
    EXPECT_TRUE(scope.cancel_called());
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(clock.current_time(), t0 + 3s);
}

TRELLIS_TEST(CancelScope, EffectiveDeadlineIsInfWithoutDeadlines) {
    EXPECT_EQ(trellis::current_effective_deadline(), trellis::inf);
    trellis::cancel_scope scope;
    co_await scope.run([]() -> trellis::task<> {
        EXPECT_EQ(trellis::current_effective_deadline(), trellis::inf);
        co_return;
    });
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, EffectiveDeadlineIsTheEarliestOfTheEnclosingScopes, clock) {
    trellis::cancel_scope outer(t0 + 10s);
    trellis::cancel_scope later(t0 + 20s);
    trellis::cancel_scope earlier(t0 + 5s);
    co_await outer.run([&]() -> trellis::task<> {
        EXPECT_EQ(trellis::current_effective_deadline(), t0 + 10s);
        co_await later.run([&]() -> trellis::task<> {
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 10s);
            co_await earlier.run([&]() -> trellis::task<> {
                EXPECT_EQ(trellis::current_effective_deadline(), t0 + 5s);
                co_return;
            });
        });
    });
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, EffectiveDeadlineSeesTheScopesOfTheNurseryParent, clock) {
    trellis::cancel_scope outer(t0 + 10s);
    trellis::time_point seen_by_child = trellis::inf;
    co_await outer.run([&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                seen_by_child = trellis::current_effective_deadline();
                co_return;
            });
            co_return;
        });
    });
    EXPECT_EQ(seen_by_child, t0 + 10s);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, EffectiveDeadlineStopsAtAShield, clock) {
    trellis::cancel_scope outer(t0 + 10s);
    trellis::cancel_scope shield_without_deadline(trellis::inf, true);
    trellis::cancel_scope shield_with_deadline(t0 + 20s, true);
    co_await outer.run([&]() -> trellis::task<> {
        co_await shield_without_deadline.run([&]() -> trellis::task<> {
            EXPECT_EQ(trellis::current_effective_deadline(), trellis::inf);
            co_return;
        });
        co_await shield_with_deadline.run([&]() -> trellis::task<> {
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 20s);
            co_return;
        });
    });
    (void)clock;
}

TRELLIS_TEST(CancelScope, EffectiveDeadlineIsNegInfWhenCancelled) {
    trellis::cancel_scope outer;
    trellis::cancel_scope inner;
    trellis::cancel_scope shielded(trellis::inf, true);
    co_await outer.run([&]() -> trellis::task<> {
        outer.cancel();
        EXPECT_EQ(trellis::current_effective_deadline(), trellis::neg_inf);
        co_await inner.run([&]() -> trellis::task<> {
            EXPECT_EQ(trellis::current_effective_deadline(), trellis::neg_inf);
            co_return;
        });
        co_await shielded.run([&]() -> trellis::task<> {
            EXPECT_EQ(trellis::current_effective_deadline(), trellis::inf);
            co_return;
        });
    });
}

TRELLIS_TEST(CancelScope, CancelledIsNotCaughtByCatchStdException) {
    trellis::cancel_scope scope;
    scope.cancel();
    bool caught_as_std_exception = false;
    bool caught_as_cancelled = false;
    co_await scope.run([&]() -> trellis::task<> {
        try {
            try {
                co_await trellis::checkpoint();
            } catch (const std::exception&) {
                caught_as_std_exception = true;
            }
        } catch (const trellis::cancelled& c) {
            caught_as_cancelled = true;
            EXPECT_STREQ(c.what(), "trellis::cancelled");
            throw;
        }
    });
    EXPECT_FALSE(caught_as_std_exception);
    EXPECT_TRUE(caught_as_cancelled);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, CancelIsIdempotent) {
    trellis::cancel_scope scope;
    co_await scope.run([&]() -> trellis::task<> {
        scope.cancel();
        scope.cancel();
        try {
            co_await trellis::checkpoint();
        } catch (const trellis::cancelled&) {
        }
        scope.cancel();
        co_await trellis::checkpoint();
    });
    EXPECT_TRUE(scope.cancel_called());
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, CancelAfterExitOnlySetsCancelCalled) {
    trellis::cancel_scope scope;
    co_await scope.run([]() -> trellis::task<> { co_await trellis::checkpoint(); });
    scope.cancel();
    EXPECT_TRUE(scope.cancel_called());  // as in Trio
    EXPECT_FALSE(scope.cancelled_caught());
    co_await trellis::checkpoint();  // the task itself is not affected
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, CancelCalledIsTrueOnceTheDeadlinePassedEvenBeforeTheSchedulerNotices, clock) {
    trellis::cancel_scope scope(t0 + 1s);
    co_await scope.run([&]() -> trellis::task<> {
        EXPECT_FALSE(scope.cancel_called());
        clock.jump(2s);  // no checkpoint yet: the deadline has not been processed
        EXPECT_TRUE(scope.cancel_called());
        bool raised = false;
        try {
            co_await trellis::checkpoint();
        } catch (const trellis::cancelled&) {
            raised = true;
            throw;
        }
        EXPECT_TRUE(raised);
    });
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, CancelCalledOfAScopeNotYetEnteredSeesAPassedDeadline, clock) {
    trellis::cancel_scope scope(t0 + 1s);
    EXPECT_FALSE(scope.cancel_called());
    clock.jump(1s);
    EXPECT_TRUE(scope.cancel_called());
    co_return;
}

TRELLIS_TEST(CancelScope, CancellingAScopeCancelsTasksInNurseriesInsideIt) {
    trellis::cancel_scope scope;
    bool a = false;
    bool b = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(sleep_and_record, std::ref(a));
            n.start_soon(sleep_and_record, std::ref(b));
            co_await trellis::testing::wait_all_tasks_blocked();
            scope.cancel();
        });
    });
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, OtherErrorsPassThroughACancelledScope) {
    struct boom {};
    trellis::cancel_scope scope;
    bool caught = false;
    try {
        co_await scope.run([&]() -> trellis::task<> {
            scope.cancel();
            throw boom{};
            co_return;
        });
    } catch (const boom&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_FALSE(scope.cancelled_caught());
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, EffectiveDeadlineFollowsDeadlineAndShieldChanges, clock) {
    trellis::cancel_scope outer(t0 + 5s);
    trellis::cancel_scope inner(t0 + 10s);
    co_await outer.run([&]() -> trellis::task<> {
        co_await inner.run([&]() -> trellis::task<> {
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 5s);
            inner.set_deadline(t0 + 3s);
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 3s);
            inner.set_deadline(t0 + 10s);
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 5s);
            inner.set_shield(true);
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 10s);
            inner.set_shield(false);
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 5s);
            outer.cancel();
            EXPECT_EQ(trellis::current_effective_deadline(), trellis::neg_inf);
            inner.set_shield(true);
            EXPECT_EQ(trellis::current_effective_deadline(), t0 + 10s);
            co_return;
        });
        EXPECT_EQ(trellis::current_effective_deadline(), trellis::neg_inf);
    });
    EXPECT_EQ(trellis::current_effective_deadline(), trellis::inf);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, AScopeLeftBeforeItsDeadlineIsNeverCancelledByIt, clock) {
    trellis::cancel_scope scope(t0 + 1s);
    co_await scope.run([]() -> trellis::task<> { co_await trellis::checkpoint(); });
    co_await trellis::sleep(10s);
    clock.jump(10s);
    co_await trellis::checkpoint();
    EXPECT_FALSE(scope.cancel_called());
    EXPECT_FALSE(scope.cancelled_caught());
}

TRELLIS_TEST(CancelScope, UnshieldingWhileACancellationPropagatesDoesNotMakeTheInnerScopeCatchIt) {
    trellis::cancel_scope outer;
    trellis::cancel_scope inner;
    co_await outer.run([&]() -> trellis::task<> {
        co_await inner.run([&]() -> trellis::task<> {
            outer.cancel();
            try {
                co_await trellis::checkpoint();
            } catch (const trellis::cancelled&) {
                inner.set_shield(true);
                throw;
            }
        });
    });
    EXPECT_FALSE(inner.cancelled_caught());
    EXPECT_TRUE(outer.cancelled_caught());
}

TRELLIS_TEST(CancelScope, VeryDeeplyNestedScopesCanBeCancelled) {
    // Recomputing cancellation must not recurse once per scope.
    struct nest {
        static trellis::task<> in(int depth, trellis::cancel_scope& outermost) {
            if (depth == 0) {
                outermost.cancel();
                co_await trellis::sleep_forever();
            }
            trellis::cancel_scope scope;
            co_await scope.run(in, depth - 1, std::ref(outermost));
            ADD_FAILURE() << "an inner scope caught the outer cancellation";
        }
    };
    trellis::cancel_scope outermost;
    co_await outermost.run([&]() -> trellis::task<> { co_await nest::in(2000, outermost); });
    EXPECT_TRUE(outermost.cancelled_caught());
}

TRELLIS_TEST_MOCK_CLOCK(CancelScope, MovingTheDeadlineManyTimesKeepsOnlyTheLastOne, clock) {
    trellis::cancel_scope scope;
    co_await scope.run([&]() -> trellis::task<> {
        for (int i = 0; i < 500; ++i) {
            scope.set_deadline(t0 + 9998s);
            scope.set_deadline(t0 + 9999s);
        }
        co_await trellis::sleep_forever();
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(clock.current_time(), t0 + 9999s);
}

TRELLIS_TEST(CancelScope, ATaskSpawnedIntoACancelledNurseryStartsAndIsCancelledAtItsFirstCheckpoint) {
    std::vector<std::string> record;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.cancel_scope().cancel();
        n.start_soon([&]() -> trellis::task<> {
            record.push_back("started");
            try {
                co_await trellis::sleep_forever();
            } catch (const trellis::cancelled&) {
                record.push_back("cancelled");
                throw;
            }
        });
        co_return;
    });
    EXPECT_EQ(record, (std::vector<std::string>{"started", "cancelled"}));
}

TRELLIS_TEST(CancelScope, CancellationReachesGrandchildrenInNestedNurseries) {
    std::vector<std::string> record;
    auto leaf = [&](std::string id) -> trellis::task<> {
        try {
            co_await trellis::sleep_forever();
        } catch (const trellis::cancelled&) {
            record.push_back(id);
        }
    };
    auto worker = [&](std::string id) -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(leaf, id + "-1");
            n.start_soon(leaf, id + "-2");
            co_return;
        });
    };
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(worker, std::string("a"));
        n.start_soon(worker, std::string("b"));
        n.cancel_scope().cancel();
        co_return;
    });
    std::sort(record.begin(), record.end());
    EXPECT_EQ(record, (std::vector<std::string>{"a-1", "a-2", "b-1", "b-2"}));
}

TRELLIS_TEST(CancelScope, ACallableThatThrowsBeforeMakingItsTaskLeavesTheScopeCleanly) {
    // A plain function returning a task may fail before any coroutine
    // exists (argument checks, allocation). The scope must still be left.
    struct bad_argument {};
    auto checked = [](int x) -> trellis::task<> {
        if (x < 0) throw bad_argument{};
        return []() -> trellis::task<> { co_await trellis::checkpoint(); }();
    };
    bool caught = false;
    {
        trellis::cancel_scope scope;
        try {
            co_await scope.run(checked, -1);
        } catch (const bad_argument&) {
            caught = true;
        }
    }
    EXPECT_TRUE(caught);
    // The task is back in its own scope: an unrelated cancelled scope still
    // behaves, and ordinary checkpoints pass.
    co_await trellis::checkpoint();
    trellis::cancel_scope later;
    later.cancel();
    co_await later.run([]() -> trellis::task<> { co_await trellis::checkpoint(); });
    EXPECT_TRUE(later.cancelled_caught());
    EXPECT_EQ(trellis::current_effective_deadline(), trellis::inf);
}
