// The stream conformance checkers. The sequence of checks follows Trio's
// trio.testing._check_streams, rewritten for trellis's stream interfaces.
#include "trellis/testing/check_streams.hpp"

#include <random>
#include <string>
#include <vector>

#include "trellis/cancel_scope.hpp"
#include "trellis/cancelled.hpp"
#include "trellis/errors.hpp"
#include "trellis/finally.hpp"
#include "trellis/nursery.hpp"
#include "trellis/streams/aclose_forcefully.hpp"
#include "trellis/testing/assert_checkpoints.hpp"
#include "trellis/testing/wait_all_tasks_blocked.hpp"

namespace trellis::testing {

namespace {

// A connected pair seen as one direction: bytes sent on `s` come out of `r`.
struct one_way_view {
    std::shared_ptr<void> owner;
    send_stream* s;
    receive_stream* r;
};
using view_maker = std::function<task<one_way_view>()>;

// The state of one checker call: its name, for messages.
class checker {
public:
    explicit checker(const char* name) : name_(name) {}
    checker(const checker&) = delete;
    checker& operator=(const checker&) = delete;

    [[noreturn]] void fail(const std::string& what) const {
        throw stream_check_failed(std::string(name_) + ": check failed: " + what);
    }
    void require(bool ok, const std::string& what) const {
        if (!ok) fail(what);
    }

    // The checked operations: each must go through a checkpoint.
    task<> send_all(send_stream& s, std::string data) {
        const auto before = trellis::detail::current_checkpoint_counts();
        co_await s.send_all(data);
        yielded(before, "send_all");
    }
    task<std::string> receive_some(receive_stream& r, std::size_t max_bytes) {
        const auto before = trellis::detail::current_checkpoint_counts();
        std::string got = co_await r.receive_some(max_bytes);
        yielded(before, "receive_some");
        co_return got;
    }
    task<> expect_receive(receive_stream& r, std::string expected) {
        std::string got = co_await receive_some(r, 1);
        require(got == expected, "receive_some(1) returned \"" + got + "\", expected \"" + expected + "\"");
    }
    task<> wait_send_all_might_not_block(send_stream& s) {
        const auto before = trellis::detail::current_checkpoint_counts();
        co_await s.wait_send_all_might_not_block();
        yielded(before, "wait_send_all_might_not_block");
    }
    task<> aclose(async_resource& resource) {
        const auto before = trellis::detail::current_checkpoint_counts();
        co_await resource.aclose();
        yielded(before, "aclose");
    }
    task<> send_eof(half_closeable_stream& s) {
        const auto before = trellis::detail::current_checkpoint_counts();
        co_await s.send_eof();
        yielded(before, "send_eof");
    }

    // Runs fn() and requires it to throw E (anything else propagates).
    template <class E, class F>
    task<> expect_raises(const std::string& what, F fn) {
        bool raised = false;
        try {
            co_await fn();
        } catch (const E&) {
            raised = true;
        }
        if (!raised) fail(what);
    }

    // Makes a pair, runs body(s, r), then closes both ends forcefully.
    template <class Body>
    task<> with_pair(const view_maker& make, Body body) {
        one_way_view v = co_await make();
        if (!v.s || !v.r) fail("the stream maker returned a null stream");
        co_await finally([&]() { return body(*v.s, *v.r); },
                         [&]() -> task<> {
                             co_await aclose_forcefully(*v.s);
                             co_await aclose_forcefully(*v.r);
                         });
    }

private:
    // A checkpoint both yields to the scheduler and checks for cancellation:
    // the running task's counts of each must have grown since `before`.
    void yielded(trellis::detail::checkpoint_counts before, const char* op) const {
        const auto after = trellis::detail::current_checkpoint_counts();
        if (after.schedule == before.schedule)
            fail(std::string(op) + " returned without a checkpoint (it never yielded to the scheduler)");
        if (after.cancel == before.cancel)
            fail(std::string(op) + " returned without a checkpoint (it never checked for cancellation)");
    }

