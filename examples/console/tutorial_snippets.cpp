// The README's tutorial, compiled and run.
//
// Every ```cpp block of README.md appears verbatim in this file or in
// hello.cpp; check_readme_snippets.py (a meson test) fails when they drift.
// The tests at the bottom run each snippet under a mock clock, so the
// hour-long sleeps below take no real time.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

using namespace std::chrono_literals;

// ---- nursery / start_soon ----

trellis::task<> fetch(std::string url, std::vector<std::string>& log) {
    co_await trellis::sleep(10ms);  // stands in for real I/O
    log.push_back(url);
}

trellis::task<> fetch_all(std::vector<std::string>& log) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(fetch, "a.example", std::ref(log));
        n.start_soon(fetch, "b.example", std::ref(log));
        co_return;  // the nursery now waits for both children
    });
    // Both fetches have finished here.
}

// ---- lambdas inside co_await, on g++ 12 ----

trellis::task<> report(std::shared_ptr<std::string> name, std::string text) {
    co_await trellis::sleep(10ms);
    *name += text;
}

trellis::task<> lambdas_done_right(std::shared_ptr<std::string> name) {
    // NOT this on g++ 12: a lambda holding a shared_ptr, written inside co_await.
    //   co_await trellis::move_on_after(1s, [name]() -> trellis::task<> { ... });

    // 1. Name the lambda first, then await.
    auto body = [name]() -> trellis::task<> { co_await report(name, " one"); };
    co_await trellis::move_on_after(1s, body);

    // 2. Or capture by reference: the callable is awaited right here.
    co_await trellis::move_on_after(1s, [&]() -> trellis::task<> { co_await report(name, " two"); });

    // 3. Or pass a function and its arguments: trellis keeps copies alive.
    co_await trellis::move_on_after(1s, report, name, " three");
}

// ---- start / task_status ----

trellis::task<> serve(int port, trellis::task_status<int> status = {}) {
    // ... bind and listen on `port` ...
    status.started(port);  // start() returns now; serve() keeps running
    co_await trellis::sleep_forever();
}

trellis::task<int> start_server() {
    int port = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        port = co_await n.start(serve, 8080);  // waits until serve() is ready
        // ... talk to the server ...
        n.cancel_scope().cancel();  // stops serve(), and the nursery closes
    });
    co_return port;
}

// ---- timeouts and cancel scopes ----

trellis::task<> slow() { co_await trellis::sleep(1h); }

trellis::task<> timeouts() {
    // Give up quietly: move_on_after returns false when the deadline hit.
    bool finished = co_await trellis::move_on_after(100ms, slow);
    if (!finished) std::puts("slow() took too long; moving on");

    // Work that returns a value gives a std::optional (empty if cut short).
    std::optional<int> port = co_await trellis::move_on_after(1s, start_server);
    if (port) std::printf("server was on port %d\n", *port);

    // Give up loudly: fail_after throws trellis::too_slow_error.
    try {
        co_await trellis::fail_after(100ms, slow);
    } catch (const trellis::too_slow_error& e) {
        std::printf("%s\n", e.what());
    }
}

trellis::task<> explicit_scope() {
    trellis::cancel_scope scope;  // may also take a deadline: scope(current_time() + 5s)
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([]() -> trellis::task<> { co_await trellis::sleep_forever(); });
        });
        co_await trellis::sleep(1s);
        scope.cancel();  // the worker's sleep throws trellis::cancelled; its scope catches it
    });
    // scope.cancelled_caught() is true here.
}

// ---- time ----

trellis::task<> time_basics() {
    trellis::time_point t0 = trellis::current_time();  // the run's clock
    co_await trellis::sleep(50ms);                       // a checkpoint, even for 0
    co_await trellis::sleep_until(t0 + 1s);              // an absolute deadline
    co_await trellis::checkpoint();                      // let others run; maybe cancelled
    // co_await trellis::sleep_forever() waits until cancelled.
}

// ---- event ----

trellis::task<> handoff() {
    trellis::event ready;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await ready.wait();  // blocks until set(); returns at once after that
            // ... use what the other task prepared ...
        });
        co_await trellis::sleep(10ms);  // ... prepare ...
        ready.set();
    });
}

// ---- finally / closing ----

// Anything with a graceful asynchronous close, like a stream.
struct connection {
    std::vector<std::string> sent;
    bool closed = false;

    trellis::task<> send(std::string what) {
        co_await trellis::sleep(1ms);
        sent.push_back(std::move(what));
    }
    trellis::task<> aclose() {
        co_await trellis::checkpoint();  // e.g. flush, say goodbye
        closed = true;
    }
};

