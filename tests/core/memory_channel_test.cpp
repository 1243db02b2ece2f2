// Memory channels: open_memory_channel, send_channel, receive_channel.
#include <trellis/trellis.hpp>
#include <trellis/testing/gtest.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

using trellis::testing::wait_all_tasks_blocked;

namespace {

// co_await raises<E>(fn): true if fn() raised E.
template <class E, class F>
trellis::task<bool> raises(F fn) {
    try {
        co_await fn();
    } catch (const E&) {
        co_return true;
    }
    co_return false;
}

// Counts its live instances (copies and moved-from shells included), to
// check that a channel destroys what it buffers.
struct counted {
    static inline int live = 0;
    int value = 0;
    explicit counted(int v) : value(v) { ++live; }
    counted(const counted& o) : value(o.value) { ++live; }
    counted(counted&& o) noexcept : value(o.value) { ++live; }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) noexcept = default;
    ~counted() { --live; }
};

// The smallest host loop for a guest run: callbacks queued from any thread,
// run by whoever calls run_until().
class callback_queue {
public:
    trellis::guest_host host() {
        auto post = [this](std::function<void()> fn) {
            {
                std::lock_guard lock(mutex_);
                queue_.push_back(std::move(fn));
            }
            cv_.notify_one();
        };
        return {post, post};
    }
    bool run_until(const bool& flag, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!flag) {
            std::function<void()> fn;
            {
                std::unique_lock lock(mutex_);
                if (!cv_.wait_until(lock, deadline, [this] { return !queue_.empty(); })) return flag;
                fn = std::move(queue_.front());
                queue_.pop_front();
            }
            fn();
        }
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
};

}  // namespace

// ---- Buffer sizes. ----

TRELLIS_TEST(MemoryChannel, WithNoBufferSendWaitsUntilAReceiverTakesTheValue) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    bool sent = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await tx.send(7);
            sent = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(sent);
        EXPECT_EQ(tx.statistics().tasks_waiting_send, 1u);
        EXPECT_EQ(tx.statistics().current_buffer_used, 0u);
        EXPECT_EQ(co_await rx.receive(), 7);
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(sent);
    });
}

TRELLIS_TEST(MemoryChannel, WithNoBufferSendNowaitNeedsAWaitingReceiver) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    EXPECT_THROW(tx.send_nowait(1), trellis::would_block);
    std::optional<int> got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { got = co_await rx.receive(); });
        co_await wait_all_tasks_blocked();
        tx.send_nowait(2);
    });
    EXPECT_EQ(got, 2);
}

TRELLIS_TEST(MemoryChannel, SendNowaitFillsTheBufferThenRaisesWouldBlock) {
    auto channel = trellis::open_memory_channel<int>(2);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.send_nowait(1);
    tx.send_nowait(2);
    EXPECT_THROW(tx.send_nowait(3), trellis::would_block);
    EXPECT_EQ(tx.statistics().current_buffer_used, 2u);
    EXPECT_EQ(rx.receive_nowait(), 1);
    tx.send_nowait(3);
    EXPECT_EQ(rx.receive_nowait(), 2);
    EXPECT_EQ(rx.receive_nowait(), 3);
    co_return;
}

TRELLIS_TEST(MemoryChannel, SendWaitsWhileTheBufferIsFull) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    std::vector<int> sent;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            for (int i = 1; i <= 3; ++i) {
                co_await tx.send(i);
                sent.push_back(i);
            }
        });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(sent, (std::vector<int>{1}));
        EXPECT_EQ(co_await rx.receive(), 1);
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(sent, (std::vector<int>{1, 2}));
        EXPECT_EQ(co_await rx.receive(), 2);
        EXPECT_EQ(co_await rx.receive(), 3);
    });
}

TRELLIS_TEST(MemoryChannel, AnUnboundedChannelNeverBlocksSenders) {
    auto channel = trellis::open_memory_channel<int>(trellis::unbounded);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    for (int i = 0; i < 1000; ++i) tx.send_nowait(i);
    co_await tx.send(1000);
    EXPECT_EQ(tx.statistics().current_buffer_used, 1001u);
    EXPECT_EQ(tx.statistics().max_buffer_size, trellis::unbounded);
    for (int i = 0; i <= 1000; ++i) EXPECT_EQ(rx.receive_nowait(), i);
}

