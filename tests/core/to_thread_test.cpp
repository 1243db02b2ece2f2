// trellis::to_thread::run_sync and the thread cache under it.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

using namespace std::chrono_literals;
namespace to_thread = trellis::to_thread;
using trellis::task;

namespace {

// A door that worker threads wait at until the test opens it. open() never
// blocks, so a task may call it.
class gate {
public:
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        cv_.notify_all();
    }
    void wait() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return open_; });
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

// Polls pred with short real sleeps: for waiting on worker threads, which
// have no way to wake a task by themselves. The test watchdog bounds it.
task<> wait_until(std::function<bool()> pred) {
    while (!pred()) co_await trellis::sleep(1ms);
}

// Counts the calls inside a function at once, and the most there ever were.
struct concurrency_meter {
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    void enter() {
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
    }
    void leave() { --inside; }
};

// Sets the thread cache's idle timeout for one test.
class idle_timeout_override {
public:
    explicit idle_timeout_override(std::chrono::nanoseconds timeout)
        : saved_(trellis::lowlevel::thread_cache_idle_timeout()) {
        trellis::lowlevel::set_thread_cache_idle_timeout(timeout);
    }
    ~idle_timeout_override() { trellis::lowlevel::set_thread_cache_idle_timeout(saved_); }
    idle_timeout_override(const idle_timeout_override&) = delete;
    idle_timeout_override& operator=(const idle_timeout_override&) = delete;

private:
    std::chrono::nanoseconds saved_;
};

}  // namespace

TRELLIS_TEST(ToThread, ReturnsTheFunctionsValue) {
    int value = co_await to_thread::run_sync([](int a, int b) { return a * b; }, 6, 7);
    EXPECT_EQ(value, 42);
}

TRELLIS_TEST(ToThread, ReturnsMoveOnlyValues) {
    auto value = co_await to_thread::run_sync([] { return std::make_unique<std::string>("moved"); });
    EXPECT_EQ(*value, "moved");
}

TRELLIS_TEST(ToThread, RethrowsTheFunctionsErrorInTheTask) {
    std::string message;
    try {
        co_await to_thread::run_sync([] { throw std::runtime_error("boom in a thread"); });
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    EXPECT_EQ(message, "boom in a thread");
}

TRELLIS_TEST(ToThread, RunsTheFunctionOnAnotherThread) {
    const auto worker = co_await to_thread::run_sync([] { return std::this_thread::get_id(); });
    EXPECT_NE(worker, std::this_thread::get_id());
}

TRELLIS_TEST(ToThread, OtherTasksRunWhileTheThreadWorks) {
    gate g;
    bool sibling_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            co_await to_thread::run_sync([&] { g.wait(); });
            EXPECT_TRUE(sibling_ran);
        });
        n.start_soon([&]() -> task<> {
            co_await trellis::checkpoint();
            sibling_ran = true;
            g.open();
        });
        co_return;
    });
}

TRELLIS_TEST(ToThread, SequentialCallsReuseTheSameThread) {
    // thread_local state survives only on the same thread (a thread id alone
    // could be recycled by a new thread).
    auto visit = [] {
        thread_local int visits = 0;
        return std::pair(std::this_thread::get_id(), ++visits);
    };
    const auto first = co_await to_thread::run_sync(visit);
    const auto second = co_await to_thread::run_sync(visit);
    EXPECT_EQ(second.first, first.first);
    EXPECT_EQ(second.second, first.second + 1);
}

TRELLIS_TEST(ToThread, DefaultLimiterCapsConcurrencyAtForty) {
    auto& limiter = to_thread::current_default_thread_limiter();
    EXPECT_EQ(limiter.total_tokens(), 40u);
    concurrency_meter meter;
    gate g;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        for (int i = 0; i < 60; ++i)
            n.start_soon([&]() -> task<> {
                co_await to_thread::run_sync([&] {
                    meter.enter();
                    g.wait();
                    meter.leave();
                });
            });
        co_await wait_until([&] { return meter.inside.load() == 40; });
        EXPECT_EQ(limiter.borrowed_tokens(), 40u);
        EXPECT_EQ(limiter.statistics().tasks_waiting, 20u);
        g.open();
    });
    EXPECT_EQ(meter.most.load(), 40);
    EXPECT_EQ(limiter.borrowed_tokens(), 0u);
}

