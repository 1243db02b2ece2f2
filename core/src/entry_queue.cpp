#include "entry_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "trellis/errors.hpp"

namespace trellis::detail {

entry_queue::entry_queue() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "trellis: eventfd");
}

entry_queue::~entry_queue() { ::close(fd_); }

void entry_queue::post(std::function<void()> fn) {
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            throw run_error(
                "token::run_sync_soon: the trellis run this token belongs to has finished");
        queue_.push_back(std::move(fn));
    }
    wake();
}

void entry_queue::post_idempotent(std::shared_ptr<idempotent_callback> callback) {
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            throw run_error(
                "token::run_sync_soon: the trellis run this token belongs to has finished");
        for (const auto& queued : idempotent_)
            if (queued->same_as(*callback)) return;
        idempotent_.push_back(callback);
        queue_.push_back([callback] { (*callback)(); });
    }
    wake();
}

void entry_queue::wake() noexcept {
    if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
    std::uint64_t one = 1;
    // EAGAIN (counter full) still leaves the fd readable, which is all we need.
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
}

std::vector<std::function<void()>> entry_queue::take() {
    // Drain the eventfd before clearing the flag: the other order would let
    // a wake() in between write the eventfd, have that write drained here,
    // and leave the flag set with the eventfd empty; every later wake()
    // would then skip its write and the run could sleep through a post.
    std::uint64_t count;
    [[maybe_unused]] auto n = ::read(fd_, &count, sizeof count);
    wake_pending_.store(false, std::memory_order_release);
    std::vector<std::function<void()>> taken;
    std::lock_guard lock(mutex_);
    taken.swap(queue_);
    idempotent_.clear();
    return taken;
}

std::size_t entry_queue::size() {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::vector<std::function<void()>> entry_queue::close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    std::vector<std::function<void()>> taken;
    taken.swap(queue_);
    idempotent_.clear();
    return taken;
}

}  // namespace trellis::detail