// ---- Receiving without waiting. ----

TRELLIS_TEST(MemoryChannel, ReceiveNowaitRaisesWouldBlockWhenEmpty) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    EXPECT_THROW(rx.receive_nowait(), trellis::would_block);
    tx.send_nowait(1);
    EXPECT_EQ(rx.receive_nowait(), 1);
    EXPECT_THROW(rx.receive_nowait(), trellis::would_block);
    co_return;
}

TRELLIS_TEST(MemoryChannel, ReceiveNowaitRaisesEndOfChannelOnceSendersAreClosedAndTheBufferIsEmpty) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.send_nowait(1);
    tx.close();
    EXPECT_EQ(rx.receive_nowait(), 1);
    EXPECT_THROW(rx.receive_nowait(), trellis::end_of_channel);
    co_return;
}

TRELLIS_TEST(MemoryChannel, ReceiveNowaitTakesTheValueOfABlockedSender) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    bool sent = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await tx.send(5);
            sent = true;
        });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(rx.receive_nowait(), 5);
        EXPECT_EQ(rx.statistics().tasks_waiting_send, 0u);
    });
    EXPECT_TRUE(sent);
}

// ---- Clones and the end of the channel. ----

TRELLIS_TEST(MemoryChannel, TheSendSideStaysOpenUntilEveryCloneIsClosed) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    auto tx2 = tx.clone();
    EXPECT_EQ(rx.statistics().open_send_channels, 2u);
    tx.close();
    EXPECT_EQ(rx.statistics().open_send_channels, 1u);
    EXPECT_THROW(rx.receive_nowait(), trellis::would_block);
    tx2.send_nowait(9);
    tx2.close();
    EXPECT_EQ(rx.receive_nowait(), 9);
    EXPECT_THROW(rx.receive_nowait(), trellis::end_of_channel);
    co_return;
}

TRELLIS_TEST(MemoryChannel, TheReceiveSideStaysOpenUntilEveryCloneIsClosed) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    auto rx2 = rx.clone();
    EXPECT_EQ(tx.statistics().open_receive_channels, 2u);
    rx.close();
    tx.send_nowait(4);
    EXPECT_EQ(rx2.receive_nowait(), 4);
    rx2.close();
    EXPECT_THROW(tx.send_nowait(5), trellis::broken_resource_error);
    co_return;
}

TRELLIS_TEST(MemoryChannel, DestroyingAnEndClosesIt) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    {
        auto doomed = std::move(tx);
        EXPECT_TRUE(tx.is_closed());  // moved-from ends count as closed
        EXPECT_FALSE(doomed.is_closed());
    }
    EXPECT_EQ(rx.statistics().open_send_channels, 0u);
    EXPECT_THROW(rx.receive_nowait(), trellis::end_of_channel);
    co_return;
}

TRELLIS_TEST(MemoryChannel, TheNextLoopEndsCleanlyWhenEverySenderIsClosed) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    std::vector<int> got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int first : {0, 100})
            n.start_soon(
                [first](trellis::send_channel<int> out) -> trellis::task<> {
                    for (int i = first; i < first + 3; ++i) co_await out.send(i);
                },
                tx.clone());
        tx.close();
        while (auto v = co_await rx.next()) got.push_back(*v);
    });
    EXPECT_EQ(got.size(), 6u);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 100, 101, 102}));
}

TRELLIS_TEST(MemoryChannel, ReceiveAfterTheEndRaisesEndOfChannelEveryTime) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.close();
    EXPECT_TRUE(co_await raises<trellis::end_of_channel>([&] { return rx.receive(); }));
    EXPECT_TRUE(co_await raises<trellis::end_of_channel>([&] { return rx.receive(); }));
    EXPECT_FALSE(co_await rx.next());
}

