// The stream checkers in a guest run: written once, instantiated for every
// host (the queue host, Qt, GLib, libevent), each on its real loop. Every
// kind of stream trellis has must pass its checker unchanged in guest mode.
//
// A host fixture H provides, on the test thread (the host thread):
//   template <class Done, class F> void start(Done done, F fn)
//       starts a guest run of fn through that host's own adapter;
//   bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout)
//       runs the host's real loop until pred() or timeout.
// The Qt, GLib and libevent fixtures are templates on the I/O mode
// (run_options::guest_io), instantiated once per mode.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include <trellis/guest.hpp>
#include <trellis/trellis.hpp>

#include "../net/stream_makers.hpp"

namespace stream_checks {

using namespace std::chrono_literals;
using trellis::task;

template <class H>
class GuestStreamChecks : public ::testing::Test {
protected:
    // Runs fn() as a guest run on the host and fails the test if it does not
    // finish within a minute or finishes with an error.
    template <class F>
    void run_in_guest(F fn) {
        std::optional<trellis::outcome<void>> result;
        host.start([&](trellis::outcome<void> o) { result.emplace(std::move(o)); }, std::move(fn));
        ASSERT_TRUE(host.run_until([&] { return result.has_value(); }, 60s)) << "the guest run did not finish";
        try {
            result->unwrap();
        } catch (const std::exception& e) {
            ADD_FAILURE() << "the guest run raised: " << e.what();
        }
    }

    H host;
};

TYPED_TEST_SUITE_P(GuestStreamChecks);

TYPED_TEST_P(GuestStreamChecks, MemoryStreamsPassTheHalfCloseableChecks) {
    this->run_in_guest([]() { return trellis::testing::check_half_closeable_stream(net_test::memory_pair); });
}

TYPED_TEST_P(GuestStreamChecks, LockstepStreamsPassTheTwoWayChecksIncludingCloggedOnes) {
    this->run_in_guest([]() {
        return trellis::testing::check_two_way_stream(net_test::lockstep_pair, net_test::lockstep_pair);
    });
}

TYPED_TEST_P(GuestStreamChecks, TcpSocketStreamsPassTheHalfCloseableChecks) {
    this->run_in_guest([]() { return trellis::testing::check_half_closeable_stream(net_test::tcp_pair); });
}

TYPED_TEST_P(GuestStreamChecks, UnixSocketpairStreamsPassTheHalfCloseableChecksIncludingCloggedOnes) {
    this->run_in_guest([]() {
        return trellis::testing::check_half_closeable_stream(net_test::unix_pair, net_test::clogged_unix_pair);
    });
}

TYPED_TEST_P(GuestStreamChecks, UnixListenerStreamsPassTheHalfCloseableChecks) {
    net_test::unix_listener_pairs make;
    this->run_in_guest([&make]() { return trellis::testing::check_half_closeable_stream(std::ref(make)); });
}

TYPED_TEST_P(GuestStreamChecks, PipeFdStreamsPassTheOneWayChecksIncludingCloggedOnes) {
    this->run_in_guest([]() {
        return trellis::testing::check_one_way_stream(net_test::pipe_pair, net_test::clogged_pipe_pair);
    });
}

TYPED_TEST_P(GuestStreamChecks, StapledPipesPassTheTwoWayChecks) {
    this->run_in_guest([]() { return trellis::testing::check_two_way_stream(net_test::stapled_pipes); });
}

REGISTER_TYPED_TEST_SUITE_P(GuestStreamChecks, MemoryStreamsPassTheHalfCloseableChecks,
                            LockstepStreamsPassTheTwoWayChecksIncludingCloggedOnes, TcpSocketStreamsPassTheHalfCloseableChecks,
                            UnixSocketpairStreamsPassTheHalfCloseableChecksIncludingCloggedOnes,
                            UnixListenerStreamsPassTheHalfCloseableChecks, PipeFdStreamsPassTheOneWayChecksIncludingCloggedOnes,
                            StapledPipesPassTheTwoWayChecks);

}  // namespace stream_checks
