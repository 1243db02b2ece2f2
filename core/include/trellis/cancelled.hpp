// trellis::cancelled: what a checkpoint throws inside a cancelled scope.
//
// It deliberately does not derive from std::exception, so the usual
// `catch (const std::exception&)` lets it pass; it plays the part of Trio's
// BaseException-derived Cancelled. Code that catches `...` must rethrow it.
// Users cannot construct one: only the scheduler raises it, and the cancel
// scope that was cancelled catches it again. Catching and swallowing it does
// no lasting harm either: cancellation is level-triggered, so the next
// checkpoint inside the scope throws it again.
#pragma once

namespace trellis {

namespace detail {
struct cancelled_factory;
}

class cancelled {
public:
    cancelled(const cancelled&) = default;
    cancelled& operator=(const cancelled&) = default;
    const char* what() const noexcept { return "trellis::cancelled"; }

private:
    cancelled() = default;
    friend struct detail::cancelled_factory;
};

}  // namespace trellis
