// Nurseries: joining children, errors, cancellation, spawning.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct first_error : std::runtime_error {
    first_error() : std::runtime_error("first failure") {}
};
struct second_error : std::runtime_error {
    second_error() : std::runtime_error("second failure") {}
};

// A child that sleeps until cancelled and counts the cancellation.
trellis::task<> sleep_until_cancelled(int& cancelled_count) {
    try {
        co_await trellis::sleep_forever();
    } catch (const trellis::cancelled&) {
        ++cancelled_count;
        throw;
    }
}

}  // namespace

TRELLIS_TEST_MOCK_CLOCK(Nursery, WaitsForEveryChildBeforeReturning, clock) {
    std::vector<int> finished;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 3; i >= 1; --i)
            n.start_soon(
                [&](int id) -> trellis::task<> {
                    co_await trellis::sleep(std::chrono::seconds(id));
                    finished.push_back(id);
                },
                i);
        co_return;
    });
    EXPECT_EQ(finished, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(clock.current_time(), trellis::time_point{} + 3s);
}

TRELLIS_TEST(Nursery, AChildErrorCancelsItsSiblingsAndPropagatesAsItself) {
    int cancelled_siblings = 0;
    bool caught = false;
    try {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(sleep_until_cancelled, std::ref(cancelled_siblings));
            n.start_soon(sleep_until_cancelled, std::ref(cancelled_siblings));
            n.start_soon([]() -> trellis::task<> {
                co_await trellis::checkpoint();
                throw first_error();
            });
            co_return;
        });
    } catch (const first_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(cancelled_siblings, 2);
}

TRELLIS_TEST(Nursery, AnErrorInTheBodyCancelsTheChildrenAndPropagates) {
    int cancelled_children = 0;
    bool caught = false;
    try {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
            n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
            co_await trellis::testing::wait_all_tasks_blocked();
            throw first_error();
        });
    } catch (const first_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_EQ(cancelled_children, 2);
}

TRELLIS_TEST(Nursery, TwoFailingChildrenRaiseAnExceptionGroupHoldingBoth) {
    bool caught = false;
    try {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([]() -> trellis::task<> {
                co_await trellis::lowlevel::cancel_shielded_checkpoint();
                throw first_error();
            });
            n.start_soon([]() -> trellis::task<> {
                co_await trellis::lowlevel::cancel_shielded_checkpoint();
                throw second_error();
            });
            co_return;
        });
    } catch (const trellis::exception_group& g) {
        caught = true;
        EXPECT_EQ(g.exceptions().size(), 2u);
        EXPECT_TRUE(g.contains<first_error>());
        EXPECT_TRUE(g.contains<second_error>());
        const std::string what = g.what();
        EXPECT_NE(what.find("first failure"), std::string::npos) << what;
        EXPECT_NE(what.find("second failure"), std::string::npos) << what;
    }
    EXPECT_TRUE(caught);
}

TRELLIS_TEST(Nursery, AFailingBodyAndAFailingChildRaiseAnExceptionGroupHoldingBoth) {
    bool caught = false;
    try {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([]() -> trellis::task<> {
                try {
                    co_await trellis::sleep_forever();
                } catch (const trellis::cancelled&) {
                }
                throw second_error();
            });
            co_await trellis::testing::wait_all_tasks_blocked();
            throw first_error();
        });
    } catch (const trellis::exception_group& g) {
        caught = true;
        EXPECT_EQ(g.size(), 2u);
        std::vector<std::string> kinds;
        for (const auto& e : g.exceptions()) {
            try {
                std::rethrow_exception(e);
            } catch (const first_error&) {
                kinds.push_back("first");
            } catch (const second_error&) {
                kinds.push_back("second");
            } catch (...) {
                kinds.push_back("other");
            }
        }
        EXPECT_EQ(kinds, (std::vector<std::string>{"first", "second"}));
        const std::string what = g.what();
        EXPECT_NE(what.find("first failure"), std::string::npos) << what;
        EXPECT_NE(what.find("second failure"), std::string::npos) << what;
    }
    EXPECT_TRUE(caught);
}

