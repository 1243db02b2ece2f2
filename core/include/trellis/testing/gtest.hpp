// GoogleTest helpers: run a coroutine test body inside a fresh trellis run.
//
//   TRELLIS_TEST(Nursery, WaitsForChildren) {
//       co_await trellis::open_nursery(...);
//       EXPECT_TRUE(...);
//   }
//   TRELLIS_TEST_MOCK_CLOCK(Sleep, EndsAtDeadline, clock) {
//       co_await trellis::sleep(1h);            // instant: autojump
//       EXPECT_EQ(trellis::current_time(), trellis::time_point{} + 1h);
//   }
//
// Use EXPECT_* inside bodies: ASSERT_* and FAIL() expand to `return`, which a
// coroutine cannot use. A body that has not finished after `timeout` of real
// time is cancelled, and the test fails saying so instead of hanging.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "trellis/exception_group.hpp"
#include "trellis/run.hpp"
#include "trellis/testing/mock_clock.hpp"
#include "trellis/token.hpp"

namespace trellis::detail {


// Fails the run (through its token) if it lasts longer than `limit`.
class test_watchdog {
public:
    explicit test_watchdog(std::chrono::milliseconds limit) : limit_(limit) {}
    void arm(token t) {
        thread_ = std::thread([this, t] {
            std::unique_lock lock(mutex_);
            if (cv_.wait_for(lock, limit_, [this] { return done_; })) return;
            try {
                t.run_sync_soon([ms = limit_.count()] {
                    throw std::runtime_error("test body still running after " + std::to_string(ms) +
                                             " ms of real time: cancelled by the watchdog");
                });
            } catch (...) {
            }
        });
    }
    ~test_watchdog() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    std::chrono::milliseconds limit_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;
};

inline void report_test_error(const std::exception_ptr& error) {
    ADD_FAILURE() << "test body raised: " << trellis::describe(error);
}

}  // namespace trellis::detail

namespace trellis::testing {

// Runs body() as the main task of a run with `options`; reports an escaping
// error as a test failure.
template <class Body>
void run_test(Body body, run_options options = {},
              std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    trellis::detail::test_watchdog dog(timeout);
    try {
        trellis::run(options, [&]() -> task<> {
            dog.arm(current_token());
            co_await body();
        });
    } catch (...) {
        trellis::detail::report_test_error(std::current_exception());
    }
}

// Runs body(clock) with a mock_clock whose autojump threshold is zero.
template <class Body>
void run_test_with_mock_clock(Body body, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto clock = std::make_shared<mock_clock>(0.0, duration::zero());
    run_options options;
    options.clock = clock;
    run_test([&]() { return body(*clock); }, options, timeout);
}

}  // namespace trellis::testing

#define TRELLIS_TEST(suite, name)                                                    \
    static ::trellis::task<> suite##_##name##_trellis_body();                       \
    TEST(suite, name) { ::trellis::testing::run_test(&suite##_##name##_trellis_body); } \
    static ::trellis::task<> suite##_##name##_trellis_body()

#define TRELLIS_TEST_MOCK_CLOCK(suite, name, clock)                                         \
    static ::trellis::task<> suite##_##name##_trellis_body(::trellis::testing::mock_clock&); \
    TEST(suite, name) {                                                                     \
        ::trellis::testing::run_test_with_mock_clock(&suite##_##name##_trellis_body);        \
    }                                                                                       \
    static ::trellis::task<> suite##_##name##_trellis_body(::trellis::testing::mock_clock& clock)
