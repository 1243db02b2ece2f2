// Connected stream pairs of every kind trellis has, as makers for the
// stream checkers: memory, lockstep, TCP and UNIX sockets, pipes. Shared by
// the standalone tests and the guest runs on every host.
#pragma once

#include "net_test_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include <trellis/net.hpp>
#include <trellis/testing/check_streams.hpp>
#include <trellis/testing/lockstep_stream.hpp>
#include <trellis/testing/memory_stream.hpp>

namespace net_test {

// memory_stream_pair, each end stapled into one half-closeable stream.
inline trellis::task<trellis::testing::half_closeable_pair> memory_pair() {
    auto pair = trellis::testing::memory_stream_pair();
    co_return trellis::testing::half_closeable_pair{std::make_unique<trellis::stapled_stream>(std::move(pair.first)),
                                                    std::make_unique<trellis::stapled_stream>(std::move(pair.second))};
}

// lockstep_stream_pair: no buffer, so it is its own clogged pair.
inline trellis::task<trellis::testing::two_way_pair> lockstep_pair() {
    auto pair = trellis::testing::lockstep_stream_pair();
    co_return trellis::testing::two_way_pair{std::make_unique<trellis::stapled_stream>(std::move(pair.first)),
                                             std::make_unique<trellis::stapled_stream>(std::move(pair.second))};
}

// A UNIX socketpair as two socket streams.
inline trellis::task<trellis::testing::half_closeable_pair> unix_pair() {
    auto pair = trellis::net::socket::socketpair(AF_UNIX, SOCK_STREAM);
    co_return trellis::testing::half_closeable_pair{std::make_unique<trellis::socket_stream>(std::move(pair.first)),
                                                    std::make_unique<trellis::socket_stream>(std::move(pair.second))};
}

// The same with both directions' buffers full.
inline trellis::task<trellis::testing::half_closeable_pair> clogged_unix_pair() {
    auto pair = co_await unix_pair();
    fill_until_would_block(static_cast<trellis::socket_stream&>(*pair.first).socket().fileno());
    fill_until_would_block(static_cast<trellis::socket_stream&>(*pair.second).socket().fileno());
    co_return pair;
}

// Pairs made through open_unix_listener and open_unix_socket, each on a
// fresh path in one temporary directory. Owns the directory; must outlive
// the check that uses it.
class unix_listener_pairs {
public:
    trellis::task<trellis::testing::half_closeable_pair> operator()() {
        const std::string path = dir_.path() + "/s" + std::to_string(count_++);
        auto listener = trellis::open_unix_listener(path);
        auto client = std::make_unique<trellis::socket_stream>(co_await trellis::open_unix_socket(path));
        auto server = std::make_unique<trellis::socket_stream>(co_await listener.accept());
        co_return trellis::testing::half_closeable_pair{std::move(client), std::move(server)};
    }

private:
    temp_dir dir_;
    int count_ = 0;
};

// A new pipe: {read end, write end}, close-on-exec.
inline std::pair<int, int> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    return {fds[0], fds[1]};
}

// A pipe as a one-way pair of fd_streams.
inline trellis::task<trellis::testing::one_way_pair> pipe_pair() {
    const auto [r, w] = make_pipe();
    co_return trellis::testing::one_way_pair{std::make_unique<trellis::fd_stream>(w),
                                             std::make_unique<trellis::fd_stream>(r)};
}

// The same with the pipe's buffer full.
inline trellis::task<trellis::testing::one_way_pair> clogged_pipe_pair() {
    const auto [r, w] = make_pipe();
    auto writer = std::make_unique<trellis::fd_stream>(w);  // non-blocking from here on
    static const char chunk[4096] = {};
    while (::write(w, chunk, sizeof chunk) > 0) {
    }
    co_return trellis::testing::one_way_pair{std::move(writer), std::make_unique<trellis::fd_stream>(r)};
}

// Two pipes stapled into two connected two-way streams.
inline trellis::task<trellis::testing::two_way_pair> stapled_pipes() {
    const auto [r1, w1] = make_pipe();
    const auto [r2, w2] = make_pipe();
    co_return trellis::testing::two_way_pair{
        std::make_unique<trellis::stapled_stream>(std::make_unique<trellis::fd_stream>(w1),
                                                  std::make_unique<trellis::fd_stream>(r2)),
        std::make_unique<trellis::stapled_stream>(std::make_unique<trellis::fd_stream>(w2),
                                                  std::make_unique<trellis::fd_stream>(r1))};
}

}  // namespace net_test