TEST(Nursery, StrictExceptionGroupsWrapASingleError) {
    trellis::run_options options;
    options.strict_exception_groups = true;
    bool caught = false;
    try {
        trellis::run(options, []() -> trellis::task<> {
            co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
                n.start_soon([]() -> trellis::task<> {
                    co_await trellis::checkpoint();
                    throw first_error();
                });
                co_return;
            });
        });
    } catch (const trellis::exception_group& g) {
        caught = true;
        EXPECT_EQ(g.size(), 1u);
        EXPECT_TRUE(g.contains<first_error>());
    } catch (...) {
        ADD_FAILURE() << "expected an exception_group, got " << trellis::describe(std::current_exception());
    }
    EXPECT_TRUE(caught);
}

TEST(Nursery, WithoutStrictExceptionGroupsASingleErrorIsRaisedAsItself) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<> {
                     co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
                         n.start_soon([]() -> trellis::task<> {
                             co_await trellis::checkpoint();
                             throw first_error();
                         });
                         co_return;
                     });
                 }),
                 first_error);
}

TRELLIS_TEST(Nursery, StartSoonKeepsALambdaAndItsCapturesAliveUntilTheChildEnds) {
    std::string seen;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        {
            // Long enough not to fit in the small-string buffer, so a dangling
            // capture would be a use after free (caught by ASan).
            std::string text(100, 'x');
            n.start_soon([&seen, text]() -> trellis::task<> {
                co_await trellis::checkpoint();
                co_await trellis::checkpoint();
                seen = text;
            });
        }
        co_return;
    });
    EXPECT_EQ(seen, std::string(100, 'x'));
}

TRELLIS_TEST(Nursery, StartSoonKeepsStringArgumentsAliveUntilTheChildEnds) {
    std::vector<std::string> seen;
    auto child = [&seen](const std::string& by_ref, std::string by_value) -> trellis::task<> {
        co_await trellis::checkpoint();
        seen.push_back(by_ref);
        seen.push_back(by_value);
    };
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        {
            std::string a(80, 'a');
            n.start_soon(child, a, std::string(80, 'b'));
            a.assign(80, 'z');  // the child got its own copy
        }
        co_return;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{std::string(80, 'a'), std::string(80, 'b')}));
}

TRELLIS_TEST(Nursery, StartSoonMovesMoveOnlyArgumentsIntoTheChild) {
    int seen = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(
            [&seen](std::unique_ptr<int> p) -> trellis::task<> {
                co_await trellis::checkpoint();
                seen = *p;
            },
            std::make_unique<int>(7));
        co_return;
    });
    EXPECT_EQ(seen, 7);
}

TRELLIS_TEST(Nursery, StartSoonIntoAClosedNurseryRaisesRunError) {
    // The nursery object only exists until open_nursery returns; it is
    // closed (and still alive) while its parent passes the final checkpoint
    // on the way out. A sibling task uses that window.
    trellis::nursery* inner = nullptr;
    bool checked = false;
    co_await trellis::open_nursery([&](trellis::nursery& outer) -> trellis::task<> {
        outer.start_soon([&]() -> trellis::task<> {
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                inner = &n;
                co_return;
            });
            inner = nullptr;
        });
        outer.start_soon([&]() -> trellis::task<> {
            while (!inner) co_await trellis::checkpoint();
            EXPECT_TRUE(inner->closed());
            EXPECT_THROW(inner->start_soon([]() -> trellis::task<> { co_return; }), trellis::run_error);
            EXPECT_THROW(co_await inner->start([](trellis::task_status<> s) -> trellis::task<> {
                s.started();
                co_return;
            }),
                         trellis::run_error);
            checked = true;
        });
        co_return;
    });
    EXPECT_TRUE(checked);
}

TRELLIS_TEST(Nursery, ChildrenCanStartSiblingsWhileTheParentWaits) {
    std::vector<std::string> ran;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::checkpoint();  // the body has returned by now
            ran.push_back("first");
            n.start_soon([&]() -> trellis::task<> {
                co_await trellis::checkpoint();
                ran.push_back("sibling");
            });
        });
        co_return;
    });
    EXPECT_EQ(ran, (std::vector<std::string>{"first", "sibling"}));
}

TRELLIS_TEST(Nursery, CancellingItsScopeCancelsEverythingAndReturnsNormally) {
    int cancelled_children = 0;
    bool body_cancelled = false;
    trellis::cancel_scope* scope = nullptr;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        scope = &n.cancel_scope();
        n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
        n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
        n.start_soon([&n]() -> trellis::task<> {
            co_await trellis::testing::wait_all_tasks_blocked();
            n.cancel_scope().cancel();
        });
        try {
            co_await trellis::sleep_forever();
        } catch (const trellis::cancelled&) {
            body_cancelled = true;
            throw;
        }
    });
    EXPECT_TRUE(body_cancelled);
    EXPECT_EQ(cancelled_children, 2);
}

