// The conformance suite on the plain queue host.
#include "queue_host.hpp"

#include "conformance.hpp"

#include <trellis/thread_cache.hpp>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace queue_host_test {

class queue_fixture {
public:
    template <class Done, class F>
    trellis::guest_run start(const trellis::run_options& options, Done done, F fn) {
        run_.emplace(trellis::start_guest_run(options, loop_->host(), std::move(done), std::move(fn)));
        return *run_;
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return loop_->run_until(pred, timeout);
    }
    void iterate_once() { loop_->run_pending(); }
    void call_soon(std::function<void()> fn) { loop_->post(std::move(fn)); }
    void call_later(std::chrono::milliseconds delay, std::function<void()> fn) {
        timers_.emplace_back([this, delay, fn = std::move(fn)]() mutable {
            std::this_thread::sleep_for(delay);
            loop_->post(std::move(fn));
        });
    }
    // An application shutting down: pending callbacks are destroyed unrun
    // and the adapter learns that its loop is gone.
    void destroy_loop() {
        loop_->destroy();
        if (run_) run_->host_gone();
    }
    ~queue_fixture() {
        for (auto& t : timers_) t.join();
        if (run_ && !run_->finished()) destroy_loop();
    }

private:
    std::unique_ptr<trellis::testing::queue_host> loop_ = std::make_unique<trellis::testing::queue_host>();
    std::optional<trellis::guest_run> run_;
    std::vector<std::thread> timers_;
};


// Each thread has its own host loop and its own guest run; they share
// nothing but the process (the worker thread cache, the allocator), and each
// sees only its own run.
TEST(QueueHostRuns, GuestRunsOnSeveralHostThreadsRunIndependently) {
    using namespace std::chrono_literals;
    constexpr int n_threads = 3;
    std::atomic<int> finished{0};
    int results[n_threads] = {};
    std::vector<std::thread> hosts;
    for (int i = 0; i < n_threads; ++i) {
        hosts.emplace_back([i, &results, &finished] {
            trellis::testing::queue_host loop;
            std::optional<trellis::outcome<int>> result;
            trellis::start_guest_run(
                loop.host(), [&](trellis::outcome<int> o) { result.emplace(std::move(o)); },
                conformance::five_sleeps_then_id, i);
            EXPECT_TRUE(trellis::in_trellis_run());
            EXPECT_TRUE(loop.run_until([&] { return result.has_value(); }, 10s));
            EXPECT_FALSE(trellis::in_trellis_run());
            if (result) results[i] = result->unwrap();
            ++finished;
        });
    }
    for (auto& t : hosts) t.join();
    EXPECT_EQ(finished.load(), n_threads);
    for (int i = 0; i < n_threads; ++i) EXPECT_EQ(results[i], i * 100 + 5);
}


// The handle is only for reporting the host's end: a run whose handle was
// dropped at once still runs to completion, through waits on the worker.
TEST(QueueHostRuns, RunWhoseHandleIsDroppedStillFinishes) {
    using namespace std::chrono_literals;
    trellis::testing::queue_host loop;
    std::optional<trellis::outcome<int>> result;
    (void)trellis::start_guest_run(loop.host(), [&](trellis::outcome<int> o) { result.emplace(std::move(o)); },
                                   []() -> trellis::task<int> {
                                       co_await trellis::sleep(2ms);  // the worker holds the chain here
                                       co_return 7;
                                   });
    EXPECT_TRUE(loop.run_until([&] { return result.has_value(); }, 10s));
    if (result) {
        EXPECT_EQ(result->unwrap(), 7);
    }
}