    const char* name_;
};

task<> basic_checks(checker& c, send_stream& s, receive_stream& r) {
    // Simple sending and receiving.
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon([&]() { return c.send_all(s, "x"); });
        n.start_soon([&]() { return c.expect_receive(r, "x"); });
        co_return;
    });
    // An empty send means nothing special.
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            co_await c.send_all(s, "");
            co_await c.send_all(s, "y");
        });
        n.start_soon([&]() { return c.expect_receive(r, "y"); });
        co_return;
    });
    // Receiving into a caller's buffer.
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon([&]() { return c.send_all(s, "1"); });
        std::byte one[1];
        const std::size_t got = co_await r.receive_some(std::span<std::byte>(one));
        c.require(got == 1 && one[0] == std::byte{'1'}, "receive_some(span) did not return the byte sent");
    });
    // An empty buffer is an argument error.
    co_await c.expect_raises<std::invalid_argument>("receive_some(0) did not throw std::invalid_argument",
                                                    [&]() -> task<> { (void)co_await r.receive_some(std::size_t{0}); });
    co_await c.expect_raises<std::invalid_argument>(
        "receive_some with an empty buffer did not throw std::invalid_argument",
        [&]() -> task<> { (void)co_await r.receive_some(std::span<std::byte>()); });
    // The default size.
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon([&]() { return c.send_all(s, "x"); });
        std::string got = co_await r.receive_some();
        c.require(got == "x", "receive_some() did not return the byte sent");
    });
    // Two receivers at once.
    co_await c.expect_raises<busy_resource_error>(
        "two tasks in receive_some at once did not raise busy_resource_error", [&]() {
            return open_nursery([&](nursery& n) -> task<> {
                n.start_soon([&]() -> task<> { (void)co_await c.receive_some(r, 1); });
                n.start_soon([&]() -> task<> { (void)co_await c.receive_some(r, 1); });
                co_return;
            });
        });
    // With a receiver blocked, wait_send_all_might_not_block returns.
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon([&]() -> task<> {
            co_await c.wait_send_all_might_not_block(s);
            n.cancel_scope().cancel();
        });
        n.start_soon([&]() -> task<> { (void)co_await c.receive_some(r, 1); });
        co_return;
    });
    // Closing the receiver breaks the sender (eventually).
    auto send_until_broken = [&]() -> task<> {
        for (;;) co_await c.send_all(s, std::string(100, 'x'));
    };
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon([&]() {
            return c.expect_raises<broken_resource_error>(
                "send_all after the receiver closed did not raise broken_resource_error", send_until_broken);
        });
        n.start_soon([&]() { return c.aclose(r); });
        co_return;
    });
    // Once broken, it stays broken.
    co_await c.expect_raises<broken_resource_error>("a broken send stream did not stay broken",
                                                    [&]() { return c.send_all(s, std::string(100, 'x')); });
    co_await c.expect_raises<closed_resource_error>(
        "receive_some on a closed receive stream did not raise closed_resource_error",
        [&]() -> task<> { (void)co_await c.receive_some(r, 4096); });
    // Closing again is fine.
    co_await c.aclose(r);
    co_await c.aclose(r);
    co_await c.aclose(s);
    co_await c.expect_raises<closed_resource_error>("send_all on a closed stream did not raise closed_resource_error",
                                                    [&]() { return c.send_all(s, std::string(100, 'x')); });
    co_await c.expect_raises<closed_resource_error>(
        "an empty send_all on a closed stream did not raise closed_resource_error",
        [&]() { return c.send_all(s, ""); });
    co_await c.expect_raises<closed_resource_error>(
        "wait_send_all_might_not_block on a closed stream did not raise closed_resource_error",
        [&]() { return c.wait_send_all_might_not_block(s); });
    co_await c.aclose(s);
    co_await c.aclose(s);
}

