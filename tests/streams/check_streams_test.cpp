// The checkers themselves: a correct toy stream passes, and each
// deliberately broken variant fails with a message naming the broken check.
#include <trellis/streams.hpp>
#include <trellis/testing/check_streams.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/trellis.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

using trellis::task;
using namespace trellis::testing;

namespace {

struct flaws {
    bool receive_skips_checkpoint_when_data_is_ready = false;
    bool receive_works_after_close = false;
    bool send_works_after_close = false;
    // Yields to the scheduler but never checks for cancellation.
    bool send_never_checks_cancellation = false;
};

// A small unbounded one-way stream, written from scratch for these tests.
struct toy_state {
    flaws f;
    std::string data;
    bool sender_closed = false;
    bool receiver_closed = false;
    trellis::lowlevel::parking_lot lot;
};

class toy_send final : public trellis::send_stream {
public:
    explicit toy_send(std::shared_ptr<toy_state> st) : st_(std::move(st)) {}
    ~toy_send() override {
        st_->sender_closed = true;
        st_->lot.unpark_all();
    }

protected:
    task<> do_send_all(std::span<const std::byte> data) override {
        auto busy = guard_.enter();
        // One co_await of either awaiter: clang 14 crashes splitting this
        // coroutine when the two are awaited in two branches.
        co_await (st_->f.send_never_checks_cancellation ? trellis::lowlevel::cancel_shielded_checkpoint()
                                                        : trellis::checkpoint());
        if (st_->sender_closed) {
            if (st_->f.send_works_after_close) co_return;  // the flaw: silently drops the data
            throw trellis::closed_resource_error("toy closed");
        }
        if (st_->receiver_closed) throw trellis::broken_resource_error("toy receiver closed");
        st_->data.append(reinterpret_cast<const char*>(data.data()), data.size());
        st_->lot.unpark_all();
    }
    task<> do_wait_send_all_might_not_block() override {
        auto busy = guard_.enter();
        co_await trellis::checkpoint();
        if (st_->sender_closed) throw trellis::closed_resource_error("toy closed");
    }
    task<> do_aclose() override {
        st_->sender_closed = true;
        st_->lot.unpark_all();
        co_await trellis::checkpoint();
    }

private:
    std::shared_ptr<toy_state> st_;
    trellis::conflict_detector guard_{"toy send_all: busy"};
};

class toy_receive final : public trellis::receive_stream {
public:
    explicit toy_receive(std::shared_ptr<toy_state> st) : st_(std::move(st)) {}
    ~toy_receive() override {
        st_->receiver_closed = true;
        st_->lot.unpark_all();
    }

protected:
    task<std::size_t> do_receive_some(std::span<std::byte> buffer) override {
        auto busy = guard_.enter();
        auto closed = [this] { return st_->receiver_closed && !st_->f.receive_works_after_close; };
        if (closed()) throw trellis::closed_resource_error("toy closed");
        if (!st_->data.empty() || st_->sender_closed || st_->receiver_closed) {
            if (!st_->f.receive_skips_checkpoint_when_data_is_ready) co_await trellis::checkpoint();
        } else {
            while (st_->data.empty() && !st_->sender_closed && !st_->receiver_closed) co_await st_->lot.park();
        }
        if (closed()) throw trellis::closed_resource_error("toy closed while waiting");
        const std::size_t n = std::min(buffer.size(), st_->data.size());
        std::memcpy(buffer.data(), st_->data.data(), n);
        st_->data.erase(0, n);
        co_return n;
    }
    task<> do_aclose() override {
        st_->receiver_closed = true;
        st_->data.clear();
        st_->lot.unpark_all();
        co_await trellis::checkpoint();
    }

private:
    std::shared_ptr<toy_state> st_;
    trellis::conflict_detector guard_{"toy receive_some: busy"};
};

std::function<task<one_way_pair>()> toy_maker(flaws f) {
    return [f]() -> task<one_way_pair> {
        auto st = std::make_shared<toy_state>();
        st->f = f;
        co_return one_way_pair{std::make_unique<toy_send>(st), std::make_unique<toy_receive>(st)};
    };
}

// Runs check_one_way_stream on a toy with `f`; returns the failure message
// ("" if every check passed).
task<std::string> failure_of(flaws f) {
    try {
        co_await check_one_way_stream(toy_maker(f));
    } catch (const stream_check_failed& e) {
        co_return e.what();
    }
    co_return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TRELLIS_TEST(CheckStreams, ACorrectToyStreamPassesTheOneWayChecks) {
    std::string failure = co_await failure_of({});
    EXPECT_EQ(failure, "");
}

TRELLIS_TEST(CheckStreams, AReceiveThatSkipsItsCheckpointFailsNamingReceiveSome) {
    std::string failure = co_await failure_of({.receive_skips_checkpoint_when_data_is_ready = true});
    EXPECT_TRUE(contains(failure, "check_one_way_stream")) << failure;
    EXPECT_TRUE(contains(failure, "receive_some returned without a checkpoint")) << failure;
}

TRELLIS_TEST(CheckStreams, ASendThatYieldsButNeverChecksForCancellationFailsNamingSendAll) {
    std::string failure = co_await failure_of({.send_never_checks_cancellation = true});
    EXPECT_TRUE(contains(failure, "send_all returned without a checkpoint (it never checked for cancellation)"))
        << failure;
}

TRELLIS_TEST(CheckStreams, AReceiveThatWorksAfterCloseFailsNamingClosedResourceError) {
    std::string failure = co_await failure_of({.receive_works_after_close = true});
    EXPECT_TRUE(contains(failure, "receive_some on a closed receive stream did not raise closed_resource_error"))
        << failure;
}

TRELLIS_TEST(CheckStreams, ASendThatWorksAfterCloseFailsNamingSendAll) {
    std::string failure = co_await failure_of({.send_works_after_close = true});
    EXPECT_TRUE(contains(failure, "send_all on a closed stream did not raise closed_resource_error")) << failure;
}

TRELLIS_TEST(CheckStreams, AnEmptyMakerIsAnArgumentError) {
    bool threw = false;
    try {
        co_await check_one_way_stream({});
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    EXPECT_TRUE(threw);
}

}  // namespace
