// trellis::task<T>: the lazy, move-only coroutine type.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

struct custom_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

trellis::task<int> answer() {
    co_await trellis::checkpoint();
    co_return 42;
}

trellis::task<int> add_after_checkpoint(int a, int b) {
    co_await trellis::checkpoint();
    co_return a + b;
}

trellis::task<> fail_after_checkpoint() {
    co_await trellis::checkpoint();
    throw custom_error("from inside the task");
}

}  // namespace

TRELLIS_TEST(Task, AwaitingAValueTaskReturnsItsValue) {
    int v = co_await answer();
    EXPECT_EQ(v, 42);
}

TRELLIS_TEST(Task, AwaitingAVoidTaskRunsItsBodyToTheEnd) {
    int steps = 0;
    co_await [&]() -> trellis::task<> {
        ++steps;
        co_await trellis::checkpoint();
        ++steps;
    }();
    EXPECT_EQ(steps, 2);
}

TRELLIS_TEST(Task, AMoveOnlyValueIsHandedBackToTheAwaiter) {
    auto p = co_await []() -> trellis::task<std::unique_ptr<std::string>> {
        co_await trellis::checkpoint();
        co_return std::make_unique<std::string>("owned");
    }();
    EXPECT_TRUE(p != nullptr);
    if (p) {
        EXPECT_EQ(*p, "owned");
    }
}

TRELLIS_TEST(Task, AnExceptionPropagatesThroughCoAwait) {
    bool caught = false;
    try {
        co_await fail_after_checkpoint();
    } catch (const custom_error& e) {
        caught = std::string(e.what()) == "from inside the task";
    }
    EXPECT_TRUE(caught);
}

TRELLIS_TEST(Task, AnExceptionPropagatesThroughSeveralNestedTasks) {
    auto middle = []() -> trellis::task<int> {
        co_await fail_after_checkpoint();
        co_return 1;
    };
    auto outer = [&]() -> trellis::task<int> { co_return co_await middle(); };
    EXPECT_THROW(co_await outer(), custom_error);
}

TRELLIS_TEST(Task, NestedTasksComposeTheirValues) {
    auto outer = []() -> trellis::task<int> {
        int a = co_await add_after_checkpoint(1, 2);
        int b = co_await add_after_checkpoint(a, 10);
        co_return b * 2;
    };
    EXPECT_EQ(co_await outer(), 26);
}

TRELLIS_TEST(Task, NothingRunsBeforeTheTaskIsAwaited) {
    bool started = false;
    auto body = [&]() -> trellis::task<> {
        started = true;
        co_return;
    };
    auto t = body();
    co_await trellis::checkpoint();
    EXPECT_FALSE(started);
    co_await std::move(t);
    EXPECT_TRUE(started);
}

TRELLIS_TEST(Task, ATaskDestroyedWithoutBeingAwaitedNeverRuns) {
    bool started = false;
    auto destroyed = std::make_shared<int>(0);
    std::weak_ptr<int> watch = destroyed;
    {
        auto t = [](bool& flag, std::shared_ptr<int> keep) -> trellis::task<> {
            flag = true;
            (void)keep;
            co_return;
        }(started, std::move(destroyed));
        co_await trellis::checkpoint();
    }
    EXPECT_FALSE(started);
    EXPECT_TRUE(watch.expired());  // the frame (and its parameters) are freed
}

TRELLIS_TEST(Task, AwaitingAMovedFromTaskRaisesRunError) {
    auto t = answer();
    auto other = std::move(t);
    EXPECT_FALSE(static_cast<bool>(t));
    EXPECT_TRUE(static_cast<bool>(other));
    EXPECT_THROW(co_await std::move(t), trellis::run_error);
    EXPECT_EQ(co_await std::move(other), 42);
}

TRELLIS_TEST(Task, AwaitingADefaultConstructedTaskRaisesRunError) {
    trellis::task<int> empty;
    EXPECT_THROW(co_await std::move(empty), trellis::run_error);
}

TRELLIS_TEST(Task, MoveAssignmentDestroysTheOldFrameWithoutRunningIt) {
    std::vector<int> ran;
    auto make = [&](int i) -> trellis::task<> {
        ran.push_back(i);
        co_return;
    };
    auto t = make(1);
    t = make(2);
    co_await std::move(t);
    EXPECT_EQ(ran, std::vector<int>{2});
}
