// Helpers shared by the networking tests.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <system_error>

#include <trellis/net.hpp>
#include <trellis/testing/check_streams.hpp>
#include <trellis/testing/open_stream_to_socket_listener.hpp>

namespace net_test {

// Whether this machine's own resolver knows "localhost" (a minimal system,
// such as a fresh debootstrap chroot, may have no /etc/hosts at all).
inline bool system_resolves_localhost() {
    addrinfo* found = nullptr;
    addrinfo hints{};
    hints.ai_family = AF_INET;
    const bool ok = ::getaddrinfo("localhost", "80", &hints, &found) == 0;
    if (found) ::freeaddrinfo(found);
    return ok;
}

// How many fds this process has open.
inline int open_fd_count() {
    int count = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++count;
        ::closedir(d);
    }
    return count - 3;  // ".", ".." and the directory's own fd
}

// A fresh directory for UNIX sockets, removed (with its contents) on destruction.
class temp_dir {
public:
    temp_dir() {
        char templ[] = "/tmp/trellis-net-XXXXXX";
        if (!::mkdtemp(templ)) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path_ = templ;
    }
    ~temp_dir() {
        if (DIR* d = ::opendir(path_.c_str())) {
            while (auto* e = ::readdir(d)) {
                const std::string name = e->d_name;
                if (name != "." && name != "..") ::unlink((path_ + "/" + name).c_str());
            }
            ::closedir(d);
        }
        ::rmdir(path_.c_str());
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Writes into fd until the kernel refuses more, again and again until a
// round takes nothing (over TCP, bytes keep moving to the peer's receive
// buffer for a moment after the first refusal).
inline void fill_until_would_block(int fd) {
    static const char chunk[65536] = {};
    for (;;) {
        std::size_t round = 0;
        // Big writes first, then single bytes: TCP may still append a few
        // bytes to its last segment after refusing a big write.
        for (std::size_t size : {sizeof chunk, std::size_t{1}}) {
            for (;;) {
                const auto n = ::send(fd, chunk, size, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n <= 0) break;
                round += static_cast<std::size_t>(n);
            }
        }
        if (round == 0) return;
        ::usleep(2000);
    }
}

// A connected TCP socket_stream pair over 127.0.0.1. (There is no clogged
// TCP pair: over loopback TCP the kernel keeps taking small writes for a
// while after refusing a big one, so "full" is not a stable state; the
// clogged checks run on UNIX socket pairs, which use the same code.)
inline trellis::task<trellis::testing::half_closeable_pair> tcp_pair() {
    auto listeners = co_await trellis::open_tcp_listeners(0, "127.0.0.1");
    auto client = std::make_unique<trellis::socket_stream>(
        co_await trellis::testing::open_stream_to_socket_listener(listeners[0]));
    auto server = std::make_unique<trellis::socket_stream>(co_await listeners[0].accept());
    co_return trellis::testing::half_closeable_pair{std::move(client), std::move(server)};
}

}  // namespace net_test