TRELLIS_TEST(ToThread, CustomLimiterCapsConcurrency) {
    trellis::capacity_limiter limiter(2);
    concurrency_meter meter;
    gate g;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        for (int i = 0; i < 5; ++i)
            n.start_soon([&]() -> task<> {
                co_await to_thread::run_sync({.limiter = &limiter}, [&] {
                    meter.enter();
                    g.wait();
                    meter.leave();
                });
            });
        co_await wait_until([&] { return meter.inside.load() == 2; });
        EXPECT_EQ(limiter.statistics().tasks_waiting, 3u);
        EXPECT_EQ(to_thread::current_default_thread_limiter().borrowed_tokens(), 0u);
        g.open();
    });
    EXPECT_EQ(meter.most.load(), 2);
}

TRELLIS_TEST(ToThread, DefaultLimiterBelongsToTheRun) {
    auto* in_this_run = &to_thread::current_default_thread_limiter();
    EXPECT_EQ(&to_thread::current_default_thread_limiter(), in_this_run);
    // A change made in one run does not leak into the next.
    in_this_run->set_total_tokens(3);
    const auto total_in_another_run = co_await to_thread::run_sync([] {
        return trellis::run([]() -> task<std::size_t> {
            co_return to_thread::current_default_thread_limiter().total_tokens();
        });
    });
    EXPECT_EQ(total_in_another_run, 40u);
}

TRELLIS_TEST(ToThread, CancelledCallRaisesCancelledWithoutRunningTheFunction) {
    std::atomic<bool> ran{false};
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> task<> { co_await to_thread::run_sync([&] { ran = true; }); });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_FALSE(ran.load());
}

TRELLIS_TEST_MOCK_CLOCK(ToThread, CancellationWithoutAbandonWaitsForTheThreadAndKeepsItsValue, clock) {
    (void)clock;
    gate g;
    std::optional<int> value;
    bool passed_next_checkpoint = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            co_await trellis::move_on_after(1s, [&]() -> task<> {
                value = co_await to_thread::run_sync([&] {
                    g.wait();
                    return 7;
                });
                co_await trellis::checkpoint();  // the cancellation arrives here
                passed_next_checkpoint = true;
            });
        });
        co_await trellis::sleep(2s);  // the deadline has passed by now
        EXPECT_FALSE(value.has_value()) << "run_sync returned before its thread finished";
        g.open();
    });
    EXPECT_EQ(value.value_or(-1), 7);
    EXPECT_FALSE(passed_next_checkpoint);
}

TRELLIS_TEST_MOCK_CLOCK(ToThread, AbandonOnCancelRaisesCancelledWhileTheThreadRuns, clock) {
    (void)clock;
    gate g;
    std::atomic<bool> thread_done{false};
    trellis::capacity_limiter limiter(1);
    const bool finished = co_await trellis::move_on_after(1s, [&]() -> task<> {
        co_await to_thread::run_sync({.limiter = &limiter, .abandon_on_cancel = true}, [&] {
            g.wait();
            thread_done = true;
            return 7;
        });
    });
    EXPECT_FALSE(finished);
    EXPECT_FALSE(thread_done.load());
    g.open();
    co_await limiter.acquire();  // the thread's token comes back when it ends
    EXPECT_TRUE(thread_done.load());
    limiter.release();
}

TRELLIS_TEST_MOCK_CLOCK(ToThread, AbandonedThreadKeepsItsLimiterTokenUntilItEnds, clock) {
    (void)clock;
    gate g;
    trellis::capacity_limiter limiter(1);
    co_await trellis::move_on_after(1s, [&]() -> task<> {
        co_await to_thread::run_sync({.limiter = &limiter, .abandon_on_cancel = true}, [&] { g.wait(); });
    });
    EXPECT_EQ(limiter.borrowed_tokens(), 1u);
    EXPECT_THROW(limiter.acquire_nowait(), trellis::would_block);
    g.open();
    co_await limiter.acquire();
    EXPECT_EQ(limiter.borrowed_tokens(), 1u);
    limiter.release();
}

TRELLIS_TEST_MOCK_CLOCK(ToThread, AbandonedThreadsErrorIsDiscarded, clock) {
    (void)clock;
    gate g;
    trellis::capacity_limiter limiter(1);
    co_await trellis::move_on_after(1s, [&]() -> task<> {
        co_await to_thread::run_sync({.limiter = &limiter, .abandon_on_cancel = true}, [&] {
            g.wait();
            throw std::runtime_error("nobody hears this");
        });
    });
    g.open();
    co_await limiter.acquire();  // the thread has ended; the run goes on unharmed
    limiter.release();
    co_await trellis::checkpoint();
}

