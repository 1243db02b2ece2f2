// qt::run with a main task that returns nothing gives main() an exit code.
#include <trellis/qt.hpp>
#include <trellis/trellis.hpp>

#include <gtest/gtest.h>

#include <QCoreApplication>
#include <QTimer>

#include <memory>

using namespace std::chrono_literals;
using trellis::task;

namespace {

class QtRunExitCode : public ::testing::Test {
protected:
    int argc_ = 1;
    char name_[16] = "qt_run_test";
    char* argv_[2] = {name_, nullptr};
    std::unique_ptr<QCoreApplication> app_ = std::make_unique<QCoreApplication>(argc_, argv_);
};

TEST_F(QtRunExitCode, VoidMainTaskFinishingFirstGivesZero) {
    bool ran = false;
    int code = trellis::qt::run([&]() -> task<> {
        co_await trellis::sleep(1ms);
        ran = true;
    });
    EXPECT_TRUE(ran);
    EXPECT_EQ(code, 0);
}

TEST_F(QtRunExitCode, VoidMainTaskGivesTheCodeTheAppPassedToExit) {
    bool cancelled = false;
    int code = trellis::qt::run([&]() -> task<> {
        QTimer::singleShot(1ms, [] { QCoreApplication::exit(7); });
        try {
            co_await trellis::sleep_forever();
        } catch (const trellis::cancelled&) {
            cancelled = true;
            throw;
        }
    });
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(code, 7);
}

TEST_F(QtRunExitCode, AQuitLeftOverFromOneRunDoesNotEndTheNext) {
    // The app exits in the step that ends the run: the loop stops with 7
    // before the run's own quit is delivered, which stays queued.
    int first = trellis::qt::run([]() -> task<> {
        QCoreApplication::exit(7);
        co_return;
    });
    EXPECT_EQ(first, 7);
    bool slept = false;
    int second = trellis::qt::run([&]() -> task<> {
        co_await trellis::sleep(20ms);
        slept = true;
    });
    EXPECT_TRUE(slept);  // not cancelled by the first run's quit
    EXPECT_EQ(second, 0);
}

TEST_F(QtRunExitCode, AValueMainTaskStillReturnsItsValue) {
    int value = trellis::qt::run([]() -> task<int> { co_return 42; });
    EXPECT_EQ(value, 42);
}

TEST_F(QtRunExitCode, AnErrorFromAVoidMainTaskIsRethrownNotTurnedIntoACode) {
    EXPECT_THROW(trellis::qt::run([]() -> task<> {
        co_await trellis::checkpoint();
        throw std::runtime_error("main failed");
    }),
                 std::runtime_error);
}

static_assert(std::is_same_v<decltype(trellis::qt::run(std::declval<task<> (*)()>())), int>);
static_assert(std::is_same_v<decltype(trellis::qt::run(std::declval<task<double> (*)()>())), double>);

}  // namespace
