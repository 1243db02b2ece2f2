// wait_readable, wait_writable, notify_closing on pipes and socketpairs.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <utility>

using namespace std::chrono_literals;
using trellis::testing::wait_all_tasks_blocked;

namespace {

// An owned file descriptor, closed on destruction.
class fd_guard {
public:
    explicit fd_guard(int fd = -1) noexcept : fd_(fd) {}
    fd_guard(fd_guard&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    fd_guard& operator=(fd_guard&&) = delete;
    ~fd_guard() { reset(); }
    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(std::exchange(fd_, -1));
    }

private:
    int fd_;
};

struct fd_pair {
    fd_guard a;
    fd_guard b;
};

fd_pair make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    return {fd_guard(fds[0]), fd_guard(fds[1])};
}

fd_pair make_socketpair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        throw std::system_error(errno, std::generic_category(), "socketpair");
    return {fd_guard(fds[0]), fd_guard(fds[1])};
}

void write_byte(int fd, char c = 'x') {
    if (::write(fd, &c, 1) != 1) throw std::system_error(errno, std::generic_category(), "write");
}

char read_byte(int fd) {
    char c = 0;
    if (::read(fd, &c, 1) != 1) throw std::system_error(errno, std::generic_category(), "read");
    return c;
}

// Writes until the kernel buffer is full; returns how many bytes it took.
std::size_t fill(int fd) {
    static const char chunk[4096] = {};
    std::size_t total = 0;
    for (;;) {
        const auto n = ::write(fd, chunk, sizeof chunk);
        if (n < 0) return total;
        total += static_cast<std::size_t>(n);
    }
}

void drain(int fd) {
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
}

// The message of the std::system_error that waiting for fd raises, or ""
// when there is none.
trellis::task<std::string> wait_error_message(int fd) {
    try {
        co_await trellis::wait_readable(fd);
    } catch (const std::system_error& e) {
        co_return e.what();
    }
    co_return "";
}

}  // namespace

TRELLIS_TEST(Io, WaitReadableReturnsAfterTheOtherEndIsWritten) {
    auto p = make_pipe();
    bool readable = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(p.a.get());
            readable = true;
            EXPECT_EQ(read_byte(p.a.get()), 'q');
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await wait_all_tasks_blocked();
            EXPECT_FALSE(readable);
            write_byte(p.b.get(), 'q');
        });
        co_return;
    });
    EXPECT_TRUE(readable);
}

TRELLIS_TEST(Io, WaitReadableOnAnAlreadyReadableFdStillLetsOthersRun) {
    auto p = make_pipe();
    write_byte(p.b.get());
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await trellis::wait_readable(p.a.get());
        EXPECT_TRUE(other_ran);
    });
}

TRELLIS_TEST(Io, WaitReadableInACancelledScopeThrowsCancelledEvenWhenReadable) {
    auto p = make_pipe();
    write_byte(p.b.get());
    trellis::cancel_scope scope;
    scope.cancel();
    bool reached_end = false;
    co_await scope.run([&]() -> trellis::task<> {
        co_await trellis::wait_readable(p.a.get());
        reached_end = true;
    });
    EXPECT_FALSE(reached_end);
    EXPECT_TRUE(scope.cancelled_caught());
    // The cancelled wait left no registration behind.
    co_await trellis::wait_readable(p.a.get());
}

TRELLIS_TEST(Io, WaitWritableOnASocketWithBufferSpaceReturnsAtOnce) {
    auto s = make_socketpair();
    const auto start = trellis::current_time();
    co_await trellis::wait_writable(s.a.get());
    EXPECT_LT(trellis::current_time() - start, 1s);
}

TRELLIS_TEST(Io, WaitWritableReturnsOnceAFullBufferDrains) {
    auto s = make_socketpair();
    EXPECT_GT(fill(s.a.get()), 0u);
    bool writable = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_writable(s.a.get());
            writable = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(writable);
        drain(s.b.get());
    });
    EXPECT_TRUE(writable);
}