TRELLIS_TEST(Nursery, ParentTaskIsTheOpenerAndChildTasksListsTheRunningChildren) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        EXPECT_EQ(n.parent_task(), trellis::lowlevel::current_task());
        EXPECT_TRUE(n.child_tasks().empty());
        trellis::event release;
        std::vector<trellis::lowlevel::task_handle> seen;
        auto child = [&]() -> trellis::task<> {
            seen.push_back(trellis::lowlevel::current_task());
            co_await release.wait();
        };
        n.start_soon(child);
        n.start_soon(child);
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_EQ(n.child_tasks(), seen);
        EXPECT_EQ(n.child_tasks().size(), 2u);
        for (const auto& h : n.child_tasks()) EXPECT_EQ(h.parent_nursery(), &n);
        release.set();
        co_await trellis::testing::wait_all_tasks_blocked();
        EXPECT_TRUE(n.child_tasks().empty());
    });
}

TRELLIS_TEST(Nursery, LeavingANurseryWithNoChildrenLetsOtherTasksRun) {
    std::vector<std::string> order;
    co_await trellis::open_nursery([&](trellis::nursery& outer) -> trellis::task<> {
        outer.start_soon([&]() -> trellis::task<> {
            co_await trellis::open_nursery([](trellis::nursery&) -> trellis::task<> { co_return; });
            order.push_back("left empty nursery");
        });
        outer.start_soon([&]() -> trellis::task<> {
            order.push_back("other task");
            co_return;
        });
        co_return;
    });
    EXPECT_EQ(order, (std::vector<std::string>{"other task", "left empty nursery"}));
}

TRELLIS_TEST(Nursery, LeavingANurseryWithNoChildrenRaisesCancelledInACancelledScope) {
    bool after = false;
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::open_nursery([](trellis::nursery&) -> trellis::task<> { co_return; });
        after = true;
    });
    EXPECT_FALSE(after);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST_MOCK_CLOCK(Nursery, AnOuterCancelWhileTheParentWaitsCancelsTheChildrenAndIsCaughtOutside, clock) {
    int cancelled_children = 0;
    bool body_returned = false;
    trellis::cancel_scope outer(trellis::time_point{} + 5s);
    co_await outer.run([&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
            n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
            body_returned = true;
            co_return;
        });
        ADD_FAILURE() << "open_nursery should have raised cancelled";
    });
    EXPECT_TRUE(body_returned);
    EXPECT_EQ(cancelled_children, 2);
    EXPECT_TRUE(outer.cancelled_caught());
    EXPECT_EQ(clock.current_time(), trellis::time_point{} + 5s);
}

TRELLIS_TEST(Nursery, ACancelledChildDoesNotCancelItsSiblings) {
    // A child whose own scope catches a cancellation ends normally.
    bool sibling_finished = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([]() -> trellis::task<> {
            trellis::cancel_scope own;
            own.cancel();
            co_await own.run([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
        });
        n.start_soon([&]() -> trellis::task<> {
            for (int i = 0; i < 3; ++i) co_await trellis::checkpoint();
            sibling_finished = true;
        });
        co_return;
    });
    EXPECT_TRUE(sibling_finished);
}

TEST(Nursery, WithStrictExceptionGroupsACancelledNurseryStillReturnsNormally) {
    trellis::run_options options;
    options.strict_exception_groups = true;
    int cancelled_children = 0;
    EXPECT_NO_THROW(trellis::run(options, [&]() -> trellis::task<> {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
            co_await trellis::testing::wait_all_tasks_blocked();
            n.cancel_scope().cancel();
        });
    }));
    EXPECT_EQ(cancelled_children, 1);
}

TEST(Nursery, WithStrictExceptionGroupsAnOuterScopeStillCatchesTheCancellationOfItsNursery) {
    trellis::run_options options;
    options.strict_exception_groups = true;
    bool caught = false;
    EXPECT_NO_THROW(trellis::run(options, [&]() -> trellis::task<> {
        int cancelled_children = 0;
        trellis::cancel_scope outer;
        co_await outer.run([&]() -> trellis::task<> {
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
                n.start_soon(sleep_until_cancelled, std::ref(cancelled_children));
                co_await trellis::testing::wait_all_tasks_blocked();
                outer.cancel();
            });
        });
        caught = outer.cancelled_caught() && cancelled_children == 2;
    }));
    EXPECT_TRUE(caught);
}

