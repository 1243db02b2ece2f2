// The non-virtual front of receive_stream.
#include "trellis/streams/stream.hpp"

#include <stdexcept>

namespace trellis {

task<std::size_t> receive_stream::receive_some(std::span<std::byte> buffer) {
    // Checked before the task exists, so the error does not depend on the
    // implementation remembering to check.
    if (buffer.empty())
        throw std::invalid_argument(
            "receive_stream::receive_some: the buffer is empty; pass at least one byte of room");
    return do_receive_some(buffer);
}

task<std::string> receive_stream::receive_some(std::size_t max_bytes) {
    if (max_bytes == 0)
        throw std::invalid_argument("receive_stream::receive_some: max_bytes is 0; ask for at least 1 byte");
    return receive_owned(max_bytes);
}

task<std::string> receive_stream::receive_owned(std::size_t max_bytes) {
    std::string out(max_bytes, '\0');
    const std::size_t n = co_await do_receive_some(std::as_writable_bytes(std::span(out)));
    out.resize(n);
    co_return out;
}

}  // namespace trellis
