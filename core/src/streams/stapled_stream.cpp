#include "trellis/streams/stapled_stream.hpp"

#include <stdexcept>

#include "trellis/finally.hpp"

namespace trellis {

stapled_stream::stapled_stream(std::unique_ptr<trellis::send_stream> send_half,
                               std::unique_ptr<trellis::receive_stream> receive_half)
    : send_(std::move(send_half)), receive_(std::move(receive_half)) {
    if (!send_ || !receive_) throw std::invalid_argument("stapled_stream: both halves must be non-null");
}

stapled_stream::~stapled_stream() = default;

task<> stapled_stream::do_send_all(std::span<const std::byte> data) { return send_->send_all(data); }

task<> stapled_stream::do_wait_send_all_might_not_block() { return send_->wait_send_all_might_not_block(); }

task<std::size_t> stapled_stream::do_receive_some(std::span<std::byte> buffer) {
    return receive_->receive_some(buffer);
}

task<> stapled_stream::do_send_eof() {
    if (auto* half_closeable = dynamic_cast<half_closeable_stream*>(send_.get())) return half_closeable->send_eof();
    return send_->aclose();
}

task<> stapled_stream::do_aclose() {
    co_await finally([this]() { return send_->aclose(); }, [this]() { return receive_->aclose(); });
}

}  // namespace trellis