TRELLIS_TEST(Nursery, AChildErrorWakesABodyBlockedForever) {
    bool caught = false;
    try {
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([]() -> trellis::task<> {
                throw first_error();
                co_return;
            });
            co_await trellis::sleep_forever();
        });
    } catch (const first_error&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
}

TRELLIS_TEST(Nursery, ABodyThatThrowsBeforeMakingItsTaskClosesTheNurseryCleanly) {
    struct bad_argument {};
    bool caught = false;
    try {
        co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([]() -> trellis::task<> { co_await trellis::checkpoint(); });
            throw bad_argument{};
        });
    } catch (const bad_argument&) {
        caught = true;
    }
    EXPECT_TRUE(caught);
    EXPECT_TRUE(trellis::lowlevel::current_task().child_nurseries().empty());
    co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([]() -> trellis::task<> { co_await trellis::checkpoint(); });
        co_return;
    });
}

TRELLIS_TEST(Nursery, CancellationsTravelWithARealErrorUntilTheirScopeTakesThemOut) {
    trellis::cancel_scope outer;
    bool caught_alone = false;
    bool group_seen_inside = false;
    try {
        co_await outer.run([&]() -> trellis::task<> {
            try {
                co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                    n.start_soon([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
                    n.start_soon([&]() -> trellis::task<> {
                        co_await trellis::testing::wait_all_tasks_blocked();
                        outer.cancel();
                        co_await trellis::lowlevel::cancel_shielded_checkpoint();
                        throw first_error();
                    });
                    co_await trellis::sleep_forever();
                });
            } catch (const trellis::exception_group& group) {
                // Inside the cancelled scope the real error travels in a
                // group with the cancellation (Trio 0.22's MultiError).
                group_seen_inside = group.contains<first_error>() && group.contains<trellis::cancelled>();
                throw;
            }
        });
    } catch (const first_error&) {
        caught_alone = true;
    }
    EXPECT_TRUE(group_seen_inside);
    EXPECT_TRUE(caught_alone);
    EXPECT_TRUE(outer.cancelled_caught());
}

TRELLIS_TEST(Nursery, AStrictGroupKeepsItsRealErrorsInAGroupAfterItsCancellationIsTakenOut) {
    trellis::cancel_scope outer;
    std::size_t left = 0;
    try {
        co_await outer.run([&]() -> trellis::task<> {
            co_await trellis::open_nursery(
                {.strict_exception_groups = true}, [&](trellis::nursery& n) -> trellis::task<> {
                    n.start_soon([&]() -> trellis::task<> {
                        outer.cancel();
                        co_await trellis::lowlevel::cancel_shielded_checkpoint();
                        throw first_error();
                    });
                    co_await trellis::sleep_forever();
                });
        });
    } catch (const trellis::exception_group& group) {
        left = group.size();
        EXPECT_TRUE(group.contains<first_error>());
        EXPECT_FALSE(group.contains<trellis::cancelled>());
    }
    EXPECT_EQ(left, 1u);
    EXPECT_TRUE(outer.cancelled_caught());
}

TRELLIS_TEST(Nursery, ANurseryOptionMakesGroupsStrictInARunThatIsNot) {
    bool wrapped = false;
    try {
        co_await trellis::open_nursery({.strict_exception_groups = true}, [](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([]() -> trellis::task<> {
                throw first_error();
                co_return;
            });
            co_return;
        });
    } catch (const trellis::exception_group& group) {
        wrapped = group.size() == 1;
    }
    EXPECT_TRUE(wrapped);
}

TEST(Nursery, ANurseryOptionMakesGroupsLooseInAStrictRun) {
    trellis::run_options options;
    options.strict_exception_groups = true;
    bool as_itself = false;
    trellis::run(options, [&]() -> trellis::task<> {
        try {
            co_await trellis::open_nursery({.strict_exception_groups = false}, [](trellis::nursery& n) -> trellis::task<> {
                n.start_soon([]() -> trellis::task<> {
                    throw first_error();
                    co_return;
                });
                co_return;
            });
        } catch (const first_error&) {
            as_itself = true;
        }
    });
    EXPECT_TRUE(as_itself);
}
