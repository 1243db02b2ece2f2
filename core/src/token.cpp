#include "trellis/token.hpp"

#include "entry_queue.hpp"
#include "runner.hpp"

namespace trellis {

token current_token() { return token(detail::current_runner_or_throw("trellis::current_token").entries()); }

void token::run_sync_soon(std::function<void()> fn) const {
    if (!fn) throw run_error("token::run_sync_soon: empty function");
    queue_->post(std::move(fn));
}

void token::post_idempotent(std::shared_ptr<detail::idempotent_callback> callback) const {
    queue_->post_idempotent(std::move(callback));
}

}  // namespace trellis