TRELLIS_TEST(MemoryChannel, ABlockedReceiverSeesTheEndWhenTheLastSenderCloses) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    auto tx2 = tx.clone();
    bool ended = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            ended = co_await raises<trellis::end_of_channel>([&] { return rx.receive(); });
        });
        co_await wait_all_tasks_blocked();
        tx.close();
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(ended);  // tx2 is still open
        tx2.close();
    });
    EXPECT_TRUE(ended);
}

// ---- Broken and closed ends. ----

TRELLIS_TEST(MemoryChannel, SendWhenEveryReceiverIsClosedRaisesBrokenResource) {
    auto channel = trellis::open_memory_channel<int>(5);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    rx.close();
    EXPECT_THROW(tx.send_nowait(1), trellis::broken_resource_error);
    EXPECT_TRUE(co_await raises<trellis::broken_resource_error>([&] { return tx.send(1); }));
}

TRELLIS_TEST(MemoryChannel, ABlockedSenderGetsBrokenResourceWhenTheLastReceiverCloses) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    auto rx2 = rx.clone();
    bool broken = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            broken = co_await raises<trellis::broken_resource_error>([&] { return tx.send(1); });
        });
        co_await wait_all_tasks_blocked();
        rx.close();
        co_await wait_all_tasks_blocked();
        EXPECT_FALSE(broken);
        EXPECT_EQ(tx.statistics().tasks_waiting_send, 1u);
        rx2.close();
    });
    EXPECT_TRUE(broken);
    EXPECT_EQ(tx.statistics().tasks_waiting_send, 0u);
}

TRELLIS_TEST(MemoryChannel, UsingAClosedSendEndRaisesClosedResource) {
    auto channel = trellis::open_memory_channel<int>(5);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.close();
    tx.close();  // idempotent
    EXPECT_TRUE(tx.is_closed());
    EXPECT_THROW(tx.send_nowait(1), trellis::closed_resource_error);
    EXPECT_THROW((void)tx.clone(), trellis::closed_resource_error);
    EXPECT_TRUE(co_await raises<trellis::closed_resource_error>([&] { return tx.send(1); }));
    // Closed wins over broken.
    rx.close();
    EXPECT_THROW(tx.send_nowait(1), trellis::closed_resource_error);
}

TRELLIS_TEST(MemoryChannel, UsingAClosedReceiveEndRaisesClosedResource) {
    auto channel = trellis::open_memory_channel<int>(5);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.send_nowait(1);
    rx.close();
    rx.close();
    EXPECT_TRUE(rx.is_closed());
    EXPECT_THROW(rx.receive_nowait(), trellis::closed_resource_error);
    EXPECT_THROW((void)rx.clone(), trellis::closed_resource_error);
    EXPECT_TRUE(co_await raises<trellis::closed_resource_error>([&] { return rx.receive(); }));
    EXPECT_TRUE(co_await raises<trellis::closed_resource_error>([&] { return rx.next(); }));
}

TRELLIS_TEST(MemoryChannel, ATaskBlockedSendingOnAnEndThatGetsClosedWakesWithClosedResource) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    auto other = tx.clone();
    bool closed = false;
    bool other_closed = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            closed = co_await raises<trellis::closed_resource_error>([&] { return tx.send(1); });
        });
        n.start_soon([&]() -> trellis::task<> {
            other_closed = co_await raises<trellis::closed_resource_error>([&] { return other.send(2); });
        });
        co_await wait_all_tasks_blocked();
        tx.close();
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(closed);
        // Only the tasks blocked on the closed clone wake.
        EXPECT_EQ(rx.statistics().tasks_waiting_send, 1u);
        EXPECT_EQ(rx.receive_nowait(), 2);
    });
    EXPECT_FALSE(other_closed);
}

TRELLIS_TEST(MemoryChannel, ATaskBlockedReceivingOnAnEndThatGetsClosedWakesWithClosedResource) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    auto other = rx.clone();
    bool closed = false;
    std::optional<int> other_got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            closed = co_await raises<trellis::closed_resource_error>([&] { return rx.receive(); });
        });
        n.start_soon([&]() -> trellis::task<> { other_got = co_await other.receive(); });
        co_await wait_all_tasks_blocked();
        rx.close();
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(closed);
        EXPECT_EQ(tx.statistics().tasks_waiting_receive, 1u);
        tx.send_nowait(3);
    });
    EXPECT_EQ(other_got, 3);
}

