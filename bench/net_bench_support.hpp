// Shared helpers for the networking benchmarks: loopback TCP pairs made
// with plain system calls, the file-descriptor limit, and child processes
// (the load generator, Trio's echo server) started with posix_spawn whose
// standard output the benchmark reads.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace bench {

[[noreturn]] inline void die(const char* what) {
    std::perror(what);
    std::abort();
}

inline void set_nonblocking(int fd) {
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) die("fcntl");
}

inline void set_nodelay(int fd) {
    const int one = 1;
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("setsockopt(TCP_NODELAY)");
}

// Raises the soft RLIMIT_NOFILE to `wanted` (capped at the hard limit) and
// returns the soft limit now in force.
inline rlim_t raise_fd_limit(rlim_t wanted) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) die("getrlimit");
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &limit) < 0) die("setrlimit");
    }
    return limit.rlim_cur;
}

// A listening TCP socket on 127.0.0.1 with a free port (blocking).
inline int listen_loopback(std::uint16_t& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) die("bind");
    if (::listen(fd, SOMAXCONN) < 0) die("listen");
    socklen_t size = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) < 0) die("getsockname");
    port = ntohs(address.sin_port);
    return fd;
}

// A blocking TCP connection to 127.0.0.1:port.
inline int connect_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) die("connect");
    return fd;
}

// Both ends of a loopback TCP connection, blocking, TCP_NODELAY on both.
inline std::pair<int, int> loopback_tcp_pair() {
    std::uint16_t port = 0;
    const int listener = listen_loopback(port);
    const int client = connect_loopback(port);
    const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (server < 0) die("accept4");
    ::close(listener);
    set_nodelay(client);
    set_nodelay(server);
    return {client, server};
}

// A child process whose standard output is a pipe the parent reads (out,
// non-blocking) and, if asked, whose standard input is a pipe the parent
// holds (in; closing it tells the child to finish).
struct child_process {
    pid_t pid = -1;
    int out = -1;
    int in = -1;
};

inline child_process spawn(const std::vector<std::string>& argv, bool with_stdin = false) {
    int out_pipe[2];
    int in_pipe[2] = {-1, -1};
    if (::pipe2(out_pipe, O_CLOEXEC) < 0) die("pipe2");
    if (with_stdin && ::pipe2(in_pipe, O_CLOEXEC) < 0) die("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
    if (with_stdin) posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    child_process child;
    const int err = ::posix_spawn(&child.pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        errno = err;
        die(argv[0].c_str());
    }
    ::close(out_pipe[1]);
    child.out = out_pipe[0];
    set_nonblocking(child.out);
    if (with_stdin) {
        ::close(in_pipe[0]);
        child.in = in_pipe[1];
    }
    return child;
}

// Waits for the child to exit; true if it exited with status 0.
inline bool reap(child_process& child) {
    if (child.out >= 0) ::close(child.out);
    if (child.in >= 0) ::close(child.in);
    child.out = child.in = -1;
    int status = 0;
    while (::waitpid(child.pid, &status, 0) < 0)
        if (errno != EINTR) die("waitpid");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Reads what is available on a non-blocking fd into `text`; false at end
// of file.
inline bool read_available(int fd, std::string& text) {
    char chunk[512];
    for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n > 0) {
            text.append(chunk, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) return false;
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return true;
        die("read");
    }
}

}  // namespace bench