task<> close_checks(checker& c, const view_maker& make) {
    // Send, then close gracefully: the receiver gets the data, then EOF.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) {
        return open_nursery([&](nursery& n) -> task<> {
            n.start_soon([&]() -> task<> {
                co_await c.send_all(s, "y");
                co_await c.aclose(s);
            });
            n.start_soon([&]() -> task<> {
                co_await wait_all_tasks_blocked();
                co_await c.expect_receive(r, "y");
                co_await c.expect_receive(r, "");
                co_await c.aclose(r);
            });
            co_return;
        });
    });
    // A forcefully closed receiver breaks the sender.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) -> task<> {
        co_await aclose_forcefully(r);
        co_await c.expect_raises<broken_resource_error>(
            "send_all after the receiver was closed forcefully did not raise broken_resource_error",
            [&]() -> task<> {
                for (;;) co_await c.send_all(s, std::string(100, 'x'));
            });
        co_await c.expect_raises<closed_resource_error>(
            "receive_some on a forcefully closed stream did not raise closed_resource_error",
            [&]() -> task<> { (void)co_await c.receive_some(r, 4096); });
    });
    // A forcefully closed sender: the receiver sees EOF or broken, never data.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) -> task<> {
        co_await aclose_forcefully(s);
        co_await c.expect_raises<closed_resource_error>(
            "send_all on a forcefully closed stream did not raise closed_resource_error",
            [&]() { return c.send_all(s, "123"); });
        try {
            co_await c.expect_receive(r, "");
        } catch (const broken_resource_error&) {
        }
    });
    // A cancelled aclose still closes.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) -> task<> {
        cancel_scope first;
        first.cancel();
        co_await first.run([&]() { return r.aclose(); });
        cancel_scope second;
        second.cancel();
        co_await second.run([&]() { return s.aclose(); });
        co_await c.expect_raises<closed_resource_error>(
            "send_all after a cancelled aclose did not raise closed_resource_error",
            [&]() { return c.send_all(s, "123"); });
        co_await c.expect_raises<closed_resource_error>(
            "receive_some after a cancelled aclose did not raise closed_resource_error",
            [&]() -> task<> { (void)co_await c.receive_some(r, 4096); });
    });
    // After cancelled operations, a graceful close still works.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) -> task<> {
        cancel_scope scope;
        scope.cancel();
        co_await scope.run([&]() {
            return open_nursery([&](nursery& n) -> task<> {
                n.start_soon([&]() {
                    return c.expect_raises<cancelled>("send_all in a cancelled scope was not cancelled",
                                                      [&]() { return c.send_all(s, "x"); });
                });
                n.start_soon([&]() {
                    return c.expect_raises<cancelled>("receive_some in a cancelled scope was not cancelled",
                                                      [&]() -> task<> { (void)co_await c.receive_some(r, 1); });
                });
                co_return;
            });
        });
        co_await open_nursery([&](nursery& n) -> task<> {
            n.start_soon([&]() { return c.aclose(s); });
            n.start_soon([&]() { return c.aclose(r); });
            co_return;
        });
    });
    // Closing wakes a blocked receiver with closed_resource_error.
    co_await c.with_pair(make, [&](send_stream&, receive_stream& r) {
        return open_nursery([&](nursery& n) -> task<> {
            n.start_soon([&]() {
                return c.expect_raises<closed_resource_error>(
                    "closing a stream did not wake its blocked receive_some with closed_resource_error",
                    [&]() -> task<> { (void)co_await r.receive_some(std::size_t{10}); });
            });
            co_await wait_all_tasks_blocked();
            co_await aclose_forcefully(r);
        });
    });
}