trellis::task<> talk(connection& conn) {
    // Runs the body, then conn.aclose(), even if the body raised or was
    // cancelled (the close then runs shielded, and the error is rethrown).
    co_await trellis::closing(conn, [](connection& c) -> trellis::task<> {
        co_await c.send("hello");
    });

    // The general form: any body, any cleanup.
    connection other;
    co_await trellis::finally(
        [&]() -> trellis::task<> { co_await other.send("hi"); },
        [&]() -> trellis::task<> { co_await other.aclose(); });
}

// ---- errors ----

trellis::task<> fail(std::string why) {
    throw std::runtime_error(why);
    co_return;
}

trellis::task<> two_failures() {
    try {
        co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
            n.start_soon(fail, "disk full");
            n.start_soon(fail, "network down");
            co_return;
        });
    } catch (const trellis::exception_group& group) {
        // group.size() == 2; group.exceptions() holds each as an exception_ptr.
        std::printf("caught %s\n", group.what());
    }
    // One failing child would have come out as itself (std::runtime_error).
}

static_assert(!std::is_base_of_v<std::exception, trellis::cancelled>);

trellis::task<> careful() {
    try {
        co_await slow();
    } catch (const std::exception&) {
        // trellis::cancelled does not get here: it is not a std::exception.
    } catch (...) {
        // ... synchronous cleanup ...
        throw;  // always rethrow what you do not know (cancelled included)
    }
}

// ---- locks ----

trellis::task<> append_line(trellis::lock& file_lock, std::vector<std::string>& file, std::string line) {
    auto held = co_await file_lock.hold();  // released when `held` goes out of scope
    co_await trellis::sleep(1ms);           // other writers wait their turn, in order
    file.push_back(std::move(line));
}

// ---- memory channels ----

trellis::task<> produce(trellis::send_channel<int> tx) {
    for (int i = 1; i <= 3; ++i) co_await tx.send(i);  // waits for a receiver: max_buffer is 0
}  // tx is destroyed here, which closes it

trellis::task<int> sum_of_produced() {
    auto channel = trellis::open_memory_channel<int>(0);  // .send sends, .receive receives
    int sum = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(produce, std::move(channel.send));  // the producer owns the send end now
        while (auto value = co_await channel.receive.next()) sum += *value;  // ends when every sender is closed
    });
    co_return sum;  // 6
}

// ---- threads ----

long count_primes(long below) {  // plain blocking code
    long count = 0;
    for (long n = 2; n < below; ++n) {
        bool prime = true;
        for (long d = 2; d * d <= n && prime; ++d) prime = n % d != 0;
        count += prime;
    }
    return count;
}

trellis::task<long> primes_without_blocking_the_run() {
    // Runs on a worker thread; other tasks keep running meanwhile.
    co_return co_await trellis::to_thread::run_sync(count_primes, 10'000);
}

trellis::task<int> call_back_into_the_run() {
    co_return co_await trellis::to_thread::run_sync([] {
        // On the worker thread: run something on the run's thread and wait for it.
        return trellis::from_thread::run_sync([] { return trellis::in_trellis_run() ? 42 : 0; });
    });
}

// A thread trellis did not start: a library's callback thread, a QThread.
void sensor_thread(trellis::token run, int reading, trellis::event& arrived, int& latest) {
    // Fire and forget: the function runs soon on the run's thread.
    run.run_sync_soon([reading, &arrived, &latest] {
        latest = reading;
        arrived.set();
    });
    // Or block this thread until a function has run there, and get its result.
    bool seen = trellis::from_thread::run_sync(run, [&latest] { return latest != 0; });
    (void)seen;
}

trellis::task<int> reading_from_another_thread() {
    trellis::event arrived;
    int latest = 0;
    std::thread sensor(sensor_thread, trellis::current_token(), 42, std::ref(arrived), std::ref(latest));
    co_await arrived.wait();
    // Join off the run's thread: the sensor may be waiting for this thread.
    auto join = [&sensor] { sensor.join(); };
    co_await trellis::to_thread::run_sync(join);
    co_return latest;
}

// ---- task-local values ----

trellis::task_local<std::string> request_id{"none"};

trellis::task<> handle_request(std::vector<std::string>& log) {
    request_id.set("req-7");
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            log.push_back(request_id.get());  // "req-7": inherited at spawn
            request_id.set("changed");         // stays in this child
            co_return;
        });
        co_return;
    });
    log.push_back(request_id.get());  // still "req-7"
}

// ---- testing helpers ----

