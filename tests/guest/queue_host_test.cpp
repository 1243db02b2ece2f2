// The conformance suite on the plain queue host.
#include "queue_host.hpp"

#include "conformance.hpp"

namespace queue_host_test {

class queue_fixture {
public:
    template <class Done, class F>
    trellis::guest_run start(const trellis::run_options& options, Done done, F fn) {
        run_.emplace(trellis::start_guest_run(options, loop_->host(), std::move(done), std::move(fn)));
        return *run_;
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return loop_->run_until(pred, timeout);
    }
    void call_soon(std::function<void()> fn) { loop_->post(std::move(fn)); }
    void call_later(std::chrono::milliseconds delay, std::function<void()> fn) {
        timers_.emplace_back([this, delay, fn = std::move(fn)]() mutable {
            std::this_thread::sleep_for(delay);
            loop_->post(std::move(fn));
        });
    }
    // An application shutting down: pending callbacks are destroyed unrun
    // and the adapter learns that its loop is gone.
    void destroy_loop() {
        loop_->destroy();
        if (run_) run_->host_gone();
    }
    ~queue_fixture() {
        for (auto& t : timers_) t.join();
        if (run_ && !run_->finished()) destroy_loop();
    }

private:
    std::unique_ptr<trellis::testing::queue_host> loop_ = std::make_unique<trellis::testing::queue_host>();
    std::optional<trellis::guest_run> run_;
    std::vector<std::thread> timers_;
};

}  // namespace queue_host_test

namespace conformance {
INSTANTIATE_TYPED_TEST_SUITE_P(QueueHost, GuestConformance, ::testing::Types<queue_host_test::queue_fixture>);
}