task<> clogged_checks(checker& c, const view_maker& make) {
    // wait_send_all_might_not_block blocks until the receiver reads.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) -> task<> {
        std::vector<std::string> record;
        co_await open_nursery([&](nursery& n) -> task<> {
            n.start_soon([&]() -> task<> {
                record.push_back("waiter sleeping");
                co_await c.wait_send_all_might_not_block(s);
                record.push_back("waiter woke up");
                n.cancel_scope().cancel();
            });
            co_await wait_all_tasks_blocked();
            n.start_soon([&]() -> task<> {
                co_await wait_all_tasks_blocked();
                record.push_back("receiver starting");
                for (;;) (void)co_await r.receive_some(std::size_t{16384});
            });
        });
        c.require(record == std::vector<std::string>{"waiter sleeping", "receiver starting", "waiter woke up"},
                  "wait_send_all_might_not_block on a clogged stream returned before the receiver read");
    });
    // Two waiters, or a waiter and a sender, at once are busy.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream&) -> task<> {
        co_await c.expect_raises<busy_resource_error>(
            "two tasks in wait_send_all_might_not_block at once did not raise busy_resource_error", [&]() {
                return open_nursery([&](nursery& n) -> task<> {
                    n.start_soon([&]() { return s.wait_send_all_might_not_block(); });
                    n.start_soon([&]() { return s.wait_send_all_might_not_block(); });
                    co_return;
                });
            });
        co_await c.expect_raises<busy_resource_error>(
            "wait_send_all_might_not_block and send_all at once did not raise busy_resource_error", [&]() {
                return open_nursery([&](nursery& n) -> task<> {
                    n.start_soon([&]() { return s.wait_send_all_might_not_block(); });
                    n.start_soon([&]() { return s.send_all("123"); });
                    co_return;
                });
            });
    });
    co_await c.with_pair(make, [&](send_stream& s, receive_stream&) {
        return c.expect_raises<busy_resource_error>(
            "two tasks in send_all at once did not raise busy_resource_error", [&]() {
                return open_nursery([&](nursery& n) -> task<> {
                    n.start_soon([&]() { return s.send_all("123"); });
                    n.start_soon([&]() { return s.send_all("123"); });
                    co_return;
                });
            });
    });
    // Closing the receiver lets a blocked wait_send_all_might_not_block return.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) {
        return open_nursery([&](nursery& n) -> task<> {
            n.start_soon([&]() -> task<> {
                try {
                    co_await c.wait_send_all_might_not_block(s);
                } catch (const broken_resource_error&) {
                }
            });
            n.start_soon([&]() -> task<> {
                co_await wait_all_tasks_blocked();
                co_await aclose_forcefully(r);
            });
            co_return;
        });
    });
    // ... and when the call starts after the close.
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) -> task<> {
        co_await aclose_forcefully(r);
        try {
            co_await c.wait_send_all_might_not_block(s);
        } catch (const broken_resource_error&) {
        }
    });
    // Closing the send stream wakes a task blocked in send_all or
    // wait_send_all_might_not_block with closed_resource_error.
    auto close_soon = [](send_stream& s) -> task<> {
        co_await wait_all_tasks_blocked();
        co_await aclose_forcefully(s);
    };
    co_await c.with_pair(make, [&](send_stream& s, receive_stream&) {
        return open_nursery([&](nursery& n) -> task<> {
            n.start_soon(close_soon, std::ref(s));
            co_await c.expect_raises<closed_resource_error>(
                "closing a send stream did not wake its blocked send_all with closed_resource_error",
                [&]() { return s.send_all("xyzzy"); });
        });
    });
    co_await c.with_pair(make, [&](send_stream& s, receive_stream&) {
        return open_nursery([&](nursery& n) -> task<> {
            n.start_soon(close_soon, std::ref(s));
            co_await c.expect_raises<closed_resource_error>(
                "closing a send stream did not wake its blocked wait_send_all_might_not_block with "
                "closed_resource_error",
                [&]() { return s.wait_send_all_might_not_block(); });
        });
    });
}

