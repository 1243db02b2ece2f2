// expect: not an already-created task
#include <trellis/guest.hpp>
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
void start(trellis::guest_host host) {
    trellis::start_guest_run(std::move(host), [](trellis::outcome<int>) {}, child(1));
}