// ---- Values. ----

TRELLIS_TEST(MemoryChannel, CarriesMoveOnlyValues) {
    for (std::size_t buffer : {0u, 1u}) {
        auto channel = trellis::open_memory_channel<std::unique_ptr<int>>(buffer);
        auto& tx = channel.send;
        auto& rx = channel.receive;
        std::vector<int> got;
        co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
            n.start_soon([&]() -> trellis::task<> {
                co_await tx.send(std::make_unique<int>(1));
                co_await tx.send(std::make_unique<int>(2));
                tx.close();
            });
            std::unique_ptr<int> first = co_await rx.receive();
            got.push_back(*first);
            while (auto v = co_await rx.next()) got.push_back(**v);
        });
        EXPECT_EQ(got, (std::vector<int>{1, 2})) << "buffer " << buffer;
    }
    auto channel = trellis::open_memory_channel<std::unique_ptr<int>>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.send_nowait(std::make_unique<int>(3));
    EXPECT_EQ(*rx.receive_nowait(), 3);
}

TRELLIS_TEST(MemoryChannel, BufferedValuesAreDestroyedWhenTheLastReceiverCloses) {
    counted::live = 0;
    {
        auto channel = trellis::open_memory_channel<counted>(5);
        auto& tx = channel.send;
        auto& rx = channel.receive;
        auto rx2 = rx.clone();
        for (int i = 0; i < 3; ++i) tx.send_nowait(counted(i));
        EXPECT_EQ(counted::live, 3);
        rx.close();
        EXPECT_EQ(counted::live, 3);
        rx2.close();
        EXPECT_EQ(counted::live, 0);
        EXPECT_EQ(tx.statistics().current_buffer_used, 0u);
    }
    EXPECT_EQ(counted::live, 0);
    co_return;
}

TRELLIS_TEST(MemoryChannel, StatisticsReportTheBufferTheEndsAndTheWaiters) {
    auto channel = trellis::open_memory_channel<int>(3);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    auto tx2 = tx.clone();
    tx.send_nowait(1);
    auto s = rx.statistics();
    EXPECT_EQ(s.current_buffer_used, 1u);
    EXPECT_EQ(s.max_buffer_size, 3u);
    EXPECT_EQ(s.open_send_channels, 2u);
    EXPECT_EQ(s.open_receive_channels, 1u);
    EXPECT_EQ(s.tasks_waiting_send, 0u);
    EXPECT_EQ(s.tasks_waiting_receive, 0u);
    (void)rx.receive_nowait();
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { (void)co_await rx.receive(); });
        n.start_soon([&]() -> trellis::task<> { (void)co_await rx.receive(); });
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(tx.statistics().tasks_waiting_receive, 2u);
        tx.send_nowait(1);
        tx2.send_nowait(2);
        EXPECT_EQ(tx.statistics().tasks_waiting_receive, 0u);
    });
}

// ---- Order. ----

TRELLIS_TEST(MemoryChannel, BlockedSendersAreServedInArrivalOrder) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    std::vector<int> got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 1; i <= 3; ++i) {
            n.start_soon([&](int v) -> trellis::task<> { co_await tx.send(v); }, i);
            co_await wait_all_tasks_blocked();
        }
        EXPECT_EQ(rx.statistics().tasks_waiting_send, 3u);
        for (int i = 0; i < 3; ++i) got.push_back(co_await rx.receive());
    });
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