TRELLIS_TEST(Io, SocketpairPingPongBetweenTwoTasks) {
    auto s = make_socketpair();
    constexpr int rounds = 100;
    int pongs = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        // Echoes every byte back, plus one.
        n.start_soon([&]() -> trellis::task<> {
            for (int i = 0; i < rounds; ++i) {
                co_await trellis::wait_readable(s.b.get());
                const char c = read_byte(s.b.get());
                co_await trellis::wait_writable(s.b.get());
                write_byte(s.b.get(), static_cast<char>(c + 1));
            }
        });
        for (int i = 0; i < rounds; ++i) {
            const char ping = static_cast<char>(i % 100);
            co_await trellis::wait_writable(s.a.get());
            write_byte(s.a.get(), ping);
            co_await trellis::wait_readable(s.a.get());
            EXPECT_EQ(read_byte(s.a.get()), ping + 1);
            ++pongs;
        }
    });
    EXPECT_EQ(pongs, rounds);
}

TRELLIS_TEST(Io, SecondWaiterOnTheSameFdAndDirectionGetsBusyResourceError) {
    auto p = make_pipe();
    bool first_woke = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(p.a.get());
            first_woke = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_THROW(co_await trellis::wait_readable(p.a.get()), trellis::busy_resource_error);
        // The first waiter is untouched and still wakes.
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(first_woke);
        write_byte(p.b.get());
    });
    EXPECT_TRUE(first_woke);
}

TRELLIS_TEST(Io, BusyResourceErrorNamesTheFdAndDirection) {
    auto s = make_socketpair();
    fill(s.a.get());
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { co_await trellis::wait_writable(s.a.get()); });
        co_await wait_all_tasks_blocked();
        std::string message;
        try {
            co_await trellis::wait_writable(s.a.get());
        } catch (const trellis::busy_resource_error& e) {
            message = e.what();
        }
        EXPECT_NE(message.find("fd " + std::to_string(s.a.get())), std::string::npos) << message;
        EXPECT_NE(message.find("writable"), std::string::npos) << message;
        drain(s.b.get());
    });
}

TRELLIS_TEST(Io, AReaderAndAWriterOnTheSameFdBothWork) {
    auto s = make_socketpair();
    fill(s.a.get());
    bool read_ready = false;
    bool write_ready = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(s.a.get());
            read_ready = true;
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_writable(s.a.get());
            write_ready = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(read_ready);
        EXPECT_FALSE(write_ready);
        // Wake the reader only; the writer must stay registered.
        write_byte(s.b.get());
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(read_ready);
        EXPECT_FALSE(write_ready);
        drain(s.b.get());
    });
    EXPECT_TRUE(write_ready);
}

TRELLIS_TEST(Io, NotifyClosingWakesWaitersWithClosedResourceError) {
    auto s = make_socketpair();
    fill(s.a.get());
    int closed_errors = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (bool writable : {false, true})
            n.start_soon([&, writable]() -> trellis::task<> {
                try {
                    if (writable)
                        co_await trellis::wait_writable(s.a.get());
                    else
                        co_await trellis::wait_readable(s.a.get());
                } catch (const trellis::closed_resource_error&) {
                    ++closed_errors;
                }
            });
        co_await wait_all_tasks_blocked();
        trellis::lowlevel::notify_closing(s.a.get());
        s.a.reset();
    });
    EXPECT_EQ(closed_errors, 2);
}

TRELLIS_TEST(Io, NotifyClosingWithNoWaiterIsHarmless) {
    auto p = make_pipe();
    trellis::lowlevel::notify_closing(p.a.get());
    trellis::lowlevel::notify_closing(12345);
    write_byte(p.b.get());
    co_await trellis::wait_readable(p.a.get());
}

TRELLIS_TEST(Io, FdMinusOneRaisesSystemErrorSayingItIsNotOpen) {
    const std::string message = co_await wait_error_message(-1);
    EXPECT_NE(message.find("fd -1"), std::string::npos) << message;
    EXPECT_NE(message.find("not an open file descriptor"), std::string::npos) << message;
}

