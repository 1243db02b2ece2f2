// trellis::net::socket: a non-blocking socket that owns its file descriptor
// (Trio's trio.socket.SocketType).
//
//   auto s = net::socket::create(AF_INET, SOCK_STREAM);
//   co_await s.connect(net::socket_address::parse("127.0.0.1:8080"));
//   co_await s.send(std::as_bytes(std::span(text)));
//
// Every blocking operation first tries the system call and waits
// (wait_readable / wait_writable) only when it reports EAGAIN; each one is
// a checkpoint: it raises cancelled if the task is already cancelled,
// before doing anything, and lets other tasks run after success. If it is
// cancelled while waiting, nothing was done (connect excepted: see there).
//
// Errors: failed system calls throw std::system_error (with the errno
// code); bind, connect and listen name the address in the message. Using a
// closed socket in an async operation throws closed_resource_error;
// closing a socket while another task waits on it wakes that task with
// closed_resource_error. Two tasks waiting to read (or to write) the same
// socket at once: busy_resource_error.
//
// Arguments that a coroutine keeps (addresses) are taken by value, so a
// temporary passed in cannot dangle while the operation waits.
//
// Ownership: a socket owns its fd; it is movable (but not while one of its
// operations is in progress: the operation refers to the object), not
// copyable; the destructor closes the fd at once (no graceful shutdown) and
// never blocks.
// The fd is always non-blocking and close-on-exec. Threads: use it on the
// thread of the run that waits on it.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "trellis/net/socket_address.hpp"
#include "trellis/task.hpp"

namespace trellis::net {

class socket {
public:
    // A closed socket (no fd).
    socket() noexcept = default;
    socket(socket&& other) noexcept;
    socket& operator=(socket&& other) noexcept;
    socket(const socket&) = delete;
    socket& operator=(const socket&) = delete;
    // Closes the fd at once (see close()).
    ~socket();

    // A new OS socket (socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC). Does
    // not consult the custom socket factory (make_socket does). Not a
    // checkpoint. Throws std::system_error.
    static socket create(int family = AF_INET, int type = SOCK_STREAM, int protocol = 0);
    // A connected pair (socketpair(2)). Not a checkpoint. Throws std::system_error.
    static std::pair<socket, socket> socketpair(int family = AF_UNIX, int type = SOCK_STREAM, int protocol = 0);
    // Takes ownership of an open socket fd, makes it non-blocking and
    // close-on-exec, and reads its family, type and protocol. Not a
    // checkpoint. Throws std::system_error (the fd is then closed too).
    static socket from_fd(int fd);

    // The fd, or -1 once closed. The socket still owns it.
    int fileno() const noexcept { return fd_; }
    bool is_closed() const noexcept { return fd_ < 0; }
    int family() const noexcept { return family_; }
    int type() const noexcept { return type_; }
    int protocol() const noexcept { return protocol_; }
    // Gives up ownership: returns the fd (-1 if closed) and leaves the
    // socket closed without closing the fd.
    int detach() noexcept;
    // Closes the fd now: tasks waiting on it wake with
    // closed_resource_error (lowlevel::notify_closing, inside a run), then
    // close(2). Idempotent. Not a checkpoint; never blocks.
    void close() noexcept;

    // bind(2). Not a checkpoint. Throws std::system_error naming the
    // address ("address already in use" included).
    void bind(const socket_address& address);
    // listen(2). Not a checkpoint. Throws std::system_error.
    void listen(int backlog = SOMAXCONN);
    // Waits for an incoming connection; returns the new (non-blocking,
    // close-on-exec) socket and its peer's address. A checkpoint.
    task<std::pair<socket, socket_address>> accept();
    // Connects to `address`. A checkpoint. If it is cancelled while the
    // connection is in progress, the socket is closed (a half-made
    // connection cannot be taken back), as in Trio. Throws std::system_error
    // naming the address ("connection refused: 127.0.0.1:1" and the like).
    task<> connect(socket_address address);

    // Receives up to buffer.size() bytes; 0 means end of file (or an empty
    // datagram). A checkpoint.
    task<std::size_t> recv_into(std::span<std::byte> buffer, int flags = 0);
    // The same into a new string of at most max_bytes.
    task<std::string> recv(std::size_t max_bytes, int flags = 0);
    // One send(2) with MSG_NOSIGNAL: sends some of `data` (at least one byte
    // unless data is empty) and returns how many. A checkpoint.
    task<std::size_t> send(std::span<const std::byte> data, int flags = 0);
    // recvfrom(2): the byte count and the sender. A checkpoint.
    task<std::pair<std::size_t, socket_address>> recvfrom_into(std::span<std::byte> buffer, int flags = 0);
    task<std::pair<std::string, socket_address>> recvfrom(std::size_t max_bytes, int flags = 0);
    // sendto(2) with MSG_NOSIGNAL. A checkpoint.
    task<std::size_t> sendto(std::span<const std::byte> data, socket_address to, int flags = 0);

    // shutdown(2) (SHUT_RD, SHUT_WR, SHUT_RDWR). Not a checkpoint. Throws
    // std::system_error.
    void shutdown(int how);
    // setsockopt(2) / getsockopt(2) with an int value, or raw bytes. Not
    // checkpoints. Throw std::system_error.
    void setsockopt(int level, int name, int value);
    void setsockopt(int level, int name, const void* value, socklen_t size);
    int getsockopt(int level, int name) const;
    socklen_t getsockopt(int level, int name, void* value, socklen_t size) const;
    // getsockname(2) / getpeername(2). Not checkpoints. Throw std::system_error.
    socket_address local_address() const;
    socket_address peer_address() const;

    // Wait for the fd (see trellis::wait_readable). Checkpoints. Throw
    // closed_resource_error if the socket is or gets closed.
    task<> wait_readable();
    task<> wait_writable();

private:
    socket(int fd, int family, int type, int protocol) noexcept
        : fd_(fd), family_(family), type_(type), protocol_(protocol) {}
    // Invariant: fd_ >= 0 exactly while the socket owns an open fd.
    int fd_ = -1;
    int family_ = AF_UNSPEC;
    int type_ = 0;
    int protocol_ = 0;
};

// Trio's custom socket factory hook: what make_socket calls instead of
// socket::create, if installed. A factory must return real sockets (for
// example ones with extra options set, or counted by a test).
class socket_factory {
public:
    virtual ~socket_factory() = default;
    virtual socket make_socket(int family, int type, int protocol) = 0;
};

// Installs `factory` for the current run (null uninstalls) and returns the
// previous one. The high-level helpers (open_tcp_stream,
// open_tcp_listeners, open_unix_socket) create sockets through make_socket.
// Not a checkpoint. Throws run_error outside a run; run's thread only.
std::shared_ptr<socket_factory> set_custom_socket_factory(std::shared_ptr<socket_factory> factory);

// A new socket from the run's custom factory if one is installed, else
// socket::create. Not a checkpoint. Throws what the factory or socket(2)
// throws; run_error outside a run.
socket make_socket(int family = AF_INET, int type = SOCK_STREAM, int protocol = 0);

}  // namespace trellis::net
