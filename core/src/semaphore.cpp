// semaphore, built only on the low-level API (parking_lot, checkpoints).

#include "trellis/semaphore.hpp"

#include <stdexcept>

#include "trellis/errors.hpp"

namespace trellis {

semaphore::semaphore(std::size_t initial_value, std::optional<std::size_t> max_value)
    : value_(initial_value), max_(max_value) {
    if (max_ && initial_value > *max_)
        throw std::invalid_argument("semaphore: initial value exceeds the maximum");
}

void semaphore::acquire_nowait() {
    if (value_ == 0) throw would_block("semaphore has no permit free");
    --value_;
}

void semaphore::release() {
    if (lot_) {
        lot_.unpark_one();
        return;
    }
    if (max_ && value_ >= *max_)
        throw run_error("semaphore::release: released more times than acquired (would exceed the maximum value)");
    ++value_;
}

}  // namespace trellis
