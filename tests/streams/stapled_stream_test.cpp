// stapled_stream: two one-way streams as one.
#include <trellis/streams.hpp>
#include <trellis/testing/gtest.hpp>
#include <trellis/testing/memory_stream.hpp>
#include <trellis/trellis.hpp>

#include <memory>
#include <stdexcept>
#include <string>

using trellis::task;
using trellis::testing::memory_receive_stream;
using trellis::testing::memory_send_stream;

namespace {

struct parts {
    memory_send_stream* out;
    memory_receive_stream* in;
    trellis::stapled_stream stapled;
};

parts make_stapled() {
    auto out = std::make_unique<memory_send_stream>();
    auto in = std::make_unique<memory_receive_stream>();
    auto* o = out.get();
    auto* i = in.get();
    return {o, i, trellis::stapled_stream(std::move(out), std::move(in))};
}

TRELLIS_TEST(StapledStream, SendAllGoesToTheSendHalf) {
    auto p = make_stapled();
    co_await p.stapled.send_all("hello");
    EXPECT_EQ(p.out->get_data_nowait(), "hello");
}

TRELLIS_TEST(StapledStream, ReceiveSomeComesFromTheReceiveHalf) {
    auto p = make_stapled();
    p.in->put_data("world");
    std::string got = co_await p.stapled.receive_some();
    EXPECT_EQ(got, "world");
}

TRELLIS_TEST(StapledStream, SendEofClosesASendHalfThatCannotHalfClose) {
    auto p = make_stapled();
    co_await p.stapled.send_eof();
    EXPECT_EQ(p.out->get_data_nowait(), "");  // closed and empty: end of data
}

TRELLIS_TEST(StapledStream, AcloseClosesBothHalves) {
    auto p = make_stapled();
    co_await p.stapled.aclose();
    EXPECT_THROW(p.in->put_data("x"), trellis::closed_resource_error);
    EXPECT_EQ(p.out->get_data_nowait(), "");
}

TRELLIS_TEST(StapledStream, AMovedStreamKeepsItsHalves) {
    auto p = make_stapled();
    trellis::stapled_stream moved(std::move(p.stapled));
    co_await moved.send_all("x");
    EXPECT_EQ(&moved.send_half(), static_cast<trellis::send_stream*>(p.out));
    EXPECT_EQ(p.out->get_data_nowait(), "x");
}

TEST(StapledStream, RejectsANullHalf) {
    EXPECT_THROW((trellis::stapled_stream{nullptr, std::make_unique<memory_receive_stream>()}), std::invalid_argument);
}

}  // namespace