task<> run_one_way_checks(checker& c, const view_maker& make, const view_maker& clogged) {
    co_await c.with_pair(make, [&](send_stream& s, receive_stream& r) { return basic_checks(c, s, r); });
    co_await close_checks(c, make);
    if (clogged) co_await clogged_checks(c, clogged);
}

template <class Pair>
view_maker forward_view(std::function<task<Pair>()> maker) {
    if (!maker) return {};
    return [maker]() -> task<one_way_view> {
        auto pair = std::make_shared<Pair>(co_await maker());
        send_stream* s = pair->first.get();
        receive_stream* r = pair->second.get();
        co_return one_way_view{std::move(pair), s, r};
    };
}

template <class Pair>
view_maker backward_view(std::function<task<Pair>()> maker) {
    if (!maker) return {};
    return [maker]() -> task<one_way_view> {
        auto pair = std::make_shared<Pair>(co_await maker());
        send_stream* s = pair->second.get();
        receive_stream* r = pair->first.get();
        co_return one_way_view{std::move(pair), s, r};
    };
}

// Random bytes, the same for the same seed.
std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string out(n, '\0');
    for (auto& ch : out) ch = static_cast<char>(gen() & 0xff);
    return out;
}

task<> send_in_chunks(stream& s, const std::string& data, unsigned seed) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<std::size_t> size(1, 16384);
    for (std::size_t pos = 0; pos < data.size();) {
        const std::size_t n = std::min(size(gen), data.size() - pos);
        co_await s.send_all(std::string_view(data).substr(pos, n));
        pos += n;
    }
}

task<> receive_in_chunks(checker& c, stream& s, const std::string& expected, unsigned seed) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<std::size_t> size(1, 16384);
    std::string got;
    while (got.size() < expected.size()) {
        std::string chunk = co_await s.receive_some(size(gen));
        c.require(!chunk.empty(), "receive_some returned end of file in the middle of a duplex transfer");
        got += chunk;
    }
    c.require(got == expected, "the bytes received in a duplex transfer differ from those sent");
}

template <class Pair>
task<> run_two_way_checks(checker& c, const std::function<task<Pair>()>& maker,
                          const std::function<task<Pair>()>& clogged) {
    co_await run_one_way_checks(c, forward_view(maker), forward_view(clogged));
    co_await run_one_way_checks(c, backward_view(maker), backward_view(clogged));

    Pair pair = co_await maker();
    stream& s1 = *pair.first;
    stream& s2 = *pair.second;
    co_await finally(
        [&]() -> task<> {
            // Both directions at once.
            const std::string data = random_bytes(1 << 20, 0);
            const std::string reversed(data.rbegin(), data.rend());
            co_await open_nursery([&](nursery& n) -> task<> {
                n.start_soon(send_in_chunks, std::ref(s1), std::cref(data), 0u);
                n.start_soon(send_in_chunks, std::ref(s2), std::cref(reversed), 1u);
                n.start_soon(receive_in_chunks, std::ref(c), std::ref(s1), std::cref(reversed), 2u);
                n.start_soon(receive_in_chunks, std::ref(c), std::ref(s2), std::cref(data), 3u);
                co_return;
            });
            // Closing one end gives the other end of file.
            co_await open_nursery([&](nursery& n) -> task<> {
                n.start_soon([&]() -> task<> {
                    std::string got = co_await s2.receive_some(std::size_t{10});
                    c.require(got.empty(), "receive_some after the peer closed did not return end of file");
                    co_await s2.aclose();
                });
                n.start_soon([&]() { return s1.aclose(); });
                co_return;
            });
        },
        [&]() -> task<> {
            co_await aclose_forcefully(s1);
            co_await aclose_forcefully(s2);
        });
}