TEST(ToThread, AbandonedThreadEndingAfterTheRunIsHarmless) {
    auto g = std::make_shared<gate>();
    auto job_freed = std::make_shared<std::promise<void>>();
    // Signals when the job (which owns the function, and so this) is freed.
    struct on_destroy {
        std::shared_ptr<std::promise<void>> p;
        explicit on_destroy(std::shared_ptr<std::promise<void>> to) : p(std::move(to)) {}
        on_destroy(on_destroy&&) noexcept = default;  // moved-from: p is null
        ~on_destroy() {
            if (p) p->set_value();
        }
    };
    trellis::run([&]() -> task<> {
        co_await trellis::move_on_after(10ms, [&]() -> task<> {
            // Named, not a temporary in the co_await: g++ 12 destroys such a
            // temporary twice when it owns resources.
            auto fn = [g, guard = on_destroy(job_freed)] { g->wait(); };
            co_await to_thread::run_sync({.abandon_on_cancel = true}, std::move(fn));
        });
    });
    g->open();  // the thread finishes after its run has gone
    EXPECT_EQ(job_freed->get_future().wait_for(5s), std::future_status::ready);
}

TEST(ToThread, IdleThreadExitsAfterTheIdleTimeout) {
    idle_timeout_override timeout(5ms);
    auto exited = std::make_shared<std::promise<void>>();
    // Lives in the worker's thread-local storage, so it dies with the thread.
    struct exit_signal {
        std::shared_ptr<std::promise<void>> p;
        ~exit_signal() {
            if (p) p->set_value();
        }
    };
    trellis::run([&]() -> task<> {
        auto fn = [exited] {  // named: see AbandonedThreadEndingAfterTheRunIsHarmless
            thread_local exit_signal signal;
            signal.p = exited;
        };
        co_await to_thread::run_sync(std::move(fn));
    });
    EXPECT_EQ(exited->get_future().wait_for(5s), std::future_status::ready);
}

TEST(ThreadCache, StartThreadSoonRunsTheJobThenDeliversOnTheSameThread) {
    std::promise<std::pair<std::thread::id, std::thread::id>> ids;
    auto ran_on = std::make_shared<std::thread::id>();
    trellis::lowlevel::start_thread_soon([ran_on] { *ran_on = std::this_thread::get_id(); },
                                         [&ids, ran_on] { ids.set_value({*ran_on, std::this_thread::get_id()}); });
    auto [job_thread, deliver_thread] = ids.get_future().get();
    EXPECT_EQ(job_thread, deliver_thread);
    EXPECT_NE(job_thread, std::this_thread::get_id());
}

TEST(ThreadCache, NegativeIdleTimeoutIsRejected) {
    EXPECT_THROW(trellis::lowlevel::set_thread_cache_idle_timeout(-1ms), std::invalid_argument);
}

TRELLIS_TEST(ToThread, TheCallableAndItsArgumentsAreDestroyedBeforeRunSyncReturns) {
    auto captured = std::make_shared<int>(1);
    auto argument = std::make_shared<int>(2);
    std::weak_ptr<int> captured_alive = captured;
    std::weak_ptr<int> argument_alive = argument;
    auto fn = [held = std::move(captured)](std::shared_ptr<int> arg) { return *held + *arg; };
    const int sum = co_await trellis::to_thread::run_sync(std::move(fn), std::move(argument));
    EXPECT_EQ(sum, 3);
    // Released on the worker before the result came back: nothing of the
    // call is left to be destroyed later, on another thread.
    EXPECT_TRUE(captured_alive.expired());
    EXPECT_TRUE(argument_alive.expired());
}

TRELLIS_TEST(ToThread, TheCallableIsReleasedBeforeAnErrorComesBackToo) {
    auto captured = std::make_shared<int>(1);
    std::weak_ptr<int> alive = captured;
    auto fn = [held = std::move(captured)]() -> int {
        (void)held;
        throw std::runtime_error("worker failed");
    };
    bool thrown = false;
    try {
        co_await trellis::to_thread::run_sync(std::move(fn));
    } catch (const std::runtime_error&) {
        thrown = true;
    }
    EXPECT_TRUE(thrown);
    EXPECT_TRUE(alive.expired());
}
