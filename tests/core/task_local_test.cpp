// trellis::task_local<T>: values each task sees as its own.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <barrier>
#include <string>
#include <thread>

using trellis::testing::wait_all_tasks_blocked;

namespace {
// Globals, as task_locals are meant to be.
trellis::task_local<int> depth(0);
trellis::task_local<std::string> request_id;
}  // namespace

TRELLIS_TEST(TaskLocal, GetReturnsTheDefaultWhenNothingWasSet) {
    EXPECT_EQ(depth.get(), 0);
    co_return;
}

TRELLIS_TEST(TaskLocal, SetIsSeenByGetInTheSameTask) {
    depth.set(3);
    co_await trellis::checkpoint();
    EXPECT_EQ(depth.get(), 3);
    depth.set(4);
    EXPECT_EQ(depth.get(), 4);
}

TRELLIS_TEST(TaskLocal, ChildrenSpawnedAfterASetSeeTheValue) {
    int seen_by_child = -1;
    int seen_by_grandchild = -1;
    depth.set(5);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            seen_by_child = depth.get();
            co_await trellis::open_nursery([&](trellis::nursery& inner) -> trellis::task<> {
                inner.start_soon([&]() -> trellis::task<> {
                    seen_by_grandchild = depth.get();
                    co_return;
                });
                co_return;
            });
        });
        co_return;
    });
    EXPECT_EQ(seen_by_child, 5);
    EXPECT_EQ(seen_by_grandchild, 5);
}

TRELLIS_TEST(TaskLocal, AChildsSetLeaksNeitherToItsParentNorToItsSiblings) {
    int seen_by_sibling = -1;
    depth.set(1);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            depth.set(99);
            EXPECT_EQ(depth.get(), 99);
            co_return;
        });
        co_await wait_all_tasks_blocked();
        n.start_soon([&]() -> trellis::task<> {
            seen_by_sibling = depth.get();
            co_return;
        });
    });
    EXPECT_EQ(depth.get(), 1);
    EXPECT_EQ(seen_by_sibling, 1);
}

TRELLIS_TEST(TaskLocal, AParentsLaterSetDoesNotReachAnAlreadySpawnedChild) {
    int seen_by_child = -1;
    depth.set(1);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        trellis::event parent_has_set;
        n.start_soon([&]() -> trellis::task<> {
            co_await parent_has_set.wait();
            seen_by_child = depth.get();
        });
        co_await wait_all_tasks_blocked();
        depth.set(2);
        parent_has_set.set();
    });
    EXPECT_EQ(seen_by_child, 1);
    EXPECT_EQ(depth.get(), 2);
}

TRELLIS_TEST(TaskLocal, AValueIsCopiedAtSpawnTimeNotAtFirstRun) {
    int seen_by_child = -1;
    depth.set(1);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            seen_by_child = depth.get();
            co_return;
        });
        depth.set(2);  // before the child's first step
        co_return;
    });
    EXPECT_EQ(seen_by_child, 1);
}

TRELLIS_TEST(TaskLocal, ResetFallsBackToTheDefault) {
    depth.set(8);
    depth.reset();
    EXPECT_EQ(depth.get(), 0);
    request_id.set("abc");
    request_id.reset();
    EXPECT_THROW(request_id.get(), trellis::run_error);
    co_return;
}

TRELLIS_TEST(TaskLocal, ResetInAChildDoesNotAffectTheParent) {
    depth.set(8);
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            depth.reset();
            EXPECT_EQ(depth.get(), 0);
            co_return;
        });
        co_return;
    });
    EXPECT_EQ(depth.get(), 8);
}

TEST(TaskLocal, UseOutsideATaskRaisesRunError) {
    EXPECT_THROW(depth.get(), trellis::run_error);
    EXPECT_THROW(depth.set(1), trellis::run_error);
    EXPECT_THROW(depth.reset(), trellis::run_error);
}

TRELLIS_TEST(TaskLocal, GetWithNoDefaultAndNoValueRaisesRunError) {
    EXPECT_THROW(request_id.get(), trellis::run_error);
    request_id.set("req-1");
    EXPECT_EQ(request_id.get(), "req-1");
    co_return;
}

