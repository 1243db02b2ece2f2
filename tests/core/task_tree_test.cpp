// Task tree introspection: names, ids, parent and child nurseries.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <string>
#include <vector>

namespace lowlevel = trellis::lowlevel;
using trellis::testing::wait_all_tasks_blocked;

namespace {

struct distinctive_worker {
    std::string* name_out;
    trellis::task<> operator()() const {
        *name_out = lowlevel::current_task().name();
        co_return;
    }
};

trellis::task<> plainly_named_function(std::string* name_out, int) {
    *name_out = lowlevel::current_task().name();
    co_return;
}

}  // namespace

TRELLIS_TEST(TaskTree, ATaskStartedFromAPlainFunctionIsNamedAfterTheFunction) {
    std::string name;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(plainly_named_function, &name, 1);
        co_return;
    });
    // Its demangled symbol, found even though the function is internal to
    // this file (no dynamic symbol): "(anonymous namespace)::plainly_named_function(...)".
    EXPECT_NE(name.find("plainly_named_function("), std::string::npos) << name;
}

TRELLIS_TEST(TaskTree, ANamedTaskHasItsName) {
    std::string name;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(trellis::named("worker"), [&]() -> trellis::task<> {
            name = lowlevel::current_task().name();
            co_return;
        });
        co_return;
    });
    EXPECT_EQ(name, "worker");
}

TRELLIS_TEST(TaskTree, AnUnnamedTaskIsNamedAfterItsCallablesType) {
    std::string name;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(distinctive_worker{&name});
        co_return;
    });
    EXPECT_NE(name.find("distinctive_worker"), std::string::npos) << name;
}

TRELLIS_TEST(TaskTree, AnUnnamedLambdaTaskHasANonEmptyName) {
    std::string name;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            name = lowlevel::current_task().name();
            co_return;
        });
        co_return;
    });
    EXPECT_NE(name.find("lambda"), std::string::npos) << name;
}

TRELLIS_TEST(TaskTree, TheRootTaskHasNoParentNursery) {
    EXPECT_FALSE(lowlevel::current_root_task().parent_nursery());
    EXPECT_EQ(lowlevel::current_root_task().name(), "<root>");
    co_return;
}

TRELLIS_TEST(TaskTree, AChildsParentNurseryIsTheNurseryItWasStartedIn) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            EXPECT_EQ(lowlevel::current_task().parent_nursery(), &n);
            co_return;
        });
        co_return;
    });
}

TRELLIS_TEST(TaskTree, ANurserysParentTaskIsTheTaskThatOpenedIt) {
    const lowlevel::task_handle me = lowlevel::current_task();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        EXPECT_EQ(n.parent_task(), me);
        co_return;
    });
}

TRELLIS_TEST(TaskTree, ChildNurseriesListsOpenNurseriesOutermostFirst) {
    const lowlevel::task_handle me = lowlevel::current_task();
    EXPECT_TRUE(me.child_nurseries().empty());
    co_await trellis::open_nursery([&](trellis::nursery& outer) -> trellis::task<> {
        EXPECT_EQ(me.child_nurseries(), (std::vector<trellis::nursery*>{&outer}));
        co_await trellis::open_nursery([&](trellis::nursery& inner) -> trellis::task<> {
            EXPECT_EQ(me.child_nurseries(), (std::vector<trellis::nursery*>{&outer, &inner}));
            co_return;
        });
        EXPECT_EQ(me.child_nurseries(), (std::vector<trellis::nursery*>{&outer}));
    });
    EXPECT_TRUE(me.child_nurseries().empty());
}

TRELLIS_TEST(TaskTree, ChildTasksListsRunningChildrenInSpawnOrder) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        EXPECT_TRUE(n.child_tasks().empty());
        trellis::event release_first;
        trellis::event release_second;
        n.start_soon(trellis::named("first"), [&]() -> trellis::task<> { co_await release_first.wait(); });
        n.start_soon(trellis::named("second"), [&]() -> trellis::task<> { co_await release_second.wait(); });
        co_await wait_all_tasks_blocked();
        std::vector<std::string> names;
        for (auto t : n.child_tasks()) names.push_back(t.name());
        EXPECT_EQ(names, (std::vector<std::string>{"first", "second"}));
        release_first.set();
        co_await wait_all_tasks_blocked();
        names.clear();
        for (auto t : n.child_tasks()) names.push_back(t.name());
        EXPECT_EQ(names, (std::vector<std::string>{"second"}));
        release_second.set();
    });
}

TRELLIS_TEST(TaskTree, TaskIdsAreUniqueAndFollowSpawnOrder) {
    std::vector<std::uint64_t> ids;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 0; i < 5; ++i)
            n.start_soon([&]() -> trellis::task<> {
                ids.push_back(lowlevel::current_task().id());
                co_return;
            });
        co_return;
    });
    EXPECT_EQ(ids.size(), 5u);
    for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_LT(ids[i - 1], ids[i]);
    EXPECT_LT(lowlevel::current_task().id(), ids.front());
}

TRELLIS_TEST(TaskTree, AStartedTaskMovesToTheTargetNursery) {
    co_await trellis::open_nursery([&](trellis::nursery& target) -> trellis::task<> {
        trellis::nursery* before = nullptr;
        trellis::nursery* after = nullptr;
        trellis::event release;
        co_await target.start([&](trellis::task_status<> status = {}) -> trellis::task<> {
            before = lowlevel::current_task().parent_nursery();
            status.started();
            after = lowlevel::current_task().parent_nursery();
            co_await release.wait();
        });
        EXPECT_NE(before, &target);
        EXPECT_EQ(after, &target);
        EXPECT_EQ(target.child_tasks().size(), 1u);
        release.set();
    });
}

TEST(TaskTree, ADefaultTaskHandleIsEmpty) {
    lowlevel::task_handle none;
    EXPECT_FALSE(none);
    EXPECT_EQ(none, lowlevel::task_handle());
}