task<> half_close_checks(checker& c, half_closeable_stream& s1, half_closeable_stream& s2) {
    auto send_x_then_eof = [&c](half_closeable_stream& s) -> task<> {
        co_await s.send_all("x");
        co_await c.send_eof(s);
    };
    auto expect_x_then_eof = [&c](half_closeable_stream& r) -> task<> {
        co_await wait_all_tasks_blocked();
        std::string got = co_await r.receive_some(std::size_t{10});
        c.require(got == "x", "the data sent before send_eof did not arrive");
        got = co_await r.receive_some(std::size_t{10});
        c.require(got.empty(), "receive_some after the peer's send_eof did not return end of file");
    };
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon(send_x_then_eof, std::ref(s1));
        n.start_soon(expect_x_then_eof, std::ref(s2));
        co_return;
    });
    co_await c.expect_raises<closed_resource_error>("send_all after send_eof did not raise closed_resource_error",
                                                    [&]() { return s1.send_all("y"); });
    co_await c.send_eof(s1);  // again: fine
    // The other direction still works.
    co_await open_nursery([&](nursery& n) -> task<> {
        n.start_soon(send_x_then_eof, std::ref(s2));
        n.start_soon(expect_x_then_eof, std::ref(s1));
        co_return;
    });
}

template <class Body>
task<> with_half_closeable_pair(const std::function<task<half_closeable_pair>()>& maker, Body body) {
    half_closeable_pair pair = co_await maker();
    co_await finally([&]() { return body(*pair.first, *pair.second); },
                     [&]() -> task<> {
                         co_await aclose_forcefully(*pair.first);
                         co_await aclose_forcefully(*pair.second);
                     });
}

}  // namespace

task<> check_one_way_stream(std::function<task<one_way_pair>()> maker, std::function<task<one_way_pair>()> clogged_maker) {
    if (!maker) throw std::invalid_argument("check_one_way_stream: the stream maker is empty");
    checker c("check_one_way_stream");
    co_await run_one_way_checks(c, forward_view(maker), forward_view(clogged_maker));
}

task<> check_two_way_stream(std::function<task<two_way_pair>()> maker, std::function<task<two_way_pair>()> clogged_maker) {
    if (!maker) throw std::invalid_argument("check_two_way_stream: the stream maker is empty");
    checker c("check_two_way_stream");
    co_await run_two_way_checks(c, maker, clogged_maker);
}

task<> check_half_closeable_stream(std::function<task<half_closeable_pair>()> maker,
                                   std::function<task<half_closeable_pair>()> clogged_maker) {
    if (!maker) throw std::invalid_argument("check_half_closeable_stream: the stream maker is empty");
    checker c("check_half_closeable_stream");
    co_await run_two_way_checks(c, maker, clogged_maker);
    co_await with_half_closeable_pair(maker, [&](half_closeable_stream& s1, half_closeable_stream& s2) {
        return half_close_checks(c, s1, s2);
    });
    if (clogged_maker) {
        co_await with_half_closeable_pair(clogged_maker, [&](half_closeable_stream& s1, half_closeable_stream&) {
            return c.expect_raises<busy_resource_error>(
                "send_all and send_eof at once did not raise busy_resource_error", [&]() {
                    return open_nursery([&](nursery& n) -> task<> {
                        n.start_soon([&]() { return s1.send_all("x"); });
                        co_await wait_all_tasks_blocked();
                        n.start_soon([&]() { return s1.send_eof(); });
                    });
                });
        });
        co_await with_half_closeable_pair(clogged_maker, [&](half_closeable_stream& s1, half_closeable_stream&) {
            return c.expect_raises<busy_resource_error>(
                "wait_send_all_might_not_block and send_eof at once did not raise busy_resource_error", [&]() {
                    return open_nursery([&](nursery& n) -> task<> {
                        n.start_soon([&]() { return s1.wait_send_all_might_not_block(); });
                        co_await wait_all_tasks_blocked();
                        n.start_soon([&]() { return s1.send_eof(); });
                    });
                });
        });
    }
}

}  // namespace trellis::testing