TRELLIS_TEST(MemoryChannel, BlockedSendersQueueBehindTheBuffer) {
    auto channel = trellis::open_memory_channel<int>(2);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.send_nowait(1);
    tx.send_nowait(2);
    std::vector<int> got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (int i = 3; i <= 4; ++i) {
            n.start_soon([&](int v) -> trellis::task<> { co_await tx.send(v); }, i);
            co_await wait_all_tasks_blocked();
        }
        for (int i = 0; i < 4; ++i) got.push_back(co_await rx.receive());
    });
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TRELLIS_TEST(MemoryChannel, BlockedReceiversAreServedInArrivalOrder) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    std::vector<std::pair<std::string, int>> got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        for (const char* name : {"first", "second", "third"}) {
            n.start_soon(
                [&](std::string me) -> trellis::task<> { got.emplace_back(me, co_await rx.receive()); },
                std::string(name));
            co_await wait_all_tasks_blocked();
        }
        EXPECT_EQ(tx.statistics().tasks_waiting_receive, 3u);
        for (int i = 1; i <= 3; ++i) co_await tx.send(i);
    });
    EXPECT_EQ(got, (std::vector<std::pair<std::string, int>>{{"first", 1}, {"second", 2}, {"third", 3}}));
}

// ---- Checkpoints and cancellation. ----

TRELLIS_TEST(MemoryChannel, SendAndReceiveAreCheckpointsEvenWhenTheyDoNotBlock) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    int other_steps = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            for (;;) {
                ++other_steps;
                co_await trellis::checkpoint();
                if (other_steps == 3) co_return;
            }
        });
        co_await tx.send(1);
        EXPECT_EQ(other_steps, 1);
        EXPECT_EQ(co_await rx.receive(), 1);
        EXPECT_EQ(other_steps, 2);
    });
}

TRELLIS_TEST(MemoryChannel, SendAndReceiveInACancelledScopeRaiseAndMoveNothing) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    trellis::cancel_scope send_scope;
    send_scope.cancel();
    co_await send_scope.run([&]() -> trellis::task<> { co_await tx.send(1); });
    EXPECT_TRUE(send_scope.cancelled_caught());
    EXPECT_EQ(tx.statistics().current_buffer_used, 0u);
    tx.send_nowait(2);
    trellis::cancel_scope receive_scope;
    receive_scope.cancel();
    co_await receive_scope.run([&]() -> trellis::task<> { (void)co_await rx.receive(); });
    EXPECT_TRUE(receive_scope.cancelled_caught());
    EXPECT_EQ(rx.receive_nowait(), 2);
}

TRELLIS_TEST(MemoryChannel, ACancelledSendDidNotDeliver) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { co_await scope.run([&]() -> trellis::task<> { co_await tx.send(1); }); });
        co_await wait_all_tasks_blocked();
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_TRUE(scope.cancelled_caught());
        EXPECT_EQ(rx.statistics().tasks_waiting_send, 0u);
        EXPECT_THROW(rx.receive_nowait(), trellis::would_block);
        n.start_soon([&]() -> trellis::task<> { co_await tx.send(2); });
        EXPECT_EQ(co_await rx.receive(), 2);
    });
}

TRELLIS_TEST(MemoryChannel, ACancelledReceiveDidNotConsume) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    trellis::cancel_scope scope;
    std::optional<int> cancelled_got;
    std::optional<int> second_got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> { cancelled_got = co_await rx.receive(); });
        });
        co_await wait_all_tasks_blocked();
        n.start_soon([&]() -> trellis::task<> { second_got = co_await rx.receive(); });
        co_await wait_all_tasks_blocked();
        scope.cancel();
        co_await wait_all_tasks_blocked();
        EXPECT_EQ(tx.statistics().tasks_waiting_receive, 1u);
        co_await tx.send(1);
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_FALSE(cancelled_got);
    EXPECT_EQ(second_got, 1);
}

TRELLIS_TEST(MemoryChannel, AValueHandedToAReceiverInTheStepItIsCancelledIsNotLost) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    trellis::cancel_scope scope;
    std::optional<int> got;
    bool after_receive_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                got = co_await rx.receive();
                after_receive_ran = true;
                co_await trellis::checkpoint();  // here the cancellation lands
            });
        });
        co_await wait_all_tasks_blocked();
        tx.send_nowait(1);  // handed over: the receiver is runnable...
        scope.cancel();     // ...and cancelled before it runs
    });
    EXPECT_EQ(got, 1);
    EXPECT_TRUE(after_receive_ran);
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_THROW(rx.receive_nowait(), trellis::would_block);
}

