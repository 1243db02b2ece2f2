// The stream checkers in a guest run on the real Qt event loop.
#include <trellis/qt.hpp>

#include <QCoreApplication>

#include "stream_checks.hpp"
#include "qt_loop.hpp"

namespace qt_streams_test {

// One QCoreApplication per test; Qt keeps a pointer to argc, so the
// arguments live as long as the application.
template <trellis::guest_io_mode Mode>
class qt_host {
public:
    // The runs' options: the I/O mode under test.
    static trellis::run_options options() {
        trellis::run_options o;
        o.guest_io = Mode;
        return o;
    }
    template <class Done, class F>
    void start(Done done, F fn) {
        (void)trellis::qt::start_guest_run(options(), std::move(done), std::move(fn));
    }
    bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
        return guest_test::run_qt_until(pred, timeout);
    }

private:
    int argc_ = 1;
    char name_[16] = "qt_streams_test";
    char* argv_[2] = {name_, nullptr};
    QCoreApplication app_{argc_, argv_};
};

}  // namespace qt_streams_test

namespace stream_checks {
INSTANTIATE_TYPED_TEST_SUITE_P(Qt, GuestStreamChecks,
                               ::testing::Types<qt_streams_test::qt_host<trellis::guest_io_mode::worker_thread>>);
INSTANTIATE_TYPED_TEST_SUITE_P(QtNative, GuestStreamChecks,
                               ::testing::Types<qt_streams_test::qt_host<trellis::guest_io_mode::host_native>>);
}