// The blocking wait of an idle guest run happens on a worker borrowed from
// core's thread cache (the one to_thread uses), which goes back to the
// cache once the wait has posted its result.
TEST(QueueHostRuns, AnIdleRunWaitsOnAWorkerBorrowedFromTheThreadCache) {
    using namespace std::chrono_literals;
    trellis::testing::queue_host loop;
    std::optional<trellis::outcome<int>> result;
    trellis::event* wake = nullptr;
    const std::size_t busy_before = conformance::busy_cache_workers();
    auto run = trellis::start_guest_run(loop.host(), [&](trellis::outcome<int> o) { result.emplace(std::move(o)); },
                                        [&]() -> trellis::task<int> {
                                            trellis::event e;
                                            wake = &e;
                                            co_await e.wait();
                                            co_return 3;
                                        });
    auto worker_waits = [&] { return wake != nullptr && conformance::busy_cache_workers() == busy_before + 1; };
    for (int i = 0; i < 5000 && !worker_waits(); ++i) loop.run_until(worker_waits, 1ms);
    EXPECT_TRUE(worker_waits());
    loop.post([&] { wake->set(); });  // host code wakes the task; the worker's wait ends early
    EXPECT_TRUE(loop.run_until([&] { return result.has_value(); }, 10s));
    if (result) {
        EXPECT_EQ(result->unwrap(), 3);
    }
    for (int i = 0; i < 1000 && conformance::busy_cache_workers() != busy_before; ++i) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(conformance::busy_cache_workers(), busy_before);
    EXPECT_TRUE(run.finished());
}

// Host-native waiting needs the host to watch the epoll fd itself; the
// queue host cannot, so asking for it is a misuse reported at start, and
// leaves no run behind on the thread.
TEST(QueueHostRuns, AskingForHostNativeWaitingOfAHostWithoutItThrowsRunError) {
    trellis::testing::queue_host loop;
    trellis::run_options options;
    options.guest_io = trellis::guest_io_mode::host_native;
    bool done_called = false;
    try {
        (void)trellis::start_guest_run(options, loop.host(), [&](trellis::outcome<int>) { done_called = true; },
                                       []() -> trellis::task<int> { co_return 1; });
        ADD_FAILURE() << "start_guest_run accepted host_native on a host without make_native_waiter";
    } catch (const trellis::run_error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("make_native_waiter"), std::string::npos) << message;
        EXPECT_NE(message.find("worker_thread"), std::string::npos) << message;
    }
    EXPECT_FALSE(trellis::in_trellis_run());
    loop.run_pending();
    EXPECT_FALSE(done_called);
}

// guest_host's contract: callbacks run on the host thread. A host that
// runs them elsewhere is told so, instead of racing with the host thread.
TEST(QueueHostRunsDeathTest, AHostRunningAStepOffTheHostThreadAbortsNamingTheContract) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto misrouted = [] {
        trellis::guest_host host;
        host.run_sync_soon_threadsafe = [](std::function<void()> fn) { std::thread(std::move(fn)).detach(); };
        (void)trellis::start_guest_run(host, [](trellis::outcome<void>) {}, []() -> trellis::task<> { co_return; });
        std::this_thread::sleep_for(std::chrono::seconds(10));
    };
    EXPECT_DEATH(misrouted(), "must run callbacks on the host thread");
}

// The done callback runs once even when it breaks the rule and throws
// (it used to be called a second time with the first call's error, and the
// program then died with no word on why).
TEST(QueueHostRunsDeathTest, ADoneCallbackThatThrowsIsCalledOnceAndNamedBeforeTheProgramEnds) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    auto throwing_done = [] {
        trellis::testing::queue_host loop;
        bool done = false;
        (void)trellis::start_guest_run(
            loop.host(),
            [&](trellis::outcome<int> o) {
                std::fprintf(stderr, "[done callback call]\n");
                done = true;
                o.unwrap();
            },
            []() -> trellis::task<int> { throw std::runtime_error("main failed"); co_return 0; });
        (void)loop.run_until([&] { return false; }, std::chrono::seconds(10));
    };
    EXPECT_DEATH(throwing_done(),
                 "\\[done callback call\\]\n"
                 "trellis: a guest run's done callback threw \\(main failed\\); done callbacks must not throw");
}

}  // namespace queue_host_test

namespace conformance {
INSTANTIATE_TYPED_TEST_SUITE_P(QueueHost, GuestConformance, ::testing::Types<queue_host_test::queue_fixture>);
}