TRELLIS_TEST(MemoryChannel, ASendWhoseValueIsTakenInTheStepItIsCancelledReportsSuccess) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    trellis::cancel_scope scope;
    bool send_returned = false;
    std::optional<int> got;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await scope.run([&]() -> trellis::task<> {
                co_await tx.send(1);
                send_returned = true;
                co_await trellis::checkpoint();
            });
        });
        co_await wait_all_tasks_blocked();
        got = rx.receive_nowait();  // taken: the sender is runnable...
        scope.cancel();             // ...and cancelled before it runs
    });
    EXPECT_EQ(got, 1);
    // The value was delivered, so send must not claim it was cancelled.
    EXPECT_TRUE(send_returned);
    EXPECT_TRUE(scope.cancelled_caught());
}

TRELLIS_TEST(MemoryChannel, ACancelledBlockedSendOnAFullBufferAddsNothing) {
    auto channel = trellis::open_memory_channel<int>(1);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    tx.send_nowait(1);
    trellis::cancel_scope scope;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> { co_await scope.run([&]() -> trellis::task<> { co_await tx.send(2); }); });
        co_await wait_all_tasks_blocked();
        scope.cancel();
    });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_EQ(rx.receive_nowait(), 1);
    EXPECT_THROW(rx.receive_nowait(), trellis::would_block);
}

TRELLIS_TEST(MemoryChannel, AcloseIsACheckpointThatClosesEvenWhenCancelled) {
    auto channel = trellis::open_memory_channel<int>(0);
    auto& tx = channel.send;
    auto& rx = channel.receive;
    bool other_ran = false;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            other_ran = true;
            co_return;
        });
        co_await tx.aclose();
        EXPECT_TRUE(other_ran);
        EXPECT_TRUE(tx.is_closed());
    });
    trellis::cancel_scope scope;
    scope.cancel();
    co_await scope.run([&]() -> trellis::task<> { co_await rx.aclose(); });
    EXPECT_TRUE(scope.cancelled_caught());
    EXPECT_TRUE(rx.is_closed());
}

// ---- Abandonment. ----

TEST(MemoryChannel, AbandoningARunWithTasksBlockedOnChannelsIsClean) {
    callback_queue loop;
    bool all_blocked = false;
    auto run = trellis::start_guest_run(
        loop.host(), [](trellis::outcome<void>) {},
        [&]() -> trellis::task<> {
            auto channel = trellis::open_memory_channel<int>(0);
            co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
                // Blocked on ends that live in the parent's frame...
                n.start_soon([&]() -> trellis::task<> { (void)co_await channel.receive.receive(); });
                // ...and on ends that live in the blocked task's own frame.
                n.start_soon([]() -> trellis::task<> {
                    auto own = trellis::open_memory_channel<int>(0);
                    co_await own.send.send(1);
                });
                co_await wait_all_tasks_blocked();
                all_blocked = true;
            });
        });
    EXPECT_TRUE(loop.run_until(all_blocked, std::chrono::seconds(10)));
    // Frames are destroyed without resuming; closing the ends must not
    // touch the waiters that lived in them.
    ::testing::internal::CaptureStderr();
    run.host_gone();
    ::testing::internal::GetCapturedStderr();
    EXPECT_TRUE(run.finished());
}

// ---- The pair open_memory_channel returns. ----

TRELLIS_TEST(MemoryChannel, TheEndsAreNamedSendAndReceive) {
    auto channel = trellis::open_memory_channel<int>(1);
    channel.send.send_nowait(5);
    EXPECT_EQ(channel.receive.receive_nowait(), 5);
    co_return;
}

TRELLIS_TEST(MemoryChannel, AStructuredBindingTakesTheSendEndThenTheReceiveEnd) {
    auto [tx, rx] = trellis::open_memory_channel<std::string>(1);
    static_assert(std::is_same_v<decltype(tx), trellis::send_channel<std::string>>);
    static_assert(std::is_same_v<decltype(rx), trellis::receive_channel<std::string>>);
    tx.send_nowait("through");
    EXPECT_EQ(rx.receive_nowait(), "through");
    co_return;
}