TRELLIS_TEST(Io, AClosedFdRaisesSystemErrorSayingItIsNotOpen) {
    int closed_fd = -1;
    {
        auto p = make_pipe();
        closed_fd = p.a.get();
    }
    const std::string message = co_await wait_error_message(closed_fd);
    EXPECT_NE(message.find("not an open file descriptor"), std::string::npos) << message;
    std::error_code code;
    try {
        co_await trellis::wait_writable(closed_fd);
    } catch (const std::system_error& e) {
        code = e.code();
    }
    EXPECT_EQ(code, std::error_code(EBADF, std::generic_category()));
}

TRELLIS_TEST(Io, ARegularFileRaisesSystemErrorSayingItCannotBePolled) {
    std::FILE* file = std::tmpfile();
    EXPECT_NE(file, nullptr);
    if (!file) co_return;
    const std::string message = co_await wait_error_message(::fileno(file));
    std::fclose(file);
    EXPECT_NE(message.find("does not support polling"), std::string::npos) << message;
}

TRELLIS_TEST(Io, AFailedRegistrationLeavesNoWaiterBehind) {
    std::FILE* file = std::tmpfile();
    EXPECT_NE(file, nullptr);
    if (!file) co_return;
    const int fd = ::fileno(file);
    EXPECT_NE(co_await wait_error_message(fd), "");
    // The same error again, not busy_resource_error: the failed wait did not
    // stay registered.
    EXPECT_NE(co_await wait_error_message(fd), "");
    std::fclose(file);
}

TRELLIS_TEST(Io, CancellingAWaitRemovesItsRegistration) {
    auto p = make_pipe();
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> { co_await trellis::wait_readable(p.a.get()); });
        });
        co_await wait_all_tasks_blocked();
        scope.cancel();
    });
    EXPECT_TRUE(scope.cancelled_caught());
    // A new waiter is not "busy", and wakes when data arrives.
    bool woke = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(p.a.get());
            woke = true;
        });
        co_await wait_all_tasks_blocked();
        write_byte(p.b.get());
    });
    EXPECT_TRUE(woke);
}

TRELLIS_TEST(Io, HangUpWakesTheReader) {
    auto p = make_pipe();
    bool woke = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(p.a.get());
            woke = true;
            char c;
            EXPECT_EQ(::read(p.a.get(), &c, 1), 0);  // end of file
        });
        co_await wait_all_tasks_blocked();
        p.b.reset();
    });
    EXPECT_TRUE(woke);
}

TRELLIS_TEST(Io, ClosingTheReadEndWakesABlockedWriter) {
    auto p = make_pipe();
    fill(p.b.get());
    bool woke = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_writable(p.b.get());
            woke = true;
        });
        co_await wait_all_tasks_blocked();
        p.a.reset();
    });
    EXPECT_TRUE(woke);
}

TRELLIS_TEST(Io, AReusedFdNumberCanBeWaitedOnAgain) {
    int first_number = -1;
    {
        auto p = make_pipe();
        first_number = p.a.get();
        write_byte(p.b.get());
        co_await trellis::wait_readable(p.a.get());
    }
    auto p = make_pipe();
    EXPECT_EQ(p.a.get(), first_number);  // the kernel hands out the lowest free number
    bool woke = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(p.a.get());
            woke = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(woke);
        write_byte(p.b.get());
    });
    EXPECT_TRUE(woke);
}

TRELLIS_TEST(Io, WaitersOnDifferentFdsWakeIndependently) {
    auto p1 = make_pipe();
    auto p2 = make_pipe();
    int woke1 = 0;
    int woke2 = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(p1.a.get());
            ++woke1;
        });
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::wait_readable(p2.a.get());
            ++woke2;
        });
        co_await wait_all_tasks_blocked();
        write_byte(p2.b.get());
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(woke1, 0);
        EXPECT_EQ(woke2, 1);
        write_byte(p1.b.get());
    });
    EXPECT_EQ(woke1, 1);
}