TEST(TaskLocal, ANewRunStartsWithoutTheValuesOfAnEarlierOne) {
    trellis::run([]() -> trellis::task<> {
        request_id.set("left over");
        co_return;
    });
    const bool raised = trellis::run([]() -> trellis::task<bool> {
        try {
            (void)request_id.get();
        } catch (const trellis::run_error&) {
            co_return true;
        }
        co_return false;
    });
    EXPECT_TRUE(raised);
}

TRELLIS_TEST(TaskLocal, ATaskStartedWithNurseryStartInheritsTheStartersValues) {
    request_id.set("starter");
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        std::string seen = co_await n.start([](trellis::task_status<std::string> status) -> trellis::task<> {
            status.started(request_id.get());
            request_id.set("started task");
            co_await trellis::checkpoint();
            EXPECT_EQ(request_id.get(), "started task");
        });
        EXPECT_EQ(seen, "starter");
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(request_id.get(), "starter");
    });
}

TRELLIS_TEST(TaskLocal, ASystemTaskDoesNotInheritTheValuesOfItsSpawner) {
    // As in Trio: system tasks run in the run's own context, not in that
    // of whichever task happened to spawn them.
    depth.set(7);
    int seen = -1;
    trellis::event done;
    trellis::lowlevel::spawn_system_task([&]() -> trellis::task<> {
        seen = depth.get();
        done.set();
        co_return;
    });
    co_await done.wait();
    EXPECT_EQ(seen, 0);
    EXPECT_EQ(depth.get(), 7);
}

TEST(TaskLocal, ConcurrentRunsOnTwoThreadsHaveIndependentValues) {
    // Both runs set their value, then both read it back after the other has
    // set its own.
    std::barrier both_set(2);
    int seen[2] = {-1, -1};
    auto run_on = [&](int me) {
        trellis::run([&, me]() -> trellis::task<> {
            depth.set(100 + me);
            co_await trellis::checkpoint();
            both_set.arrive_and_wait();
            seen[me] = depth.get();
        });
    };
    std::thread other(run_on, 1);
    run_on(0);
    other.join();
    EXPECT_EQ(seen[0], 100);
    EXPECT_EQ(seen[1], 101);
}

TRELLIS_TEST(TaskLocal, GetWithADefaultArgumentReturnsItWhenNothingIsSet) {
    trellis::task_local<int> unset;
    EXPECT_EQ(unset.get(9), 9);
    auto tok = unset.set(1);
    EXPECT_EQ(unset.get(9), 1);
    unset.reset(tok);
    EXPECT_EQ(unset.get(9), 9);
    co_return;
}

TRELLIS_TEST(TaskLocal, ResetWithATokenRestoresThePreviousValueOnceOnly) {
    trellis::task_local<std::string> var("default");
    auto first = var.set("a");
    auto second = var.set("b");
    var.reset(second);
    EXPECT_EQ(var.get(), "a");
    EXPECT_THROW(var.reset(second), trellis::run_error);
    var.reset(first);
    EXPECT_EQ(var.get(), "default");
    co_return;
}

TRELLIS_TEST(TaskLocal, AFunctionRunByToThreadSeesTheCallersValuesAndItsSetsStayThere) {
    trellis::task_local<int> var(0);
    var.set(41);
    auto on_worker = [&var] {
        const int seen = var.get();
        var.set(99);  // the worker's own copy
        return seen + 1;
    };
    const int result = co_await trellis::to_thread::run_sync(on_worker);
    EXPECT_EQ(result, 42);
    EXPECT_EQ(var.get(), 41);
}

TRELLIS_TEST(TaskLocal, ResetWithAnotherTaskLocalsTokenRaisesRunErrorAndChangesNothing) {
    trellis::task_local<int> var(0);
    trellis::task_local<int> other(0);
    auto foreign = other.set(5);
    var.set(3);
    std::string message;
    try {
        var.reset(foreign);
    } catch (const trellis::run_error& e) {
        message = e.what();
    }
    EXPECT_EQ(message, "task_local::reset: the token was made by another task_local");
    EXPECT_EQ(var.get(), 3);
    other.reset(foreign);
    EXPECT_EQ(other.get(), 0);
    co_return;
}
