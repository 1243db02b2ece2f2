// trellis::stapled_stream: a send_stream and a receive_stream joined into one
// two-way stream (Trio's StapledStream).
//
//   trellis::stapled_stream s(std::move(out), std::move(in));
//   co_await s.send_all("x");          // goes to `out`
//   auto got = co_await s.receive_some();  // comes from `in`
//
// Ownership: owns both halves (std::unique_ptr) and destroys them with
// itself. Movable (the halves stay where they are on the heap, so
// references to them stay valid); not copyable. Threads: one run's thread.
#pragma once

#include <memory>

#include "trellis/streams/stream.hpp"

namespace trellis {

class stapled_stream final : public half_closeable_stream {
public:
    // Both halves must be non-null (std::invalid_argument otherwise).
    stapled_stream(std::unique_ptr<send_stream> send_half, std::unique_ptr<receive_stream> receive_half);
    stapled_stream(stapled_stream&&) = default;
    stapled_stream& operator=(stapled_stream&&) = default;
    ~stapled_stream() override;

    // The halves; valid while this stream (or the stream it was moved to)
    // lives. Not checkpoints.
    trellis::send_stream& send_half() const noexcept { return *send_; }
    trellis::receive_stream& receive_half() const noexcept { return *receive_; }

protected:
    // send_all, wait_send_all_might_not_block: the send half's.
    task<> do_send_all(std::span<const std::byte> data) override;
    task<> do_wait_send_all_might_not_block() override;
    // receive_some: the receive half's.
    task<std::size_t> do_receive_some(std::span<std::byte> buffer) override;
    // send_eof: the send half's send_eof if it is a half_closeable_stream,
    // else its aclose().
    task<> do_send_eof() override;
    // aclose: closes the send half, then the receive half (even if closing
    // the send half failed or was cancelled).
    task<> do_aclose() override;

private:
    std::unique_ptr<trellis::send_stream> send_;
    std::unique_ptr<trellis::receive_stream> receive_;
};

}  // namespace trellis
