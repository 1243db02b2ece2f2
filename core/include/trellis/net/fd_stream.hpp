// trellis::fd_stream: a pipe, terminal or other pollable fd as a stream
// (Trio's FdStream).
//
//   int fds[2]; pipe(fds);
//   trellis::fd_stream reader(fds[0]), writer(fds[1]);
//
// Takes ownership of the fd and puts it in non-blocking mode; closing the
// stream puts the fd's original blocking mode back, then closes it (the
// mode belongs to the open file, which a dup or a forked child may share:
// wrap a shared fd such as stdin only if nobody else uses it meanwhile).
// On-disk files are not pollable; use a thread for them.
//
// Follows the stream contract; write errors other than EAGAIN (EPIPE: the
// reader is gone) become broken_resource_error. A one-way fd (a pipe end)
// simply fails the direction it lacks.
//
// Ownership: owns the fd; movable (while no operation is in progress), not
// copyable; the destructor closes it at once. Threads: one run's thread.
#pragma once

#include "trellis/streams/conflict_detector.hpp"
#include "trellis/streams/stream.hpp"

namespace trellis {

class fd_stream final : public stream {
public:
    // Takes ownership of fd and makes it non-blocking. Not a checkpoint.
    // Throws std::invalid_argument for a negative fd, std::system_error if
    // fcntl fails (the fd is then left open, still the caller's).
    explicit fd_stream(int fd);
    fd_stream(fd_stream&& other) noexcept;
    fd_stream& operator=(fd_stream&& other) noexcept;
    ~fd_stream() override;

    // The fd, or -1 once closed.
    int fileno() const noexcept { return fd_; }
    // Closes at once (restoring the blocking mode); tasks waiting on it wake
    // with closed_resource_error. Idempotent; not a checkpoint.
    void close() noexcept;

protected:
    task<> do_send_all(std::span<const std::byte> data) override;
    task<> do_wait_send_all_might_not_block() override;
    task<std::size_t> do_receive_some(std::span<std::byte> buffer) override;
    task<> do_aclose() override;

private:
    // Invariant: fd_ >= 0 exactly while the stream owns an open fd.
    int fd_ = -1;
    bool was_blocking_ = false;
    conflict_detector send_guard_{"fd_stream: another task is already in send_all or wait_send_all_might_not_block"};
    conflict_detector receive_guard_{"fd_stream::receive_some: another task is already receiving"};
};

}  // namespace trellis