TRELLIS_TEST(Tutorial, NurseryWaitsForItsChildren) {
    int done = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { co_await trellis::checkpoint(); ++done; });
        co_return;
    });
    EXPECT_EQ(done, 1);  // EXPECT_*, not ASSERT_*: the body is a coroutine
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, AnHourPassesInstantly, clock) {
    co_await trellis::sleep(1h);  // the mock clock jumps to the deadline at once
    EXPECT_EQ(trellis::current_time(), trellis::time_point{} + 1h);
    clock.jump(5s);  // or move time by hand
    EXPECT_EQ(trellis::current_time(), trellis::time_point{} + 1h + 5s);
}

TRELLIS_TEST(Tutorial, WaitAllTasksBlockedSeesEveryoneStuck) {
    trellis::event never;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { co_await never.wait(); });
        co_await trellis::testing::wait_all_tasks_blocked();  // the child is parked now
        EXPECT_EQ(never.statistics().tasks_waiting, 1u);
        n.cancel_scope().cancel();
    });
}

// ---- the tests that run the snippets above ----

TRELLIS_TEST_MOCK_CLOCK(Tutorial, FetchAllRunsBothFetches, clock) {
    std::vector<std::string> log;
    co_await fetch_all(log);
    EXPECT_EQ(log.size(), 2u);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, EachSafeLambdaShapeRunsOnce, clock) {
    auto name = std::make_shared<std::string>("report:");
    co_await lambdas_done_right(name);
    EXPECT_EQ(*name, "report: one two three");
    EXPECT_EQ(name.use_count(), 1);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, StartReturnsTheServersPort, clock) {
    EXPECT_EQ(co_await start_server(), 8080);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, TimeoutsReturn, clock) {
    auto t0 = trellis::current_time();
    co_await timeouts();
    EXPECT_EQ(trellis::current_time() - t0, 200ms);  // two 100 ms timeouts
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, ExplicitScopeCancelsTheWorker, clock) {
    co_await explicit_scope();
    EXPECT_EQ(trellis::current_time(), trellis::time_point{} + 1s);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, TimeBasicsSleepUntilTheDeadline, clock) {
    co_await time_basics();
    EXPECT_EQ(trellis::current_time(), trellis::time_point{} + 1s);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, HandoffFinishes, clock) {
    co_await handoff();
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, TalkClosesBothConnections, clock) {
    connection conn;
    co_await talk(conn);
    EXPECT_TRUE(conn.closed);
    EXPECT_EQ(conn.sent, std::vector<std::string>{"hello"});
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, ClosingClosesEvenWhenCancelled, clock) {
    connection conn;
    bool finished = co_await trellis::move_on_after(1s, [&]() -> trellis::task<> {
        co_await trellis::closing(conn, [](connection&) -> trellis::task<> { co_await trellis::sleep_forever(); });
    });
    EXPECT_FALSE(finished);
    EXPECT_TRUE(conn.closed);
    (void)clock;
}

TEST(Tutorial, TwoFailingChildrenMakeAnExceptionGroup) {
    EXPECT_THROW(trellis::run([]() -> trellis::task<> {
                     co_await trellis::open_nursery([](trellis::nursery& n) -> trellis::task<> {
                         n.start_soon(fail, "disk full");
                         n.start_soon(fail, "network down");
                         co_return;
                     });
                 }),
                 trellis::exception_group);
    trellis::run(two_failures);  // catches the group itself
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, CancelledPassesStdExceptionHandlers, clock) {
    bool finished = co_await trellis::move_on_after(1s, careful);
    EXPECT_FALSE(finished);
    (void)clock;
}

TRELLIS_TEST_MOCK_CLOCK(Tutorial, LockedWritersAppendInTurn, /*clock*/) {
    trellis::lock file_lock;
    std::vector<std::string> file;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon(append_line, std::ref(file_lock), std::ref(file), "first");
        n.start_soon(append_line, std::ref(file_lock), std::ref(file), "second");
        co_return;
    });
    EXPECT_EQ(file, (std::vector<std::string>{"first", "second"}));
}

TRELLIS_TEST(Tutorial, ChannelLoopSumsEveryValue) { EXPECT_EQ(co_await sum_of_produced(), 6); }

TRELLIS_TEST(Tutorial, ToThreadCountsPrimes) { EXPECT_EQ(co_await primes_without_blocking_the_run(), 1229); }

TRELLIS_TEST(Tutorial, FromThreadRunsOnTheRunsThread) { EXPECT_EQ(co_await call_back_into_the_run(), 42); }

TRELLIS_TEST(Tutorial, AnotherThreadHandsAValueToTheRun) { EXPECT_EQ(co_await reading_from_another_thread(), 42); }

TRELLIS_TEST(Tutorial, TaskLocalIsInheritedNotShared) {
    std::vector<std::string> log;
    co_await handle_request(log);
    EXPECT_EQ(log, (std::vector<std::string>{"req-7", "req-7"}));
}
